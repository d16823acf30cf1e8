// Log context: the records of the same interface around a log row, whatever
// the filters of the query that found the row. Backward: the newest records
// up to the row (the row itself dropped); forward: the oldest after it.
import {
  CoreApp,
  DataFrame,
  DataQueryRequest,
  DataQueryResponse,
  dateTime,
  FieldType,
  LogRowContextOptions,
  LogRowContextQueryDirection,
  LogRowModel,
} from '@grafana/data';

import { migrateQuery } from '../migrate';
import { FlowQuery } from '../types';

export const LOG_CONTEXT_PREFIX = 'log-context-';
/** How far before (backward) or after (forward) the row context looks when Explore names no window. */
export const DEFAULT_CONTEXT_WINDOW_MS = 2 * 60 * 60 * 1000;
/** Records of context when Explore names no limit. */
export const DEFAULT_CONTEXT_LIMIT = 50;

function direction(options?: LogRowContextOptions): LogRowContextQueryDirection {
  return options?.direction ?? LogRowContextQueryDirection.Backward;
}

/** AWS writes `-` for a field a record has no value of. */
function present(value: string | undefined): value is string {
  return value !== undefined && value !== '' && value !== '-';
}

/**
 * The context target of a row: every record (no filters, direction all) of
 * the row's interface (its `interface_id` label, else the query's
 * interfaceId), `options.limit` of them (default 50), newest first backward,
 * oldest first forward.
 */
export function contextQuery(row: LogRowModel, options?: LogRowContextOptions, query?: FlowQuery): FlowQuery {
  const dir = direction(options);
  const label = row.labels?.interface_id;
  const interfaceId = present(label) ? label : query ? migrateQuery(query).interfaceId : null;
  return migrateQuery({
    ...(query?.datasource ? { datasource: query.datasource } : {}),
    refId: `${LOG_CONTEXT_PREFIX}${dir.toLowerCase()}`,
    format: 'logs',
    direction: 'all',
    filters: [],
    groupBy: [],
    interfaceId,
    // Backward reads the row itself too (see withoutRow): one more.
    limit: (options?.limit ?? DEFAULT_CONTEXT_LIMIT) + (dir === LogRowContextQueryDirection.Backward ? 1 : 0),
    order: dir === LogRowContextQueryDirection.Forward ? 'asc' : 'desc',
  });
}

/**
 * The range of the context: backward [row - window, row + 1 ms), forward
 * [row + 1 ms, row + window), in ms; window = options.timeWindowMs (default 2 hours).
 */
export function contextRange(row: LogRowModel, options?: LogRowContextOptions): { from: number; to: number } {
  const windowMs = options?.timeWindowMs ?? DEFAULT_CONTEXT_WINDOW_MS;
  const t = row.timeEpochMs;
  return direction(options) === LogRowContextQueryDirection.Forward
    ? { from: t + 1, to: t + windowMs }
    : { from: t - windowMs, to: t + 1 };
}

let requests = 0;

/** The request that runs the context target over the context range, as Explore's own requests look. */
export function contextRequest(
  row: LogRowModel,
  options?: LogRowContextOptions,
  query?: FlowQuery
): DataQueryRequest<FlowQuery> {
  const target = contextQuery(row, options, query);
  const { from, to } = contextRange(row, options);
  const range = { from: dateTime(from), to: dateTime(to) };
  requests += 1;
  return {
    requestId: `${target.refId}-${Date.now().toString(36)}-${requests}`,
    app: CoreApp.Explore,
    range: { ...range, raw: { ...range } },
    interval: '1m',
    intervalMs: 60_000,
    maxDataPoints: 1000,
    scopedVars: options?.scopedVars ?? {},
    targets: [target],
    timezone: 'UTC',
    startTime: Date.now(),
  };
}

/** The frame without its first row at the row's time with the row's body, or undefined when it has none. */
function frameWithoutRow(frame: DataFrame, row: LogRowModel): DataFrame | undefined {
  const fields = frame.fields ?? [];
  const time = fields.find((f) => f.name === 'timestamp') ?? fields.find((f) => f.type === FieldType.time);
  const body = fields.find((f) => f.name === 'body');
  if (!time || !body) {
    return undefined;
  }
  const ms = Math.floor(row.timeEpochMs);
  const index = time.values.findIndex(
    (t, i) => Math.floor(Number(t)) === ms && (body.values[i] === row.entry || body.values[i] === row.raw)
  );
  if (index < 0) {
    return undefined;
  }
  const drop = <T>(values: T[]): T[] => values.filter((_, i) => i !== index);
  return {
    ...frame,
    fields: fields.map((f) => ({ ...f, values: drop(f.values), ...(f.nanos ? { nanos: drop(f.nanos) } : {}) })),
    length: Math.max(0, (frame.length ?? time.values.length) - 1),
  };
}

/** The first `limit` rows of a frame. */
function firstRows(frame: DataFrame, limit: number): DataFrame {
  const fields = frame.fields ?? [];
  const length = fields[0]?.values.length ?? 0;
  if (length <= limit) {
    return frame;
  }
  const keep = <T>(values: T[]): T[] => values.slice(0, limit);
  return {
    ...frame,
    fields: fields.map((f) => ({ ...f, values: keep(f.values), ...(f.nanos ? { nanos: keep(f.nanos) } : {}) })),
    length: limit,
  };
}

/**
 * The backward context without the row itself (the range ends just after
 * it, so it is in the answer, which asked for one more), at most `limit`
 * rows (default 50).
 */
export function withoutRow(response: DataQueryResponse, row: LogRowModel, limit = DEFAULT_CONTEXT_LIMIT): DataQueryResponse {
  let dropped = false;
  const data = (response.data ?? []).map((frame: DataFrame) => {
    if (!frame || !Array.isArray(frame.fields)) {
      return frame;
    }
    const rest = dropped ? undefined : frameWithoutRow(frame, row);
    dropped ||= rest !== undefined;
    return firstRows(rest ?? frame, limit);
  });
  return { ...response, data };
}
