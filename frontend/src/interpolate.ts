// Dashboard variables into filter values, as DATA. The backend quotes every
// value, so nothing here can inject query syntax; what this module decides is
// what a value *means*:
//
// - `=~` / `!~` (regex): a variable with one value typed by the user (textbox,
//   single-value custom) is a regex as typed (`10\.0\.32\..*`, default `.*`).
//   The values of a multi-value or include-All variable are literal values:
//   each is regex-escaped and several become an alternation `(a|b)`. All
//   without a custom all value becomes `.*` (which the backend drops); a
//   custom all value is used as typed.
// - `=` / `!=` (exact): values are used as they are, not escaped. When a
//   variable has several values or is All, the filter becomes `=~` / `!~`
//   over the escaped values, which is what "field is one of these" means.
// - `cidr`, `!cidr`, `range`: values as they are; several values (or All)
//   are joined by `,`, which the backend rejects with a message naming the
//   filter: one such filter takes one network or range.
import { ScopedVars } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

import { FilterOp, FlowFilter, REGEX_OPS } from './types';
import { VARIABLE_PATTERN } from './validation';

const ALL_VALUE = '$__all';

/** Escapes regex metacharacters so a value matches itself literally (RE2 and JS agree on these). */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

type Piece = { text: string; name?: string };

/** Splits text into literal pieces and variable references (`name` set). */
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

/** What one variable reference stands for. */
type Resolved =
  | { kind: 'literal'; text: string } // not a variable: keep the text
  | { kind: 'all'; values: string[] } // All, no custom all value; values = every option
  | { kind: 'custom'; text: string } // a custom all value, used as typed
  | { kind: 'value'; value: string; typed: boolean } // one value; typed = a user-typed regex
  | { kind: 'values'; values: string[] }; // several literal values

function isAll(value: unknown): boolean {
  return value === ALL_VALUE || (Array.isArray(value) && value.includes(ALL_VALUE));
}

function resolve(piece: Piece, scopedVars: ScopedVars | undefined, srv: TemplateSrv): Resolved {
  let called = false;
  let captured: unknown;
  let multi = false;
  const out = srv.replace(piece.text, scopedVars, (value: unknown, variable?: { multi?: boolean; includeAll?: boolean }) => {
    called = true;
    captured = value;
    multi = Boolean(variable?.multi || variable?.includeAll);
    return '';
  });
  if (!called) {
    // Unknown names stay as written; a custom all value comes back unformatted.
    return out === piece.text ? { kind: 'literal', text: piece.text } : { kind: 'custom', text: out };
  }
  const variable = srv.getVariables().find((v) => v.name === piece.name) as
    | { current?: { value?: unknown }; multi?: boolean; includeAll?: boolean }
    | undefined;
  // A repeated panel's scoped value is one option of the dashboard variable.
  multi = multi || Boolean(variable?.multi || variable?.includeAll);
  const scoped = piece.name !== undefined && scopedVars?.[piece.name] !== undefined;
  if (!scoped && isAll(variable?.current?.value)) {
    return { kind: 'all', values: Array.isArray(captured) ? captured.map(String) : [] };
  }
  if (Array.isArray(captured)) {
    const values = captured.map(String);
    return values.length === 1 ? { kind: 'value', value: values[0], typed: false } : { kind: 'values', values };
  }
  return { kind: 'value', value: captured === undefined || captured === null ? '' : String(captured), typed: !multi };
}

type ResolvedPiece = Piece & { r: Resolved };

function resolvePieces(text: string, scopedVars: ScopedVars | undefined, srv: TemplateSrv): ResolvedPiece[] {
  return splitVariables(text).map((p) => ({
    ...p,
    r: p.name === undefined ? { kind: 'literal', text: p.text } : resolve(p, scopedVars, srv),
  }));
}

function alternation(values: string[]): string {
  return `(${values.map(escapeRegex).join('|')})`;
}

/** Regex text: literal text as the user wrote it (a regex), variables per the rules above. */
function renderRegex(resolved: ResolvedPiece[], escapeLiterals: boolean): string {
  return resolved
    .map(({ text, name, r }) => {
      if (name === undefined || r.kind === 'literal') {
        return escapeLiterals ? escapeRegex(text) : text;
      }
      switch (r.kind) {
        case 'all':
          return '.*';
        case 'custom':
          return r.text;
        case 'values':
          return alternation(r.values);
        case 'value':
          return r.typed && !escapeLiterals ? r.value : escapeRegex(r.value);
      }
    })
    .join('');
}

const TO_REGEX = new Map<FilterOp, FilterOp>([
  ['=', '=~'],
  ['!=', '!~'],
]);

/** One filter with its variables interpolated; the op may turn from exact to regex (see above). */
export function interpolateFilter(filter: FlowFilter, scopedVars: ScopedVars | undefined, srv: TemplateSrv): FlowFilter {
  const value = typeof filter.value === 'string' ? filter.value : String(filter.value ?? '');
  const resolved = resolvePieces(value, scopedVars, srv);
  if (!resolved.some((p) => p.name !== undefined)) {
    return { ...filter, value };
  }
  if (REGEX_OPS.includes(filter.op)) {
    return { ...filter, value: renderRegex(resolved, false) };
  }
  const regexOp = TO_REGEX.get(filter.op);
  if (regexOp && resolved.some(({ r }) => r.kind === 'all' || r.kind === 'custom' || r.kind === 'values')) {
    return { ...filter, op: regexOp, value: renderRegex(resolved, true) };
  }
  const plain = resolved.map(({ text, r }) => {
    switch (r.kind) {
      case 'value':
        return r.value;
      case 'values':
      case 'all':
        return r.values.join(',');
      case 'custom':
        return r.text;
      default:
        return text;
    }
  });
  return { ...filter, value: plain.join('') };
}

/** Makes text safe inside a double-quoted LogsQL/LogQL string: `\\` and `"` are escaped. */
function quoteSafe(text: string): string {
  return text.replace(/[\\"]/g, '\\$&');
}

/**
 * A raw LogsQL/LogQL query. Variables are expected inside double-quoted
 * regex strings (`pkt_srcaddr:~"$pod"`, `|~ "$pod"`): values of multi-value
 * and All variables become an escaped alternation, made safe for the quotes.
 * A single user-typed value is inserted as typed, as Grafana's Loki does.
 */
export function interpolateRaw(text: string, scopedVars: ScopedVars | undefined, srv: TemplateSrv): string {
  return resolvePieces(text, scopedVars, srv)
    .map(({ r }) => {
      switch (r.kind) {
        case 'literal':
        case 'custom':
          return r.text;
        case 'all':
          return '.*';
        case 'values':
          return quoteSafe(alternation(r.values));
        case 'value':
          return r.typed ? r.value : quoteSafe(escapeRegex(r.value));
      }
    })
    .join('');
}

/** A plain value (interface id): one value as is, several joined by `,`. */
export function interpolatePlain(text: string, scopedVars: ScopedVars | undefined, srv: TemplateSrv): string {
  return srv.replace(text, scopedVars, (value: unknown) => (Array.isArray(value) ? value.join(',') : String(value ?? '')));
}
