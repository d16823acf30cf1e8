// The browser test's helpers (e2e/run.mjs): screenshots, polling, the
// editor's controls as a user works them, and named steps.

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

export const STEP_TIMEOUT_MS = 10_000;

// ---- Helpers.
export const screenshots = [];
let artifacts;
/** The page every helper drives (set once it is open). */
export let page;

/** Where screenshots go: `dir`, emptied of an earlier run's (a FAILED.png of an earlier run would mislead). */
export function useArtifacts(dir) {
  artifacts = dir;
  mkdirSync(dir, { recursive: true });
  for (const old of readdirSync(dir).filter((f) => f.endsWith('.png'))) {
    rmSync(path.join(dir, old), { force: true });
  }
}

/** The page the helpers drive from now on. */
export function usePage(p) {
  page = p;
}

export async function shot(name, locator) {
  // Click the empty margin first, as a user would, so no focus tooltip covers the editor.
  await page.mouse.click(2, 2);
  const file = path.join(artifacts, `${name}.png`);
  await (locator ?? page).screenshot({ path: file, ...(locator ? {} : { fullPage: true }) });
  screenshots.push(file);
}

/** Polls `read` until `ok(value)`; on timeout returns the last value (the caller asserts it for a diff). */
export async function until(read, ok, timeout = STEP_TIMEOUT_MS) {
  const end = Date.now() + timeout;
  let value = await read();
  while (!ok(value) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

export const isDeepEqual = (a, b) => {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
};

export const emitted = () => page.evaluate(() => window.__e2e.query ?? null);

export async function expectQuery(expected) {
  const q = await until(emitted, (v) => isDeepEqual(v, expected));
  assert.deepStrictEqual(q, expected, 'the query object the editor emitted');
}

export const previewText = () =>
  page.evaluate(() => document.querySelector('[data-testid="flowlens-rendered-query"]')?.textContent ?? null);
export const renderErrorText = () =>
  page.evaluate(() => document.querySelector('[data-testid="flowlens-render-error"]')?.textContent ?? null);

export async function expectPreview(expected) {
  const text = await until(previewText, (v) => v === expected);
  assert.equal(text, expected, 'the preview (rendered by the backend)');
  assert.equal(await renderErrorText(), null, 'no render error');
}

/** The last `render` resource call the page made, and its answer. */
export const lastRender = () =>
  page.evaluate(() => [...window.__e2e.requests].reverse().find((r) => r.url.endsWith('/resources/render')) ?? null);

/** Clicks an option of the RadioButtonGroup labelled `group` (the transparent radio input over its label takes the click). */
export async function radio(group, option) {
  await page.getByRole('radiogroup', { name: group, exact: true }).getByRole('radio', { name: option, exact: true }).click();
}

/** Flips the switch labelled `name` by clicking the visible toggle (its label, drawn over the checkbox). */
export async function toggle(name) {
  await page.getByRole('switch', { name, exact: true }).locator('xpath=following-sibling::label').click();
}

/** Picks `option` in the Select labelled `label`: click, type, click the option. */
export async function choose(label, option) {
  await page.getByLabel(label, { exact: true }).click();
  await page.keyboard.type(option);
  await page.getByRole('option').filter({ hasText: new RegExp(`^${option}`) }).first().click();
}

/** Replaces the text of the input labelled `label` by typing, then leaves it (Tab), as a user does. */
export async function typeInto(label, text, { blur = true } = {}) {
  const input = page.getByRole('textbox', { name: label, exact: true });
  await input.click();
  await input.press('ControlOrMeta+a');
  await input.press('Backspace');
  await input.pressSequentially(text);
  if (blur) {
    await input.press('Tab');
  }
}

// ---- The raw query editor: @grafana/ui's CodeEditor (Monaco), bundled into the page.
export const rawEditor = () => page.getByTestId('flowlens-raw-query');

/** The raw query editor's text and language, through Monaco's API (null while it is not there). */
export const rawState = () =>
  page.evaluate(() => {
    const editor = window.monaco?.editor
      .getEditors()
      .find((e) => e.getContainerDomNode().closest('[data-testid="e2e-query-editor"] [data-testid="flowlens-raw-query"]'));
    const model = editor?.getModel();
    return model ? { text: model.getValue(), language: model.getLanguageId() } : null;
  });

/** The labels of the completion suggestions shown. */
export const suggestions = () => page.locator('.suggest-widget.visible .monaco-list-row .label-name').allTextContents();

/**
 * Replaces the raw query's text by typing it, as a user does (Monaco closes
 * brackets and quotes; typing the closing one steps over it), then leaves
 * the editor by clicking the page's margin (Tab indents in a code editor).
 */
export async function typeRaw(text, { blur = true } = {}) {
  await rawEditor().locator('.view-lines').click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text);
  if (blur) {
    await page.keyboard.press('Escape');
    await page.mouse.click(2, 2);
  }
}

export const steps = [];
export async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
  } catch (e) {
    console.log(`FAIL ${name} (${Date.now() - t0} ms)`);
    try {
      await shot('FAILED');
    } catch {
      // the page may be gone
    }
    throw e;
  }
  steps.push(name);
  console.log(`ok   ${name} (${Date.now() - t0} ms)`);
}
