// Click to filter from Explore's log details: "filter for value" adds the
// builder filter `field = value`, "filter out value" `field != value`. Only
// record fields are filters; a stream label (`logtype`) is not a field a
// query can filter on, and a hand-written query is the user's own text: both
// are left as they are.
import { QueryFilterOptions, QueryFixAction, ToggleFilterAction } from '@grafana/data';

import { ALL_FIELDS, formatFields } from '../fields';
import { migrateQuery } from '../migrate';
import { FlowDataSourceOptions, FlowFilter, FlowQuery } from '../types';

/** The modifyQuery actions the datasource takes. */
export const QUERY_MODIFICATIONS = ['ADD_FILTER', 'ADD_FILTER_OUT'] as const;

type ExactOp = '=' | '!=';

/**
 * The fields a record has, as the backend knows them: raw records the fields
 * of the record format (AWS's default when unset); records parsed at ingest
 * every AWS field.
 */
export function recordFieldNames(settings: FlowDataSourceOptions): Set<string> {
  const fields = (settings.recordMode ?? 'raw') === 'raw' ? formatFields(settings.recordFormat) : undefined;
  return new Set((fields ?? ALL_FIELDS).map((f) => f.name));
}

function isFilter(f: unknown): f is FlowFilter {
  return typeof f === 'object' && f !== null && !Array.isArray(f);
}

function matches(f: unknown, key: string, op: ExactOp, value: string): boolean {
  return isFilter(f) && f.field === key && f.op === op && f.value === value;
}

interface Edit {
  q: FlowQuery;
  key: string;
  value: string;
}

/** The migrated query, key and value when the filter can be set in it, else undefined (leave the query as it is). */
function editable(query: FlowQuery, options: QueryFilterOptions | undefined, fields: Set<string>): Edit | undefined {
  const key = options?.key;
  const value = options?.value;
  if (typeof key !== 'string' || !fields.has(key) || typeof value !== 'string' || value === '') {
    return undefined; // an empty value would be a builder row still being filled in: never sent
  }
  const q = migrateQuery(query);
  return typeof q.rawQuery === 'string' || !Array.isArray(q.filters) ? undefined : { q, key, value };
}

/**
 * `key op value` in the query: the opposite filter on the same field and
 * value is replaced by it; if it is already there it stays (or, `toggle`,
 * is removed).
 */
function setFilter(q: FlowQuery, key: string, value: string, op: ExactOp, toggle: boolean): FlowQuery {
  const filters = q.filters ?? [];
  if (filters.some((f) => matches(f, key, op, value))) {
    return toggle ? { ...q, filters: filters.filter((f) => !matches(f, key, op, value)) } : q;
  }
  const opposite: ExactOp = op === '=' ? '!=' : '=';
  const filter: FlowFilter = { field: key, op, value };
  const at = filters.findIndex((f) => matches(f, key, opposite, value));
  if (at < 0) {
    return { ...q, filters: [...filters, filter] };
  }
  return {
    ...q,
    filters: filters.flatMap((f, i) => (i === at ? [filter] : matches(f, key, opposite, value) ? [] : [f])),
  };
}

const ACTION_OPS = new Map<string, ExactOp>([
  ['ADD_FILTER', '='],
  ['ADD_FILTER_OUT', '!='],
  ['FILTER_FOR', '='],
  ['FILTER_OUT', '!='],
]);

/** modifyQuery: ADD_FILTER `key = value`, ADD_FILTER_OUT `key != value`; any other action leaves the query. */
export function modifyFlowQuery(query: FlowQuery, action: QueryFixAction, fields: Set<string>): FlowQuery {
  const op = action.type === 'ADD_FILTER' || action.type === 'ADD_FILTER_OUT' ? ACTION_OPS.get(action.type) : undefined;
  const edit = op ? editable(query, action.options, fields) : undefined;
  return op && edit ? setFilter(edit.q, edit.key, edit.value, op, false) : query;
}

/** toggleQueryFilter: FILTER_FOR / FILTER_OUT add the filter, replace its opposite, or remove it when it is there. */
export function toggleFlowFilter(query: FlowQuery, filter: ToggleFilterAction, fields: Set<string>): FlowQuery {
  const op = ACTION_OPS.get(filter.type);
  const edit = op ? editable(query, filter.options, fields) : undefined;
  return op && edit ? setFilter(edit.q, edit.key, edit.value, op, true) : query;
}

/** queryHasFilter: the builder filter `key = value` is in the query. */
export function flowQueryHasFilter(query: FlowQuery, options: QueryFilterOptions): boolean {
  const q = migrateQuery(query);
  return (
    typeof q.rawQuery !== 'string' &&
    Array.isArray(q.filters) &&
    q.filters.some((f) => matches(f, options?.key, '=', options?.value))
  );
}
