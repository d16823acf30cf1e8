// What one dashboard variable reference stands for, and how its values are
// written as a regex or as a list of exact values. Pure: the TemplateSrv side
// is in interpolate.ts, the LogsQL side in logsql.ts.
import { VARIABLE_PATTERN } from './validation';

/** One variable reference, or the text between references (`name` unset). */
export interface Piece {
  text: string;
  name?: string;
}

/**
 * What one variable reference stands for.
 *
 * - `literal`: not a known variable; its text stays as written.
 * - `all`: All is selected and the variable has no custom all value; `values` are every option.
 * - `custom`: a custom all value or the output of an explicit format (`${x:csv}`), used as typed.
 * - `value`: one value; `typed` = the user typed it (textbox, single-value variable), so in a
 *   regex position it is a regex as typed; otherwise it is one value of a list, a literal.
 * - `values`: several selected values, each a literal.
 */
export type Resolved =
  | { kind: 'literal'; text: string }
  | { kind: 'all'; values: string[] }
  | { kind: 'custom'; text: string }
  | { kind: 'value'; value: string; typed: boolean }
  | { kind: 'values'; values: string[] };

/** A piece with what it stands for (`literal` for plain text). */
export type ResolvedPiece = Piece & { r: Resolved };

/** Most exact values one filter or one raw-query list may expand to (a product of several variables). */
export const MAX_VALUES = 10_000;

/** Escapes regex metacharacters so a value matches itself literally (RE2 and JS agree on these). */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/** Splits text into literal pieces and variable references (`name` set), Grafana's three syntaxes. */
export function splitVariables(text: string): Piece[] {
  const pieces: Piece[] = [];
  const re = new RegExp(VARIABLE_PATTERN.source, 'g');
  let last = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m.index > last) {
      pieces.push({ text: text.slice(last, m.index) });
    }
    pieces.push({ text: m[0], name: m[1] ?? m[2] ?? m[4] });
    last = m.index + m[0].length;
  }
  if (last < text.length) {
    pieces.push({ text: text.slice(last) });
  }
  return pieces;
}

/** Whether a reference stands for more than one value (several selected, or All). */
export function isMany(r: Resolved): boolean {
  return r.kind === 'values' || r.kind === 'all';
}

/** `(a|b)` over regex-escaped values. */
export function alternation(values: string[]): string {
  return `(${values.map(escapeRegex).join('|')})`;
}

/**
 * Regex text for pieces: plain text as the user wrote it (a regex) unless
 * `escapeText`; a typed value as typed; values of a list escaped, several as
 * an alternation; All as `.*`; a custom all value as typed.
 */
export function regexOf(pieces: ResolvedPiece[], escapeText = false): string {
  return pieces
    .map(({ r }) => {
      switch (r.kind) {
        case 'literal':
          return escapeText ? escapeRegex(r.text) : r.text;
        case 'all':
          return '.*';
        case 'custom':
          return r.text;
        case 'values':
          return alternation(r.values);
        case 'value':
          return r.typed && !escapeText ? r.value : escapeRegex(r.value);
      }
    })
    .join('');
}

/** The exact values one reference stands for: All is every option. */
function exactValues(r: Resolved): string[] {
  switch (r.kind) {
    case 'literal':
    case 'custom':
      return [r.text];
    case 'value':
      return [r.value];
    case 'all':
    case 'values':
      return r.values;
  }
}

/**
 * Every exact value the pieces spell: the product of each reference's values
 * (`x.$pods` with two pods is two values). Throws when that is more than
 * MAX_VALUES, naming the references.
 */
export function exactProduct(pieces: ResolvedPiece[], what: string): string[] {
  let out = [''];
  for (const p of pieces) {
    const values = exactValues(p.r);
    if (out.length * values.length > MAX_VALUES) {
      const names = pieces.filter((q) => q.name !== undefined && isMany(q.r)).map((q) => q.text);
      throw new InterpolationError(
        `${what}: ${names.join(' and ')} expand to more than ${MAX_VALUES} values; select fewer values`
      );
    }
    out = out.flatMap((prefix) => values.map((v) => prefix + v));
  }
  return out;
}

/** A variable cannot be written where it stands; the message names it and says what would work. */
export class InterpolationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterpolationError';
  }
}
