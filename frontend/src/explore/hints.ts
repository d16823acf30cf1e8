// Query hints: what makes a builder query read less, from the query and the
// datasource settings alone.
import { QueryHint } from '@grafana/data';

import { migrateQuery } from '../migrate';
import { FlowDataSourceOptions, FlowFilter, FlowQuery } from '../types';

export const HINT_PICK_INTERFACE = 'PICK_INTERFACE';
export const HINT_PARSE_AT_INGEST = 'PARSE_AT_INGEST';
/** Past this range a raw-text metric query gets the parse-at-ingest hint. */
export const LONG_RANGE_MS = 86_400_000 + 60_000;

/** A filter the datasource sends (a row still being filled in is not). */
function applied(f: unknown): boolean {
  if (typeof f !== 'object' || f === null || Array.isArray(f)) {
    return true; // sent as it is, for the backend to name
  }
  const { field, value } = f as FlowFilter;
  return field !== '' && value !== '' && !(Array.isArray(value) && value.length === 0);
}

function noInterface(id: FlowQuery['interfaceId']): boolean {
  return id === null || id === undefined || id === '' || (Array.isArray(id) && id.length === 0);
}

/**
 * Hints for a query:
 * - a builder logs query without filters or interface on a datasource
 *   without a default interface reads every interface's records;
 * - a builder metric query on raw records over more than a day (`rangeMs`,
 *   when known) parses every record of that range at query time.
 */
export function queryHints(query: FlowQuery, settings: FlowDataSourceOptions, rangeMs?: number): QueryHint[] {
  const q = migrateQuery(query);
  if (typeof q.rawQuery === 'string') {
    return [];
  }
  const hints: QueryHint[] = [];
  const filters = Array.isArray(q.filters) ? q.filters.filter(applied) : [q.filters];
  if (q.format === 'logs' && filters.length === 0 && noInterface(q.interfaceId) && !settings.interfaceId?.trim()) {
    hints.push({
      type: HINT_PICK_INTERFACE,
      label: "Every interface's records are read; pick the NAT gateway's interface (interfaceId) to read fewer",
    });
  }
  const long = rangeMs !== undefined && rangeMs > LONG_RANGE_MS;
  if (long && (settings.recordMode ?? 'raw') !== 'fields' && ['stat', 'series', 'table'].includes(q.format ?? '')) {
    const days = Math.round(rangeMs / 86_400_000);
    hints.push({
      type: HINT_PARSE_AT_INGEST,
      label: `${days} days of records are parsed from raw text at query time; records parsed at ingest (recordMode fields, e.g. by Vector) read several times less per panel, or narrow the range or the stream selector`,
    });
  }
  return hints;
}
