// Brings any saved target (older, partial, or hand-written JSON) to query
// model version 1 with every field present. Never throws: a value that cannot
// be read is left for validateQuery to name.
import { defaultLimit, FilterOp, FlowFilter, FlowQuery, FlowVariableQuery, QUERY_DEFAULTS, QUERY_VERSION } from './types';

type Loose = Record<string, unknown>;

/** The value when present (even if invalid, so that validation names it), else the default. */
function orDefault<T>(value: unknown, fallback: T): T {
  return value === undefined || value === null || value === '' ? fallback : (value as T);
}

const OP_ALIASES = new Map<string, FilterOp>([
  ['==', '='],
  ['~', '=~'],
  ['!=~', '!~'],
  ['in-cidr', 'cidr'],
  ['not-cidr', '!cidr'],
]);

function migrateFilter(raw: unknown): FlowFilter {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    // Kept as it is: validation names it, the backend rejects it; never dropped.
    return raw as FlowFilter;
  }
  const f = raw as Loose;
  const op = typeof f.op === 'string' ? (OP_ALIASES.get(f.op) ?? f.op) : '=';
  const value = f.value === undefined || f.value === null ? '' : f.value;
  return {
    field: f.field === undefined || f.field === null ? '' : (f.field as string),
    // An unknown op or a non-string value is kept so that validation names it.
    op: op as FilterOp,
    value: typeof value === 'number' ? String(value) : (value as string),
  };
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * A version-1 query with every field set. Accepts a plain string (taken as
 * rawQuery), a query without `version`, missing or null fields, a comma
 * separated groupBy and string numbers. Unknown keys (datasource, hide, ...)
 * are kept, and so are `distinctField`, `price` and `order` as written
 * (absent: the backend's defaults; a metric other than distinct ignores
 * distinctField). A null or empty `order` is the default and is left out.
 */
export function migrateQuery(input: FlowQuery | string | Loose | null | undefined, refId = 'A'): FlowQuery {
  if (typeof input === 'string') {
    return migrateQuery({ refId, rawQuery: input.trim() === '' ? null : input });
  }
  const q: Loose = input && typeof input === 'object' ? { ...input } : {};
  if (q.order === null || q.order === '') {
    delete q.order;
  }
  const format = orDefault(q.format, QUERY_DEFAULTS.format);
  const groupBy = stringList(q.groupBy);
  const limitNumber = typeof q.limit === 'string' && q.limit.trim() !== '' ? Number(q.limit) : q.limit;
  const limit =
    typeof limitNumber === 'number' && Number.isFinite(limitNumber) ? limitNumber : defaultLimit(format, groupBy);
  // An empty string stays: it is raw mode with nothing typed yet (the datasource sends it as null).
  const rawQuery = typeof q.rawQuery === 'string' ? q.rawQuery : null;
  // Filters that are not a list are kept for validation to name (the backend rejects them too).
  const filters =
    q.filters === undefined || q.filters === null ? [] : Array.isArray(q.filters) ? q.filters.map(migrateFilter) : q.filters;
  return {
    ...q,
    refId: typeof q.refId === 'string' && q.refId !== '' ? q.refId : refId,
    // A newer version is kept so that validation says it is not supported.
    version: typeof q.version === 'number' && q.version > QUERY_VERSION ? q.version : QUERY_VERSION,
    format,
    metric: orDefault(q.metric, QUERY_DEFAULTS.metric),
    direction: orDefault(q.direction, QUERY_DEFAULTS.direction),
    groupBy,
    limit,
    other: q.other === true || q.other === 'true',
    rate: q.rate === true || q.rate === 'true',
    share: q.share === true || q.share === 'true',
    filters,
    // A list of interfaces is kept; anything else that is not a string is kept for validation to name.
    interfaceId: q.interfaceId === undefined ? null : (q.interfaceId as FlowQuery['interfaceId']),
    rawQuery,
  } as FlowQuery;
}

/** Variable queries: a plain string is a field name (`pkt_srcaddr`) or `values(pkt_srcaddr)`. */
export function migrateVariableQuery(input: FlowVariableQuery | string | null | undefined): FlowVariableQuery {
  if (typeof input === 'string') {
    const m = /^\s*(?:values\(\s*([\w]+)\s*\)|([\w]+))\s*$/.exec(input);
    return { refId: 'FlowVariableQuery', field: m ? (m[1] ?? m[2]) : input.trim() };
  }
  const q = input ?? { refId: 'FlowVariableQuery', field: '' };
  return {
    ...q,
    refId: q.refId || 'FlowVariableQuery',
    field: typeof q.field === 'string' ? q.field : '',
    filters: Array.isArray(q.filters) ? q.filters.map(migrateFilter) : [],
  };
}
