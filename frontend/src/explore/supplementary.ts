// Explore's supplementary queries: the logs volume above a logs query (how
// many records per action over the range) and the logs sample below a metric
// query (the records it counts). Both are the original target's question
// (filters, direction, interface) asked in another shape.
import {
  DataFrame,
  DataQueryRequest,
  DataQueryResponse,
  FieldType,
  LogLevel,
  LogsVolumeCustomMetaData,
  LogsVolumeType,
  SupplementaryQueryOptions,
  SupplementaryQueryType,
} from '@grafana/data';

import { migrateQuery } from '../migrate';
import { FlowQuery } from '../types';

export const LOG_VOLUME_PREFIX = 'log-volume-';
export const LOG_SAMPLE_PREFIX = 'log-sample-';
/** Records a logs sample shows when Explore names no limit. */
export const DEFAULT_SAMPLE_LIMIT = 100;

export const SUPPLEMENTARY_QUERY_TYPES: readonly SupplementaryQueryType[] = [
  SupplementaryQueryType.LogsVolume,
  SupplementaryQueryType.LogsSample,
];

/**
 * A logs-volume target carries the logs target it counts (`volumeOf`), for
 * the answer's meta (LogsVolumeCustomMetaData.sourceQuery); the datasource
 * takes it off before the target is sent (takeVolumeSources).
 */
export interface VolumeTarget extends FlowQuery {
  volumeOf?: FlowQuery;
}

/** Fields that mean nothing in the supplementary shape (the backend ignores or, for `order`, rejects them). */
function without(q: FlowQuery, keys: Array<keyof VolumeTarget>): FlowQuery {
  const copy: VolumeTarget = { ...q };
  for (const k of keys) {
    delete copy[k];
  }
  return copy;
}

/** A builder target Explore may ask a supplementary query of: not hidden, not hand-written. */
function builderTarget(query: FlowQuery): FlowQuery | undefined {
  if (query.hide) {
    return undefined;
  }
  const q = migrateQuery(query);
  return typeof q.rawQuery === 'string' ? undefined : q;
}

/**
 * The supplementary target of one target, or undefined when it has none:
 * - LogsVolume, of a builder logs target: records per action over time
 *   (refId `log-volume-<refId>`), read by Explore like log levels (see
 *   volumeResponse);
 * - LogsSample, of a builder metric target (stat, series, table): its records
 *   (refId `log-sample-<refId>`), `options.limit` of them (default 100).
 */
export function supplementaryQuery(options: SupplementaryQueryOptions, query: FlowQuery): FlowQuery | undefined {
  const q = builderTarget(query);
  if (!q) {
    return undefined;
  }
  const shape = { groupBy: [] as string[], other: false, rate: false, share: false };
  switch (options.type) {
    case SupplementaryQueryType.LogsVolume: {
      if (q.format !== 'logs') {
        return undefined;
      }
      const target: VolumeTarget = {
        ...without(q, ['distinctField', 'price', 'order']),
        ...shape,
        refId: `${LOG_VOLUME_PREFIX}${q.refId}`,
        format: 'series',
        metric: 'records',
        groupBy: ['action'],
        limit: 10,
        volumeOf: query,
      };
      return target;
    }
    case SupplementaryQueryType.LogsSample: {
      if (q.format === 'logs') {
        return undefined;
      }
      return {
        ...without(q, ['metric', 'distinctField', 'price', 'order']),
        ...shape,
        refId: `${LOG_SAMPLE_PREFIX}${q.refId}`,
        format: 'logs',
        limit: options.limit ?? DEFAULT_SAMPLE_LIMIT,
      };
    }
    default:
      return undefined;
  }
}

/**
 * The request of one supplementary query type: every target's supplementary
 * target, those without one dropped; undefined when none is left.
 */
export function supplementaryRequest(
  type: SupplementaryQueryType,
  request: DataQueryRequest<FlowQuery>,
  options?: SupplementaryQueryOptions
): DataQueryRequest<FlowQuery> | undefined {
  const opts = { ...options, type } as SupplementaryQueryOptions;
  const targets = request.targets
    .map((t) => supplementaryQuery(opts, t))
    .filter((t): t is FlowQuery => t !== undefined);
  if (targets.length === 0) {
    return undefined;
  }
  const suffix = type === SupplementaryQueryType.LogsVolume ? 'log-volume' : 'log-sample';
  return { ...request, targets, requestId: `${request.requestId}_${suffix}` };
}

export function isVolumeRefId(refId: string | undefined): boolean {
  return typeof refId === 'string' && refId.startsWith(LOG_VOLUME_PREFIX);
}

/**
 * The logs targets the request's volume targets count, by volume refId, and
 * the targets as they are sent (without `volumeOf`). A volume target without
 * `volumeOf` (built elsewhere) counts its own filters as a logs target.
 */
export function takeVolumeSources(targets: FlowQuery[]): { targets: FlowQuery[]; sources: Map<string, FlowQuery> } {
  const sources = new Map<string, FlowQuery>();
  const sent = targets.map((t) => {
    if (!isVolumeRefId(t.refId)) {
      return t;
    }
    const { volumeOf, ...target } = t as VolumeTarget;
    sources.set(
      t.refId,
      volumeOf ??
        migrateQuery({
          ...target,
          refId: t.refId.slice(LOG_VOLUME_PREFIX.length),
          format: 'logs',
          metric: undefined,
          groupBy: [],
          limit: undefined,
        })
    );
    return target;
  });
  return { targets: sent, sources };
}

/** How Explore colours a volume series: rejected records as errors, accepted as info. */
export function actionLevel(action: string | undefined): LogLevel {
  switch (action) {
    case 'REJECT':
      return LogLevel.error;
    case 'ACCEPT':
      return LogLevel.info;
    default:
      return LogLevel.unknown;
  }
}

/**
 * One volume frame (a timeseries-multi frame per action, the value field
 * labelled `{action}`) as Explore reads a logs volume: a `level` label next
 * to `action`, the action as display name (`-` for records without one),
 * the LogsVolumeCustomMetaData and a graph.
 */
export function volumeFrame(frame: DataFrame, meta: LogsVolumeCustomMetaData): DataFrame {
  const fields = frame.fields.map((f) => {
    if (f.type !== FieldType.number) {
      return f;
    }
    const action = f.labels?.action;
    return {
      ...f,
      labels: { ...f.labels, level: actionLevel(action) },
      config: { ...f.config, displayNameFromDS: action ? action : '-' },
    };
  });
  return {
    ...frame,
    fields,
    meta: {
      ...frame.meta,
      custom: { ...frame.meta?.custom, ...meta },
      preferredVisualisationType: 'graph',
    },
  };
}

/**
 * The response with every volume frame (refId `log-volume-...`) made a logs
 * volume (volumeFrame), in the same order; other frames as they are.
 */
export function volumeResponse(
  response: DataQueryResponse,
  sources: Map<string, FlowQuery>,
  request: DataQueryRequest<FlowQuery>,
  datasourceName: string
): DataQueryResponse {
  const absoluteRange = { from: request.range.from.valueOf(), to: request.range.to.valueOf() };
  const data = (response.data ?? []).map((frame: DataFrame) => {
    const source = frame?.refId !== undefined ? sources.get(frame.refId) : undefined;
    if (!source || !Array.isArray(frame.fields)) {
      return frame;
    }
    return volumeFrame(frame, {
      logsVolumeType: LogsVolumeType.FullRange,
      absoluteRange,
      datasourceName,
      sourceQuery: source,
    });
  });
  return { ...response, data };
}
