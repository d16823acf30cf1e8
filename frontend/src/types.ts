// The query model v1 and the datasource settings, mirroring
// docs/query-model.md (the contract with the Rust backend, whose type is
// `flowlens::model::QueryJson`). examples/queries.json is parsed by both test
// suites so the two cannot drift apart silently.
import type { DataQuery, DataSourceJsonData } from '@grafana/schema';

/** Current query model version. */
export const QUERY_VERSION = 1;

export type Format = 'stat' | 'series' | 'table' | 'logs' | 'nodegraph';
export type Metric = 'bytes' | 'packets' | 'records' | 'distinct' | 'cost';
/**
 * Which of the datasource's prices per GB `metric: cost` uses: `nat` =
 * natPricePerGb (NAT gateway data processing), `egress` = egressPricePerGb
 * (out to the internet), `crossAz` = crossAzPricePerGb (between Availability Zones).
 */
export type Price = 'nat' | 'egress' | 'crossAz';
/** Logs only: `desc` = newest records first (the default), `asc` = oldest first (log context after a row). */
export type LogOrder = 'asc' | 'desc';
/**
 * Relative to the datasource's inside CIDRs: `in` = pkt_dstaddr inside,
 * `out` = pkt_srcaddr inside, `any` = either inside, `all` = no direction filter.
 */
export type Direction = 'in' | 'out' | 'any' | 'all';
/**
 * `=|` / `!=|`: the field is one of / none of a list of values (`value` is a
 * list); `<` `<=` `>` `>=`: numeric comparison on a numeric field.
 */
export type FilterOp = '=' | '!=' | '=~' | '!~' | '=|' | '!=|' | 'cidr' | '!cidr' | 'range' | '<' | '<=' | '>' | '>=';

export const FORMATS: readonly Format[] = ['stat', 'series', 'table', 'logs', 'nodegraph'];
export const METRICS: readonly Metric[] = ['bytes', 'packets', 'records', 'distinct', 'cost'];
export const PRICES: readonly Price[] = ['nat', 'egress', 'crossAz'];
export const LOG_ORDERS: readonly LogOrder[] = ['asc', 'desc'];
/** The datasource setting (jsonData) that holds each price. */
export const PRICE_SETTINGS: Readonly<Record<Price, 'natPricePerGb' | 'egressPricePerGb' | 'crossAzPricePerGb'>> = {
  nat: 'natPricePerGb',
  egress: 'egressPricePerGb',
  crossAz: 'crossAzPricePerGb',
};
export const DIRECTIONS: readonly Direction[] = ['in', 'out', 'any', 'all'];
export const FILTER_OPS: readonly FilterOp[] = [
  '=',
  '!=',
  '=~',
  '!~',
  '=|',
  '!=|',
  'cidr',
  '!cidr',
  'range',
  '<',
  '<=',
  '>',
  '>=',
];
export const REGEX_OPS: readonly FilterOp[] = ['=~', '!~'];
export const EXACT_OPS: readonly FilterOp[] = ['=', '!='];
/** Ops whose value is a list of values. */
export const SET_OPS: readonly FilterOp[] = ['=|', '!=|'];
/** Numeric comparisons. */
export const COMPARE_OPS: readonly FilterOp[] = ['<', '<=', '>', '>='];

/**
 * One ANDed filter. `value` is data: the backend quotes it, never parses it
 * as syntax. It is a list for `=|` / `!=|`, a string for every other op.
 */
export interface FlowFilter {
  field: string;
  op: FilterOp;
  value: string | string[];
}

/** A panel target, query model version 1. Every field but refId is optional with a default. */
export interface FlowQuery extends DataQuery {
  version?: number;
  format?: Format;
  metric?: Metric;
  direction?: Direction;
  /** Canonical field names in column order. */
  groupBy?: string[];
  /** Top-N over the whole range (exactly N groups); 0 or absent = the default: 10 series, 100 table rows, 1000 records. */
  limit?: number;
  /** Add an `other` series/row = total minus the top N. */
  other?: boolean;
  /** Series only: divide each bucket by its width in seconds (unit Bps); bytes, packets and records only. */
  rate?: boolean;
  /**
   * Table or series with groupBy: each group's value as a percentage of the
   * total over every group (per bucket for series). Not with rate or distinct.
   */
  share?: boolean;
  /**
   * `metric: distinct`: the field whose distinct values are counted (`dstport`,
   * `pkt_dstaddr`; `inside_addr` / `outside_addr` with direction in or out).
   * Records without a value are not counted. Ignored by other metrics.
   */
  distinctField?: string;
  /** `metric: cost`: which price per GB of the datasource the bytes are priced at; default `nat`. */
  price?: Price;
  /**
   * Logs only: which records of the range the limit keeps and in which order,
   * `desc` = the newest first (the default), `asc` = the oldest first.
   */
  order?: LogOrder;
  filters?: FlowFilter[];
  /**
   * null/absent = the datasource default; "" turns the default interface
   * filter off; a list = any of these interfaces.
   */
  interfaceId?: string | string[] | null;
  /** Hand-written LogsQL/LogQL; the plugin applies time range and step. */
  rawQuery?: string | null;
}

/** Defaults of docs/query-model.md, for fields a saved query may lack. */
export const QUERY_DEFAULTS = {
  version: QUERY_VERSION,
  format: 'series' as Format,
  metric: 'bytes' as Metric,
  direction: 'any' as Direction,
  groupBy: [] as string[],
  other: false,
  rate: false,
  share: false,
  filters: [] as FlowFilter[],
  interfaceId: null as string | string[] | null,
  rawQuery: null as string | null,
};

/** Limit the editor shows for a new query: 10 for series with groupBy, else 0 (the backend's default). */
export function defaultLimit(format: Format, groupBy: string[]): number {
  return format === 'series' && groupBy.length > 0 ? 10 : 0;
}

/** A template variable query: the values of one field, largest by bytes first. */
export interface FlowVariableQuery extends DataQuery {
  field: string;
  direction?: Direction;
  filters?: FlowFilter[];
  limit?: number;
}

export const DEFAULT_VARIABLE_LIMIT = 100;

export type BackendKind = 'victorialogs' | 'loki';
export type RecordMode = 'raw' | 'fields';
/** Loki, `recordMode: fields`: where the fields parsed at ingest are. */
export type LokiFields = 'structured-metadata' | 'json' | 'logfmt';

export interface DataLinkSetting {
  /** Canonical field the link is on (`pkt_srcaddr`). */
  field: string;
  title: string;
  /** URL template; Grafana expands `${__value.raw}`. */
  url: string;
}

/**
 * jsonData. Extra headers follow Grafana's convention: `httpHeaderName1..N`
 * here, values in secureJsonData `httpHeaderValue1..N`. Basic auth uses the
 * datasource's own `basicAuth`/`basicAuthUser` and secureJsonData
 * `basicAuthPassword`.
 */
export type LokiTimestamps = 'milliseconds' | 'nanoseconds';

/** jsonData's `loki` section. */
export interface LokiSettings {
  /** `fields` mode: structured metadata (default), JSON lines or logfmt lines. */
  fields?: LokiFields;
  /** Sub-range length of long queries, e.g. `1h` (default) or `0` (never split). */
  splitInterval?: string;
  /** Entries stamped on whole milliseconds (default: series as range queries) or anywhere (each bucket an instant query). */
  timestamps?: LokiTimestamps;
}

/**
 * How the rule engine stamps an interval's sum: `end` (vmalert evaluating
 * live, the Loki ruler; the default) or `start` (vmalert's `-replay.timeFrom` backfill).
 */
export type RollupStamps = 'end' | 'start';

/**
 * jsonData's `rollups` section (src/rollups/settings.rs): a Prometheus-compatible
 * store of recording-rule rollups (`flowlens rules`). No `url`: no rollups.
 * Basic auth with `basicAuthUser` and secureJsonData `rollupsBasicAuthPassword`,
 * or secureJsonData `rollupsBearerToken`; TLS settings are the datasource's.
 */
export interface RollupSettings {
  /** The store's base URL, e.g. http://victoriametrics:8428. */
  url?: string;
  /** The rules' evaluation interval (`flowlens rules --resolution`): whole seconds from 1s to 1d; 1m when unset. */
  resolution?: string;
  stamps?: RollupStamps;
  basicAuthUser?: string;
}

/**
 * jsonData's `names` section (src/names/settings.rs, README "Names"): where
 * names of addresses come from; each source optional.
 */
export interface NamesSettings {
  /** CIDR map: `CIDR name` lines (`#` comments), or an object. */
  networks?: string | Record<string, string>;
  /** AWS's ip-ranges.json: a path or an http(s) URL. */
  awsIpRanges?: string;
  /** MMDB files, comma-separated. */
  mmdb?: string;
  /** kube_pod_info's store: true = the rollup store, or its own URL and resolution. */
  kubernetes?: boolean | { url?: string; resolution?: string; basicAuthUser?: string };
}

export interface FlowDataSourceOptions extends DataSourceJsonData {
  backend?: BackendKind;
  streamSelector?: string;
  recordMode?: RecordMode;
  recordFormat?: string;
  /** `fields` mode: canonical name -> log field name. */
  fieldMapping?: Record<string, string>;
  /** Loki's own settings (backends/loki.tsx; src/backends/loki/settings.rs). */
  loki?: LokiSettings;
  /** Earlier versions' flat Loki keys: still read, replaced by `loki` when a Loki setting is edited. */
  lokiFields?: LokiFields;
  lokiSplitInterval?: string;
  lokiTimestamps?: LokiTimestamps;
  insideCidrs?: string[];
  interfaceId?: string;
  timeoutSeconds?: number;
  tlsSkipVerify?: boolean;
  bearerAuth?: boolean;
  dataLinks?: DataLinkSetting[];
  /** Byte stats and tables get a cost column priced at `natPricePerGb`. */
  costColumn?: boolean;
  /**
   * Earlier versions' price of the cost column: still read as `costColumn: true`
   * and, when `natPricePerGb` is unset, as the NAT price; replaced by them when
   * the cost column or the NAT price is edited.
   */
  costPerGb?: number;
  /** `metric: cost`, `price: nat`, and the cost column: USD per GB (10^9 bytes) of NAT gateway data processing; 0.045 when unset. */
  natPricePerGb?: number;
  /** `metric: cost`, `price: egress`: USD per GB of data transfer out to the internet; unset = no such price. */
  egressPricePerGb?: number;
  /** `metric: cost`, `price: crossAz`: USD per GB of data transfer between Availability Zones; unset = no such price. */
  crossAzPricePerGb?: number;
  /** The rollup store (README "Rollups: weeks in a second"). */
  rollups?: RollupSettings;
  /** Names of addresses (README "Names"). */
  names?: NamesSettings;
  [httpHeaderName: `httpHeaderName${number}`]: string | undefined;
}

export interface FlowSecureJsonData {
  basicAuthPassword?: string;
  bearerToken?: string;
  tlsCACert?: string;
  /** The rollup store's basic auth password (with jsonData `rollups.basicAuthUser`). */
  rollupsBasicAuthPassword?: string;
  /** The rollup store's bearer token (when `rollups.basicAuthUser` is unset). */
  rollupsBearerToken?: string;
  [httpHeaderValue: `httpHeaderValue${number}`]: string | undefined;
}

export const SETTINGS_DEFAULTS = {
  backend: 'victorialogs' as BackendKind,
  recordMode: 'raw' as RecordMode,
  lokiFields: 'structured-metadata' as LokiFields,
  lokiSplitInterval: '1h',
  lokiTimestamps: 'milliseconds' as LokiTimestamps,
  timeoutSeconds: 60,
  natPricePerGb: 0.045,
};

/** A field of the configured record format, as the `fields` resource answers. */
export type FieldType = 'string' | 'ip' | 'number';
export interface FieldInfo {
  name: string;
  type: FieldType;
}
