#!/usr/bin/env node
// The browser test: headless Chromium (Debian's, driven by playwright-core)
// opens the test page (e2e/page.tsx) served by the bridge of
// tests/browser.rs, uses the query editor and the settings editor as a user
// would, and checks after each step
//   - the query object the editor emitted (window.__e2e.query), and
//   - the preview text, which the real plugin backend renders (`render`
//     resource), against the exact LogsQL the Rust CLI prints for the same
//     query (`flowlens render`), and
//   - that the backend's own error message reaches the editor, and
//   - as a dashboard variable: the variable editor's emitted query and the
//     values `ds.variables.query` returns, against the Rust reference's top pods.
// Screenshots go to test-artifacts/browser/ (or --artifacts DIR).
//
// Usage: node e2e/run.mjs --url http://127.0.0.1:PORT [--records N] [--top-pods JSON] [--artifacts DIR]
//   --records N       the record count "Save & test" must report (the fixture's lines)
//   --top-pods JSON   the variable's expected values: a JSON array, the top 5
//                     pkt_dstaddr by bytes into the pods (tests/common/reference.rs)
//   CHROMIUM=/path overrides /usr/bin/chromium.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

import { lines, EXPECTED, REGEX_FILTER, POD_FILTER, BASE } from './expected.mjs';
import {
  STEP_TIMEOUT_MS,
  choose,
  emitted,
  expectPreview,
  expectQuery,
  isDeepEqual,
  lastRender,
  page,
  previewText,
  radio,
  rawEditor,
  rawState,
  renderErrorText,
  screenshots,
  shot,
  step,
  steps,
  suggestions,
  toggle,
  typeInto,
  typeRaw,
  until,
  useArtifacts,
  usePage,
} from './helpers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    records: { type: 'string' },
    'top-pods': { type: 'string' },
    // {"ACCEPT": n, "REJECT": m, "-": k}: records per action over the day on the NAT ENI (the Rust reference).
    volume: { type: 'string' },
    // {"table": [[local_name, bytes], ...], "edges": [[source, target, bytes], ...]}: the names panels (the Rust reference).
    names: { type: 'string' },
    artifacts: { type: 'string', default: path.join(here, '../../test-artifacts/browser') },
  },
});
if (!args.url) {
  console.error('usage: node e2e/run.mjs --url http://127.0.0.1:PORT [--records N] [--top-pods JSON] [--artifacts DIR]');
  process.exit(2);
}
const TOP_PODS = args['top-pods'] === undefined ? null : JSON.parse(args['top-pods']);
if (TOP_PODS !== null && !(Array.isArray(TOP_PODS) && TOP_PODS.length === 5 && TOP_PODS.every((p) => typeof p === 'string'))) {
  console.error(`--top-pods must be a JSON array of 5 strings, not ${args['top-pods']}`);
  process.exit(2);
}
const VOLUME = args.volume === undefined ? null : JSON.parse(args.volume);
const NAMES = args.names === undefined ? null : JSON.parse(args.names);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.error(`no Chromium at ${CHROMIUM}: install it with \`apt-get update && apt-get install -y chromium\` (as root), or set CHROMIUM`);
  process.exit(2);
}

// The fixture's day (tests/common/data.rs FROM_MS, TO_MS): the panel's time range.
const FROM = Date.UTC(2026, 10, 20);
const TO = FROM + 86_400_000;
const UID = 'flowlens';
const PAGE_URL = `${args.url.replace(/\/$/, '')}/?uid=${UID}&from=${FROM}&to=${TO}`;

// ---- The run.
useArtifacts(args.artifacts);
const started = Date.now();
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  // playwright-core makes a fresh --user-data-dir for each launch.
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  timeout: 30_000,
});
const pageErrors = [];
const consoleErrors = [];
const workerLoads = [];
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Only the bridge: anything else would be a request off this machine.
  await context.route(
    (url) => !url.href.startsWith(args.url),
    (route) => {
      pageErrors.push(`request outside the bridge: ${route.request().url()}`);
      return route.abort();
    }
  );
  usePage(await context.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('pageerror', (e) => pageErrors.push(String(e?.stack ?? e)));
  page.on('console', (m) => {
    // Grafana's web fonts are not on the page (the system font is used instead).
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) {
      consoleErrors.push(m.text());
    }
  });
  // Monaco's editor worker: a bundled script of the page (no fallback to the main thread).
  page.on('response', (r) => {
    if (r.url().endsWith('/editor.worker.js')) {
      workerLoads.push(r.status());
    }
  });
  page.on('requestfailed', (r) => {
    if (!r.url().includes('/public/fonts/')) {
      pageErrors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
    }
  });

  await step('the page renders the query editor; the preview is the new query the backend renders', async () => {
    await page.goto(PAGE_URL);
    await page.getByRole('radiogroup', { name: 'Format' }).waitFor();
    assert.equal(await page.evaluate(() => window.__e2e.fatal ?? null), null);
    await expectPreview(EXPECTED.initial);
    const render = await lastRender();
    assert.equal(render.method, 'POST');
    assert.equal(render.status, 200);
    assert.deepStrictEqual(render.body.range, { from: FROM, to: TO });
    assert.deepStrictEqual(render.body.query, { ...BASE, rawQuery: null });
  });

  await step('the group-by choices are the fields resource answer (the fields of the record format)', async () => {
    const fields = await page.evaluate(() => window.__e2e.requests.find((r) => r.url.endsWith('/resources/fields')));
    assert.equal(fields?.method, 'GET');
    assert.equal(fields?.status, 200);
    const names = fields.response.fields.map((f) => f.name);
    assert.ok(names.includes('pkt_srcaddr') && names.includes('pkt_dstaddr'), `fields: ${names}`);
    assert.ok(!names.includes('ecs_cluster_name'), 'not the fields the format lacks');
    await page.getByLabel('Group by', { exact: true }).click();
    const options = await until(
      () => page.getByRole('option').allTextContents(),
      (o) => o.length === names.length
    );
    // An option reads "<name><type>", e.g. "pkt_srcaddrip".
    assert.deepStrictEqual(
      options.map((o, i) => o.startsWith(names[i])),
      names.map(() => true),
      `options: ${options.join(', ')}; fields: ${names.join(', ')}`
    );
    await page.keyboard.press('Escape');
  });

  await step('format Table', async () => {
    await radio('Format', 'Table');
    await expectQuery({ ...BASE, format: 'table', rate: false });
    await expectPreview(EXPECTED.tableAny);
  });

  await step('direction In', async () => {
    await radio('Direction', 'In');
    await expectQuery({ ...BASE, format: 'table', rate: false, direction: 'in' });
    await expectPreview(EXPECTED.tableIn);
  });

  const grouped = { ...BASE, format: 'table', rate: false, direction: 'in', groupBy: ['pkt_srcaddr'] };
  await step('group by pkt_srcaddr (table default: the top 100)', async () => {
    await choose('Group by', 'pkt_srcaddr');
    await page.keyboard.press('Escape');
    await expectQuery(grouped);
    await expectPreview(EXPECTED.grouped(100));
  });

  await step('limit 5; leaving the box runs the query', async () => {
    const runs = await page.evaluate(() => window.__e2e.runs);
    await typeInto('Limit', '5');
    await expectQuery({ ...grouped, limit: 5 });
    await expectPreview(EXPECTED.grouped(5));
    assert.ok((await page.evaluate(() => window.__e2e.runs)) > runs, 'onRunQuery after the limit box');
  });

  const filter = (value) => ({ ...grouped, limit: 5, filters: [{ field: 'pkt_dstaddr', op: '=~', value }] });
  await step('add a filter: pkt_dstaddr =~ 10\\.0\\.3[2-9]\\..*', async () => {
    const before = await page.evaluate(() => window.__e2e.requests.length);
    await page.getByRole('button', { name: 'Add filter' }).click();
    await expectQuery({ ...grouped, limit: 5, filters: [{ field: 'pkt_srcaddr', op: '=~', value: '' }] });
    // The changed query is rendered again, but a row without a value is not sent: the preview stays.
    const render = await until(
      () => page.evaluate((n) => window.__e2e.requests.slice(n).find((r) => r.url.endsWith('/resources/render') && r.status), before),
      (r) => r !== undefined
    );
    assert.deepStrictEqual(render?.body?.query?.filters, [], 'the empty filter row is not sent');
    await expectPreview(EXPECTED.grouped(5));
    await choose('Filter 1 field', 'pkt_dstaddr');
    await expectQuery(filter(''));
    await typeInto('Filter 1 value', '10\\.0\\.3[2-9]\\..*');
    await expectQuery(filter('10\\.0\\.3[2-9]\\..*'));
    await expectPreview(EXPECTED.grouped(5, REGEX_FILTER));
    const text = await previewText();
    for (const part of ['stats by (pkt_srcaddr) sum(bytes) as value', 'sort by (value desc, pkt_srcaddr) limit 5',
      'pkt_dstaddr:~"^(?:10\\\\.0\\\\.3[2-9]\\\\..*)$"']) {
      assert.ok(text.includes(part), `the preview has ${part}`);
    }
    assert.equal(await page.getByTestId('flowlens-query-errors').count(), 0, 'no validation errors');
    await shot('query-table-filter', page.getByTestId('e2e-query-editor'));
  });

  await step('a regex only the backend rejects (look-ahead): its message is shown in the editor', async () => {
    await typeInto('Filter 1 value', '10\\.0\\.32\\.(?=1)');
    await expectQuery(filter('10\\.0\\.32\\.(?=1)'));
    const error = await until(renderErrorText, (t) => t !== null && t.includes('look-around'));
    assert.ok(error?.includes('`filters`: the regex for `pkt_dstaddr` is invalid'), `render error: ${error}`);
    assert.ok(error.includes('look-around, including look-ahead and look-behind, is not supported'), `render error: ${error}`);
    const render = await lastRender();
    assert.equal(render.status, 400);
    assert.equal(render.response.error, error, 'the editor shows the backend message as it is');
    assert.equal(await previewText(), null, 'no stale preview next to the error');
    // JavaScript accepts the look-ahead, so this message can only be the backend's.
    assert.equal(await page.getByTestId('flowlens-query-errors').count(), 0);
    await shot('query-backend-error', page.getByTestId('e2e-query-editor'));
  });

  await step('a regex both reject: the editor names it at once, the backend too', async () => {
    await typeInto('Filter 1 value', '10\\.0\\.(3');
    await expectQuery(filter('10\\.0\\.(3'));
    await page.getByTestId('flowlens-query-errors').waitFor();
    const alert = await page.getByTestId('flowlens-query-errors').textContent();
    assert.ok(alert.includes('filter on pkt_dstaddr: `10\\.0\\.(3` is not a valid regular expression'), alert);
    const error = await until(renderErrorText, (t) => t !== null && t.includes('unclosed group'));
    assert.ok(error?.includes('the regex for `pkt_dstaddr` is invalid'), `render error: ${error}`);
  });

  await step('a multi-value variable ${pod} in the value: kept in the query, sent as escaped values', async () => {
    await typeInto('Filter 1 value', '${pod}');
    await expectQuery(filter('${pod}'));
    await expectPreview(EXPECTED.grouped(5, POD_FILTER));
    const render = await lastRender();
    assert.deepStrictEqual(render.body.query.filters, [{ field: 'pkt_dstaddr', op: '=~', value: '(10\\.0\\.32\\.7|10\\.0\\.32\\.15)' }]);
  });

  const series = { ...filter('${pod}'), format: 'series', limit: 10, rate: true, other: true };
  await step('format Series (top 10), Rate and Other switched on', async () => {
    await radio('Format', 'Series');
    await expectQuery({ ...series, rate: false, other: false });
    await toggle('Rate');
    await expectQuery({ ...series, other: false });
    await toggle('Other');
    await expectQuery(series);
    // The ranking step over the whole range comes first; the buckets follow from its answer.
    await expectPreview(EXPECTED.grouped(10, POD_FILTER));
    assert.equal((await page.getByRole('textbox', { name: 'Limit', exact: true }).inputValue()), '10');
    await shot('query-series', page.getByTestId('e2e-query-editor'));
  });

  const RAW = '{logtype="flow"} ACCEPT | stats count() records';
  await step('Raw mode starts from the rendered query, in the LogsQL code editor; leaving it runs the query', async () => {
    await radio('Query mode', 'Raw');
    await expectQuery({ ...series, rawQuery: EXPECTED.grouped(10, POD_FILTER) });
    const shown = await until(rawState, (s) => s?.text === EXPECTED.grouped(10, POD_FILTER));
    assert.deepStrictEqual(shown, { text: EXPECTED.grouped(10, POD_FILTER), language: 'flowlens-logsql' }, 'the code editor');
    // Monaco labels its input as it finishes mounting, which may come after the model holds the text.
    const labelled = page.getByRole('textbox', { name: 'Raw query', exact: true });
    assert.equal(await until(() => labelled.count(), (n) => n === 1), 1, "Monaco's input is labelled");
    // The language's tokenizer (Monarch) highlights fields, durations, pipes, strings and comments.
    const tokens = await page.evaluate(() =>
      window.monaco.editor.tokenize('_time:5m pkt_dstaddr:="10.0.32.7" | stats count() x # c', 'flowlens-logsql')[0].map((t) => t.type)
    );
    assert.deepStrictEqual(
      tokens.filter((t) => t !== 'white.logsql'),
      ['type', 'delimiter', 'number.duration', 'variable', 'delimiter', 'operator', 'string', 'operator.pipe', 'keyword',
        'predefined', 'delimiter.parenthesis', 'identifier', 'comment'].map((t) => `${t}.logsql`),
      'the LogsQL tokens'
    );
    const drawn = rawEditor().locator('.view-lines span[class^="mtk"]');
    assert.ok((await until(() => drawn.count(), (n) => n > 1)) > 1, 'the text is drawn in tokens');
    const loads = await until(() => workerLoads, (l) => l.length > 0);
    assert.ok(loads.length > 0 && loads.every((status) => status === 200), `Monaco's editor worker, from the bridge: ${loads}`);
    await expectPreview(EXPECTED.grouped(10, POD_FILTER));
    const runs = await page.evaluate(() => window.__e2e.runs);
    await typeRaw(RAW);
    await expectQuery({ ...series, rawQuery: RAW });
    assert.equal((await rawState()).text, RAW, 'the typed text (brackets and quotes closed by Monaco, stepped over)');
    assert.ok((await page.evaluate(() => window.__e2e.runs)) > runs, 'onRunQuery when leaving the editor');
    await expectPreview(RAW);
    await shot('query-raw', page.getByTestId('e2e-query-editor'));
  });

  await step('Raw mode completes the values of pkt_dstaddr (the values resource) and field names', async () => {
    const before = await page.evaluate(() => window.__e2e.requests.length);
    await typeRaw('pkt_dstaddr:', { blur: false });
    const isPod = (v) => /^10\.0\.(3[2-9]|4[0-7])\.\d+$/.test(v);
    const values = await until(suggestions, (l) => l.some(isPod));
    assert.ok(values.some(isPod), `pod addresses (10.0.32.0/20) among the suggestions: ${values.join(', ')}`);
    const call = await page.evaluate(
      (n) => window.__e2e.requests.slice(n).find((r) => r.url.endsWith('/resources/values') && r.status !== undefined),
      before
    );
    assert.equal(call?.method, 'POST');
    assert.equal(call.status, 200);
    assert.equal(call.body.field, 'pkt_dstaddr');
    assert.deepStrictEqual(call.body.range, { from: FROM, to: TO }, "the panel's range");
    assert.deepStrictEqual(values, call.response.values.slice(0, values.length), 'the values resource answer, in order');
    await page.getByTestId('e2e-query-editor').screenshot({ path: path.join(args.artifacts, 'query-raw-values.png') });
    screenshots.push(path.join(args.artifacts, 'query-raw-values.png'));
    // Enter takes the first; it goes in quoted.
    await page.keyboard.press('Enter');
    const picked = await until(rawState, (s) => s?.text !== 'pkt_dstaddr:');
    assert.equal(picked.text, `pkt_dstaddr:${JSON.stringify(values[0])}`, 'the value inserted as a string');

    await typeRaw('pkt_d', { blur: false });
    const names = await until(suggestions, (l) => l.includes('pkt_dstaddr'));
    assert.ok(names.includes('pkt_dstaddr'), `suggestions for pkt_d: ${names.join(', ')}`);
    await page.keyboard.press('Escape');
    await radio('Query mode', 'Builder');
    await expectQuery(series);
  });

  await step('settings: a CIDR with host bits set is named, a good list is emitted', async () => {
    const config = page.getByTestId('e2e-config-editor');
    await config.scrollIntoViewIfNeeded();
    assert.equal(await page.getByRole('textbox', { name: 'Inside CIDRs', exact: true }).inputValue(), '10.0.32.0/20');
    await typeInto('Inside CIDRs', '10.0.32.0/20, 10.0.48.1/20', { blur: false });
    const message = '`10.0.48.1/20` has host bits set; did you mean 10.0.48.0/20?';
    await config.getByText(message).waitFor();
    const options = await page.evaluate(() => window.__e2e.options);
    assert.deepStrictEqual(options.jsonData.insideCidrs, ['10.0.32.0/20', '10.0.48.1/20']);
    await shot('config-bad-cidr', page.getByTestId('e2e-config-editor'));
    await typeInto('Inside CIDRs', '10.0.32.0/20, 10.0.48.0/20');
    await config.getByText(message).waitFor({ state: 'detached' });
    const fixed = await page.evaluate(() => window.__e2e.options);
    assert.deepStrictEqual(fixed.jsonData.insideCidrs, ['10.0.32.0/20', '10.0.48.0/20']);
    assert.equal(fixed.jsonData.interfaceId, 'eni-0352f8c82da6aa229', 'other settings kept');
  });

  await step('Save & test: CheckHealth against the loaded VictoriaLogs', async () => {
    await page.getByTestId('e2e-save-and-test').click();
    await page.getByTestId('e2e-health').waitFor();
    const health = await page.evaluate(() => window.__e2e.health);
    assert.equal(health.status, 'success', health.message);
    const count = args.records ?? '\\d+';
    assert.match(
      health.message,
      new RegExp(`^Connected to VictoriaLogs: ${count} records of the last hour match \\{logtype="flow", environment="ops"\\}, and the sampled records fit the record format \\(19 fields\\)(\\. Self-check: the last settled hour's \\d+ records read the same as one total and as 5-minute buckets, twice(, and its top source's bytes the same in the ranking and in its series)?)?${NAMES === null ? '' : '\\. Names: names\\.networks: 4 networks'}$`)
    );
    await shot('config-health', page.getByTestId('e2e-config-editor'));
  });

  // ---- A dashboard variable: Dashboard settings → Variables → New variable, this datasource.
  const variableEditor = () => page.getByTestId('e2e-variable-editor');
  const variableState = () =>
    page.evaluate(() => ({
      query: window.__e2e.variableQuery ?? null,
      values: window.__e2e.variableValues ?? null,
      valuesFor: window.__e2e.variableValuesFor ?? null,
      error: window.__e2e.variableError ?? null,
    }));
  const VARIABLE = { refId: 'FlowVariableQuery', field: 'pkt_dstaddr', filters: [] };

  await step('variable editor (ds.variables.editor): field pkt_dstaddr, direction In, limit 5', async () => {
    await page.getByTestId('e2e-new-variable').click();
    await variableEditor().waitFor();
    const editor = variableEditor();
    await editor.getByLabel('Field', { exact: true }).click();
    await page.keyboard.type('pkt_dstaddr');
    await page.getByRole('option').filter({ hasText: /^pkt_dstaddr/ }).first().click();
    // From the new variable's '' query: migrateVariableQuery of a string has no `filters` yet.
    const first = { refId: 'FlowVariableQuery', field: 'pkt_dstaddr' };
    let v = await until(variableState, (s) => isDeepEqual(s.query, first));
    assert.deepStrictEqual(v.query, first, 'the variable query the editor emitted');
    await editor.getByRole('radiogroup', { name: 'Direction', exact: true }).getByRole('radio', { name: 'In', exact: true }).click();
    v = await until(variableState, (s) => isDeepEqual(s.query, { ...VARIABLE, direction: 'in' }));
    assert.deepStrictEqual(v.query, { ...VARIABLE, direction: 'in' }, 'the variable query the editor emitted');
    const limit = editor.getByRole('spinbutton', { name: 'Limit', exact: true });
    assert.equal(await limit.inputValue(), '100', 'the default limit');
    await limit.click();
    await limit.press('ControlOrMeta+a');
    await limit.press('Backspace');
    await limit.pressSequentially('5');
    await limit.press('Tab');
    v = await until(variableState, (s) => isDeepEqual(s.query, { ...VARIABLE, direction: 'in', limit: 5 }));
    assert.deepStrictEqual(
      v.query,
      { refId: 'FlowVariableQuery', field: 'pkt_dstaddr', filters: [], direction: 'in', limit: 5 },
      'the variable query the editor emitted'
    );
  });

  await step('the variable query (ds.variables.query) gives the top 5 pods by bytes in, as the reference', async () => {
    const final = { ...VARIABLE, direction: 'in', limit: 5 };
    const v = await until(variableState, (s) => isDeepEqual(s.valuesFor, final) && s.values !== null);
    assert.equal(v.error, null, 'the variable query did not fail');
    assert.deepStrictEqual(v.valuesFor, final, 'the values are for the final variable query');
    // The `values` resource call it made for that query.
    const call = await page.evaluate(() =>
      [...window.__e2e.requests].reverse().find((r) => r.url.endsWith('/resources/values') && r.status !== undefined)
    );
    assert.equal(call?.method, 'POST');
    assert.equal(call.status, 200);
    assert.equal(call.body.field, 'pkt_dstaddr');
    assert.equal(call.body.limit, 5);
    assert.deepStrictEqual(call.body.range, { from: FROM, to: TO });
    assert.equal(call.body.query.direction, 'in');
    assert.deepStrictEqual(call.body.query.groupBy, ['pkt_dstaddr']);
    assert.deepStrictEqual(call.response.values, v.values, 'the values are the resource answer, in order');
    assert.equal(v.values.length, 5, `values: ${v.values}`);
    for (const pod of v.values) {
      assert.match(pod, /^10\.0\.(3[2-9]|4[0-7])\.\d+$/, 'a pod address (10.0.32.0/20)');
    }
    if (TOP_PODS !== null) {
      assert.deepStrictEqual(v.values, TOP_PODS, 'the top 5 pods by bytes in (the Rust reference)');
    }
    const shown = await page.getByTestId('e2e-variable-values').locator('span').allTextContents();
    assert.deepStrictEqual(shown, v.values, 'the preview of values');
    await shot('variable-editor', variableEditor());
  });

  const explore = () => page.evaluate(() => window.__e2e.explore ?? null);
  const explorePreview = () =>
    page.evaluate(
      () => document.querySelector('[data-testid="e2e-explore"] [data-testid="flowlens-rendered-query"]')?.textContent ?? null
    );

  await step('Explore: the logs view shows the newest records of the day and the volume per action', async () => {
    await page.getByTestId('e2e-open-explore').click();
    const x = await until(explore, (v) => v?.volume !== undefined || v?.error !== undefined, 30_000);
    assert.equal(x?.error, undefined, 'the logs and volume queries did not fail');
    assert.equal(x.rows.length, 20, 'the 20 newest records');
    assert.ok(x.rows.every((r, i) => i === 0 || x.rows[i - 1].time >= r.time), 'newest first');
    assert.equal(x.rows[0].labels.interface_id, 'eni-0352f8c82da6aa229', 'parsed fields as labels');
    if (VOLUME !== null) {
      assert.deepStrictEqual(x.volume, VOLUME, 'records per action over the day, as the reference counts them');
    }
    assert.equal(x.volumeMeta?.logsVolumeType, 'FullRange', 'the volume meta Explore reads');
    assert.deepStrictEqual(x.volumeMeta?.absoluteRange, { from: FROM, to: TO });
    assert.equal(x.volumeMeta?.sourceQuery?.format, 'logs');
    const rows = page.getByTestId('e2e-log-row');
    assert.equal(await until(() => rows.count(), (n) => n === 20), 20, 'the rows drawn');
    await shot('explore-logs', page.getByTestId('e2e-explore'));
  });

  await step("Explore: a row's context: the records of its interface just before and after it", async () => {
    const rows = (await explore()).rows;
    const row = rows[19];
    await page.getByTestId('e2e-context-19').click();
    const x = await until(explore, (v) => v?.context !== undefined, 20_000);
    assert.equal(x.context.before.length, 5, 'five before');
    // The 20 rows are the day's newest: every record after the row is one of them.
    const newer = rows.filter((r) => r.time > row.time);
    assert.equal(x.context.after.length, Math.min(5, newer.length), 'five after, or as many as the day has');
    assert.deepStrictEqual(
      x.context.after.map((r) => r.time),
      newer.map((r) => r.time).sort((a, b) => a - b).slice(0, 5),
      'the oldest records after the row'
    );
    assert.ok(x.context.before.every((r) => r.time <= row.time), 'before the row');
    assert.ok(!x.context.before.some((r) => r.time === row.time && r.body === row.body), 'not the row itself');
    assert.ok(x.context.after.every((r) => r.time > row.time), 'after the row');
    assert.ok(x.context.after.every((r, i) => i === 0 || x.context.after[i - 1].time <= r.time), 'after: oldest first');
    await page.getByTestId('e2e-context').waitFor();
  });

  await step('Explore: "filter for value" on a row\'s action adds the builder row; the backend renders the new query', async () => {
    const action = (await explore()).rows[0].labels.action;
    await page.getByTestId('e2e-filter-for-action-0').click();
    const x = await until(
      explore,
      (v) => v?.volume !== undefined && v.query.filters?.length === 1 && v.rows?.length > 0,
      30_000
    );
    assert.deepStrictEqual(x.query.filters, [{ field: 'action', op: '=', value: action }], 'the builder filter');
    assert.ok(x.rows.every((r) => r.labels.action === action), `every row is ${action}`);
    if (VOLUME !== null) {
      assert.deepStrictEqual(x.volume, { [action]: VOLUME[action] }, 'the volume of that action alone');
    }
    const field = page.getByTestId('e2e-explore').getByLabel('Filter 1 value', { exact: true });
    assert.equal(await field.inputValue(), action, 'the builder row shows the value');
    const text = await until(explorePreview, (t) => t?.includes(`action:=${JSON.stringify(action)}`));
    assert.ok(text?.includes(`action:=${JSON.stringify(action)}`), `the preview filters on the action: ${text}`);
    await shot('explore-filtered', page.getByTestId('e2e-explore'));
  });

  await step('Names: a table by network name and a node graph of names, as panels get them from ds.query', async () => {
    if (NAMES === null) {
      return;
    }
    const frames = await page.evaluate(() =>
      window.__e2eQuery([
        { refId: 'N', format: 'table', metric: 'bytes', direction: 'in', groupBy: ['local_name'], limit: 10 },
        { refId: 'G', format: 'nodegraph', metric: 'bytes', direction: 'out', groupBy: ['local_name', 'remote_name'], limit: 10 },
      ])
    );
    const byRef = (ref) => frames.filter((f) => f.refId === ref);
    const field = (frame, name) => frame.fields.find((f) => f.name === name);
    const [table] = byRef('N');
    const names = field(table, 'local_name');
    assert.deepStrictEqual(
      names.values.map((v, i) => [v, field(table, 'bytes').values[i]]),
      NAMES.table,
      'bytes per network name, largest first, as the reference'
    );
    assert.equal(names.links[0]?.internal?.datasourceUid, 'flowlens', 'a drill-down to the addresses behind a name');
    const graph = byRef('G');
    assert.deepStrictEqual(graph.map((f) => f.name), ['nodes', 'edges']);
    assert.ok(graph.every((f) => f.meta?.preferredVisualisationType === 'nodeGraph'), 'for the node graph panel');
    const edges = graph[1];
    assert.deepStrictEqual(
      field(edges, 'source').values.map((s, i) => [s, field(edges, 'target').values[i], field(edges, 'mainstat').values[i]]),
      NAMES.edges,
      'the top pairs of names with their bytes, as the reference'
    );
  });

  await shot('page');
  assert.deepStrictEqual(pageErrors, [], 'no uncaught errors or failed requests on the page');
  assert.deepStrictEqual(consoleErrors, [], 'no console errors on the page');
} catch (e) {
  failed = true;
  console.error(e?.stack ?? e);
  if (pageErrors.length) {
    console.error(`page errors:\n  ${pageErrors.join('\n  ')}`);
  }
  if (consoleErrors.length) {
    console.error(`console errors:\n  ${consoleErrors.join('\n  ')}`);
  }
} finally {
  await browser.close();
}

for (const file of screenshots) {
  console.log(`screenshot: ${file}`);
}
console.log(`browser test: ${steps.length} steps passed${failed ? ', one failed' : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
