import {
  CoreApp,
  DataFrame,
  DataFrameType,
  DataQueryRequest,
  dateTime,
  FieldType,
  LogsVolumeType,
  SupplementaryQueryType,
} from '@grafana/data';

import { FlowQuery } from '../types';
import { validateQuery } from '../validation';
import {
  actionLevel,
  supplementaryQuery,
  supplementaryRequest,
  takeVolumeSources,
  VolumeTarget,
  volumeResponse,
} from './supplementary';

const VOLUME = { type: SupplementaryQueryType.LogsVolume } as const;
const SAMPLE = { type: SupplementaryQueryType.LogsSample } as const;

const logs: FlowQuery = {
  refId: 'A',
  format: 'logs',
  direction: 'in',
  limit: 500,
  order: 'asc',
  filters: [{ field: 'dstport', op: '=', value: '443' }],
  interfaceId: 'eni-0352f8c82da6aa229',
  datasource: { type: 'flowlens-flowlogs-datasource', uid: 'flowlens' },
};

const series: FlowQuery = {
  refId: 'B',
  format: 'series',
  metric: 'distinct',
  distinctField: 'dstport',
  direction: 'out',
  rate: false,
  groupBy: ['pkt_srcaddr'],
  limit: 5,
  other: true,
  filters: [{ field: 'action', op: '=', value: 'REJECT' }],
  interfaceId: ['eni-0352f8c82da6aa229'],
};

function request(targets: FlowQuery[]): DataQueryRequest<FlowQuery> {
  return {
    requestId: 'explore_left',
    targets,
    range: { from: dateTime(1_700_000_000_000), to: dateTime(1_700_003_600_000), raw: { from: 'now-1h', to: 'now' } },
    scopedVars: {},
    interval: '1m',
    intervalMs: 60_000,
    maxDataPoints: 1000,
    timezone: 'utc',
    app: CoreApp.Explore,
    startTime: 0,
  };
}

describe('supplementary queries', () => {
  it('counts a logs target per action over time, same filters, direction and interface', () => {
    const q = supplementaryQuery(VOLUME, logs) as VolumeTarget;
    expect(q).toMatchObject({
      refId: 'log-volume-A',
      format: 'series',
      metric: 'records',
      groupBy: ['action'],
      limit: 10,
      other: false,
      rate: false,
      share: false,
      direction: 'in',
      filters: [{ field: 'dstport', op: '=', value: '443' }],
      interfaceId: 'eni-0352f8c82da6aa229',
      datasource: logs.datasource,
    });
    // Logs only: a series with `order: asc` would be an error.
    expect(q).not.toHaveProperty('order');
    expect(q.volumeOf).toBe(logs);
    expect(validateQuery(q)).toEqual([]);
  });

  it('samples the records of a metric target', () => {
    const q = supplementaryQuery(SAMPLE, series);
    expect(q).toEqual({
      refId: 'log-sample-B',
      version: 1,
      format: 'logs',
      direction: 'out',
      groupBy: [],
      limit: 100,
      other: false,
      rate: false,
      share: false,
      filters: [{ field: 'action', op: '=', value: 'REJECT' }],
      interfaceId: ['eni-0352f8c82da6aa229'],
      rawQuery: null,
    });
    expect(validateQuery(q!)).toEqual([]);
    expect(supplementaryQuery({ ...SAMPLE, limit: 20 }, { refId: 'C', format: 'stat' })).toMatchObject({
      refId: 'log-sample-C',
      format: 'logs',
      limit: 20,
    });
  });

  it('has no volume of a metric target, no sample of a logs target, none of raw or hidden targets', () => {
    expect(supplementaryQuery(VOLUME, series)).toBeUndefined();
    expect(supplementaryQuery(SAMPLE, logs)).toBeUndefined();
    for (const q of [
      { ...logs, rawQuery: '* | limit 10' },
      { ...logs, rawQuery: '' }, // raw mode, nothing typed yet
      { ...logs, hide: true },
    ]) {
      expect(supplementaryQuery(VOLUME, q)).toBeUndefined();
      expect(supplementaryQuery(SAMPLE, { ...q, format: 'table' })).toBeUndefined();
    }
    // A saved target without a format is a series (the default).
    expect(supplementaryQuery(SAMPLE, { refId: 'D' })).toMatchObject({ refId: 'log-sample-D' });
  });

  it('builds the request of the targets that have one', () => {
    const req = request([logs, series, { ...logs, refId: 'C' }]);
    const volume = supplementaryRequest(SupplementaryQueryType.LogsVolume, req);
    expect(volume?.targets.map((t) => t.refId)).toEqual(['log-volume-A', 'log-volume-C']);
    expect(volume?.requestId).not.toBe(req.requestId);
    expect(volume?.range).toBe(req.range);
    const sample = supplementaryRequest(SupplementaryQueryType.LogsSample, req, {
      type: SupplementaryQueryType.LogsSample,
      limit: 7,
    });
    expect(sample?.targets).toEqual([expect.objectContaining({ refId: 'log-sample-B', limit: 7 })]);
    expect(sample?.requestId).not.toBe(volume?.requestId);
    expect(supplementaryRequest(SupplementaryQueryType.LogsSample, request([logs]))).toBeUndefined();
    expect(supplementaryRequest(SupplementaryQueryType.LogsVolume, request([]))).toBeUndefined();
    expect(req.targets).toEqual([logs, series, { ...logs, refId: 'C' }]);
  });

  it('takes the source off volume targets before they are sent', () => {
    const volume = supplementaryQuery(VOLUME, logs)!;
    const { targets, sources } = takeVolumeSources([series, volume, { refId: 'log-volume-X', format: 'series', filters: [] }]);
    expect(targets[0]).toBe(series);
    expect(targets[1]).not.toHaveProperty('volumeOf');
    expect(targets[1]).toMatchObject({ refId: 'log-volume-A', format: 'series' });
    expect(sources.get('log-volume-A')).toBe(logs);
    // Built elsewhere, without its source: the same filters as a logs target.
    expect(sources.get('log-volume-X')).toMatchObject({ refId: 'X', format: 'logs', groupBy: [] });
    expect(sources.has(series.refId)).toBe(false);
  });

  it('reads actions as log levels', () => {
    expect(actionLevel('REJECT')).toBe('error');
    expect(actionLevel('ACCEPT')).toBe('info');
    expect(actionLevel('')).toBe('unknown');
    expect(actionLevel(undefined)).toBe('unknown');
  });

  it('makes volume frames a logs volume, in order, and leaves other frames', () => {
    const frame = (refId: string, action: string): DataFrame => ({
      refId,
      name: action || '-',
      length: 2,
      meta: { type: DataFrameType.TimeSeriesMulti, custom: { kept: 1 } },
      fields: [
        { name: 'time', type: FieldType.time, config: {}, values: [1, 2] },
        { name: 'records', type: FieldType.number, config: { unit: 'short' }, labels: { action }, values: [3, 4] },
      ],
    });
    const frames = [...['REJECT', 'ACCEPT', ''].map((a) => frame('log-volume-A', a)), frame('B', 'ACCEPT')];
    const req = request([logs]);
    const out = volumeResponse({ data: frames }, new Map([['log-volume-A', logs]]), req, 'flowlens').data as DataFrame[];
    expect(out.map((f) => f.fields[1].labels)).toEqual([
      { action: 'REJECT', level: 'error' },
      { action: 'ACCEPT', level: 'info' },
      { action: '', level: 'unknown' },
      { action: 'ACCEPT' },
    ]);
    expect(out.map((f) => f.fields[1].config.displayNameFromDS)).toEqual(['REJECT', 'ACCEPT', '-', undefined]);
    expect(out[0].fields[1].config.unit).toBe('short');
    expect(out[0].fields[0]).toBe(frames[0].fields[0]);
    expect(out[0].meta?.preferredVisualisationType).toBe('graph');
    expect(out[0].meta?.custom).toEqual({
      kept: 1,
      logsVolumeType: LogsVolumeType.FullRange,
      absoluteRange: { from: 1_700_000_000_000, to: 1_700_003_600_000 },
      datasourceName: 'flowlens',
      sourceQuery: logs,
    });
    expect(out[3]).toBe(frames[3]);
    // The frames Grafana passed are not changed.
    expect(frames[0].fields[1].labels).toEqual({ action: 'REJECT' });
  });
});
