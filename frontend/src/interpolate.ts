// Dashboard variables and ad-hoc filters into a target, as DATA. The backend
// quotes every filter value, so nothing here can inject query syntax; what
// this module decides is what a value *means*:
//
// - `=~` / `!~` (regex): a variable with one value typed by the user (textbox,
//   single-value custom) is a regex as typed (`10\.0\.32\..*`, default `.*`).
//   The values of a multi-value or include-All variable are literal values:
//   each is regex-escaped and several become an alternation `(a|b)`. All
//   without a custom all value becomes `.*` (which the backend drops); a
//   custom all value is used as typed.
// - `=` / `!=` (exact): values are used as they are, not escaped. A variable
//   with several values makes the filter a set match, `=|` / `!=|` with the
//   list of values (`x.$pods` with two pods: two values). All, or a custom
//   all value, makes it `=~` / `!~` over the escaped text (All matches
//   everything, as for regex filters).
// - `=|` / `!=|`: each listed value expands to the values its variables hold.
// - `cidr`, `!cidr`, `range`, `<`, `<=`, `>`, `>=`: values as they are; several
//   values (or All) are joined by `,`, which the backend rejects with a
//   message naming the filter: one such filter takes one value.
// - `interfaceId`: one value as it is; several (or All: every option) a list.
// - Raw LogsQL: see logsql.ts. Ad-hoc filters are data as Grafana sends
//   them, never interpolated.
import type { AdHocVariableFilter, ScopedVars } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

import { interpolateLogsQL } from './logsql';
import { migrateQuery } from './migrate';
import { FilterOp, FlowFilter, FlowQuery, REGEX_OPS, SET_OPS } from './types';
import {
  exactProduct,
  isMany,
  Piece,
  regexOf,
  Resolved,
  ResolvedPiece,
  splitVariables,
} from './variables';

export { escapeRegex, splitVariables } from './variables';

const ALL_VALUE = '$__all';

function isAll(value: unknown): boolean {
  return value === ALL_VALUE || (Array.isArray(value) && value.includes(ALL_VALUE));
}

/** What one variable reference stands for, asked of the TemplateSrv through a format callback. */
export function resolveReference(piece: Piece, scopedVars: ScopedVars | undefined, srv: TemplateSrv): Resolved {
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
    // Unknown names stay as written; a custom all value, or an explicit
    // format (`${x:csv}`), comes back without the callback: used as typed.
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

function resolvePieces(text: string, scopedVars: ScopedVars | undefined, srv: TemplateSrv): ResolvedPiece[] {
  return splitVariables(text).map((p) => ({
    ...p,
    r: p.name === undefined ? { kind: 'literal', text: p.text } : resolveReference(p, scopedVars, srv),
  }));
}

/** Plain text: each reference's values, several joined by `,`. */
function plainOf(pieces: ResolvedPiece[]): string {
  return pieces
    .map(({ r }) => {
      switch (r.kind) {
        case 'value':
          return r.value;
        case 'values':
        case 'all':
          return r.values.join(',');
        case 'custom':
        case 'literal':
          return r.text;
      }
    })
    .join('');
}

const TO_REGEX = new Map<FilterOp, FilterOp>([
  ['=', '=~'],
  ['!=', '!~'],
]);
const TO_SET = new Map<FilterOp, FilterOp>([
  ['=', '=|'],
  ['!=', '!=|'],
]);

/** One filter with its variables interpolated; the op may turn from exact to a set or a regex (see above). */
export function interpolateFilter(filter: FlowFilter, scopedVars: ScopedVars | undefined, srv: TemplateSrv): FlowFilter {
  const what = `filter on ${filter.field}`;
  if (SET_OPS.includes(filter.op) && Array.isArray(filter.value)) {
    const values = filter.value.flatMap((v) => exactProduct(resolvePieces(String(v), scopedVars, srv), what));
    return { ...filter, value: values };
  }
  if (Array.isArray(filter.value)) {
    return filter; // not a list op: the backend says the value must be a string
  }
  const value = typeof filter.value === 'string' ? filter.value : String(filter.value ?? '');
  const pieces = resolvePieces(value, scopedVars, srv);
  if (!pieces.some((p) => p.name !== undefined)) {
    return { ...filter, value };
  }
  if (REGEX_OPS.includes(filter.op)) {
    return { ...filter, value: regexOf(pieces) };
  }
  if (SET_OPS.includes(filter.op)) {
    return { ...filter, value: exactProduct(pieces, what) };
  }
  const regexOp = TO_REGEX.get(filter.op);
  if (regexOp && pieces.some(({ r }) => r.kind === 'all' || r.kind === 'custom')) {
    return { ...filter, op: regexOp, value: regexOf(pieces, true) };
  }
  const setOp = TO_SET.get(filter.op);
  if (setOp && pieces.some(({ r }) => isMany(r))) {
    return { ...filter, op: setOp, value: exactProduct(pieces, what) };
  }
  return { ...filter, value: plainOf(pieces) };
}

/** A raw LogsQL query with variables as quoted, escaped literals (logsql.ts). Throws InterpolationError. */
export function interpolateRaw(text: string, scopedVars: ScopedVars | undefined, srv: TemplateSrv): string {
  return interpolateLogsQL(text, (piece) => resolveReference(piece, scopedVars, srv));
}

/** The interface filter: one value as it is, several (or All: every option) a list. */
export function interpolateInterface(
  interfaceId: string | string[],
  scopedVars: ScopedVars | undefined,
  srv: TemplateSrv
): string | string[] {
  const list = Array.isArray(interfaceId);
  const values = (list ? interfaceId : [interfaceId]).flatMap((id) =>
    exactProduct(resolvePieces(String(id), scopedVars, srv), 'interfaceId')
  );
  return !list && values.length === 1 ? values[0] : values;
}

/**
 * An ad-hoc filter as a filter, as Grafana sends it: `=|` / `!=|` take the
 * list of values, every other operator its one value. Unknown operators and
 * keys go to the backend as they are, which answers an error naming them
 * (never a silently unfiltered panel).
 */
export function adHocFilter(f: AdHocVariableFilter): FlowFilter {
  const op = f.operator as FilterOp;
  if (SET_OPS.includes(op)) {
    return { field: f.key, op, value: f.values?.length ? [...f.values] : [f.value] };
  }
  return { field: f.key, op, value: f.value };
}

function isEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}

/** A filter object (a saved target may hold anything; what is not an object goes to the backend to be named). */
function isObject(f: unknown): f is FlowFilter {
  return typeof f === 'object' && f !== null && !Array.isArray(f);
}

/**
 * A target as the datasource sends it (its applyTemplateVariables): migrated
 * to the current model, variables interpolated as data, and every ad-hoc
 * filter appended as a filter, whatever its key and operator: the backend
 * applies it exactly or answers an error naming it, so a panel never shows
 * unfiltered numbers. Throws InterpolationError when a variable cannot stand
 * where it is.
 */
export function interpolateTarget(
  query: FlowQuery,
  scopedVars: ScopedVars | undefined,
  adHocFilters: AdHocVariableFilter[] | undefined,
  srv: TemplateSrv
): FlowQuery {
  const q = migrateQuery(query);
  const adHoc = (adHocFilters ?? []).map(adHocFilter);
  // Filters that are not a list are sent as they are, for the backend to reject by name. A builder
  // row still being filled in (no field or no value yet) is not sent; the editor says so.
  const filters = Array.isArray(q.filters)
    ? [
        ...q.filters
          .filter((f) => !isObject(f) || (f.field !== '' && f.value !== '' && !isEmptyList(f.value)))
          .map((f) => (isObject(f) ? interpolateFilter(f, scopedVars, srv) : f)),
        ...adHoc,
      ]
    : q.filters;
  const id = q.interfaceId;
  return {
    ...q,
    filters,
    rawQuery: q.rawQuery?.trim() ? interpolateRaw(q.rawQuery, scopedVars, srv) : null,
    interfaceId: (typeof id === 'string' && id !== '') || Array.isArray(id) ? interpolateInterface(id, scopedVars, srv) : id,
  };
}
