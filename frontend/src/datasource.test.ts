import {
  CoreApp,
  DataFrame,
  DataQueryRequest,
  dateTime,
  hasLogsContextSupport,
  hasQueryModificationSupport,
  hasSupplementaryQuerySupport,
  hasToggleableQueryFiltersSupport,
  LogRowContextQueryDirection,
  LogsVolumeType,
  SupplementaryQueryType,
  TimeRange,
} from '@grafana/data';
import { BackendSrv, setBackendSrv } from '@grafana/runtime';
import { lastValueFrom, of, throwError } from 'rxjs';

import { errorMessage } from './datasource';
import { ALL_FIELDS, RELATIVE_FIELDS } from './fields';
import { makeDataSource } from './test/datasource';
import { BODY, logRow, T } from './test/explore';
import { FakeTemplateSrv } from './test/fakeTemplateSrv';
import { FlowDataSourceOptions, FlowQuery } from './types';
import { validateQuery } from './validation';

const range: TimeRange = {
  from: dateTime(1_700_000_000_000),
  to: dateTime(1_700_003_600_000),
  raw: { from: 'now-1h', to: 'now' },
};

const srv = new FakeTemplateSrv([
  { name: 'kubernetes_pod_ip', type: 'textbox', value: '.*' },
  { name: 'remote_svc_ip', value: ['1.2.3.4', '5.6.7.8'], options: ['1.2.3.4', '5.6.7.8'], multi: true },
]);

/** A BackendSrv whose fetch answers from `handler` and records each request. */
function fakeBackend(handler: (req: { url: string; method?: string; data?: unknown }) => unknown) {
  const requests: Array<{ url: string; method?: string; data?: unknown }> = [];
  setBackendSrv({
    fetch: (req: { url: string; method?: string; data?: unknown }) => {
      requests.push(req);
      try {
        return of({ data: handler(req), status: 200, ok: true });
      } catch (e) {
        return throwError(() => e);
      }
    },
  } as unknown as BackendSrv);
  return requests;
}

describe('DataSource', () => {
  it('gives a default query that shows bytes/sec at once', () => {
    const q = makeDataSource().getDefaultQuery(CoreApp.Explore);
    expect(q).toMatchObject({ format: 'series', metric: 'bytes', direction: 'any', rate: true });
    expect(validateQuery({ refId: 'A', ...q })).toEqual([]);
    // Without inside CIDRs no direction can be computed: no direction filter then.
    expect(makeDataSource({}).getDefaultQuery(CoreApp.Explore).direction).toBe('all');
  });

  it('filters hidden targets', () => {
    const ds = makeDataSource();
    expect(ds.filterQuery({ refId: 'A' })).toBe(true);
    expect(ds.filterQuery({ refId: 'A', hide: true })).toBe(false);
  });

  it('migrates and interpolates a target before it is sent', () => {
    const ds = makeDataSource(undefined, srv);
    const target = {
      refId: 'A',
      format: 'table',
      groupBy: ['pkt_srcaddr'],
      filters: [
        { field: 'pkt_dstaddr', op: '=~', value: '${kubernetes_pod_ip}' },
        { field: 'pkt_srcaddr', op: '=~', value: '${remote_svc_ip}' },
        { field: 'action', op: '=', value: '' },
      ],
    } as FlowQuery;
    expect(ds.applyTemplateVariables(target, {})).toEqual({
      refId: 'A',
      version: 1,
      format: 'table',
      metric: 'bytes',
      direction: 'any',
      groupBy: ['pkt_srcaddr'],
      limit: 0,
      other: false,
      rate: false,
      share: false,
      filters: [
        { field: 'pkt_dstaddr', op: '=~', value: '.*' },
        { field: 'pkt_srcaddr', op: '=~', value: '(1\\.2\\.3\\.4|5\\.6\\.7\\.8)' },
      ],
      interfaceId: null,
      rawQuery: null,
    });
  });

  it('interpolates raw queries and sends a blank one as none', () => {
    const ds = makeDataSource(undefined, srv);
    expect(ds.applyTemplateVariables({ refId: 'A', rawQuery: 'x:~"$remote_svc_ip"' }, {}).rawQuery).toBe(
      'x:~"(1\\\\.2\\\\.3\\\\.4|5\\\\.6\\\\.7\\\\.8)"'
    );
    expect(ds.applyTemplateVariables({ refId: 'A', rawQuery: '  ' }, {}).rawQuery).toBeNull();
  });

  it('sends every ad-hoc filter, whatever its key and operator (never drops one)', () => {
    const ds = makeDataSource(undefined, srv);
    const q = ds.applyTemplateVariables({ refId: 'A' }, {}, [
      { key: 'dstport', operator: '=', value: '443' },
      { key: 'action', operator: '=|', value: 'ACCEPT', values: ['ACCEPT', 'REJECT'] },
      { key: 'action', operator: '!=|', value: 'REJECT', values: ['REJECT'] },
      { key: 'bytes', operator: '>=', value: '1024' },
      { key: 'srcport', operator: '<', value: '1024' },
      { key: 'not_a_field', operator: '=', value: 'x' },
      { key: 'action', operator: 'constructor', value: 'x' },
      { key: 'pkt_srcaddr', operator: '=~', value: '$remote_svc_ip' },
    ]);
    expect(q.filters).toEqual([
      { field: 'dstport', op: '=', value: '443' },
      { field: 'action', op: '=|', value: ['ACCEPT', 'REJECT'] },
      { field: 'action', op: '!=|', value: ['REJECT'] },
      { field: 'bytes', op: '>=', value: '1024' },
      { field: 'srcport', op: '<', value: '1024' },
      // The backend answers an error naming these two.
      { field: 'not_a_field', op: '=', value: 'x' },
      { field: 'action', op: 'constructor', value: 'x' },
      // Ad-hoc values are data, not templates.
      { field: 'pkt_srcaddr', op: '=~', value: '$remote_svc_ip' },
    ]);
  });

  it('turns a multi-value interface variable into a list', () => {
    const ds = makeDataSource(undefined, new FakeTemplateSrv([
      { name: 'eni', value: ['eni-a', 'eni-b'], options: ['eni-a', 'eni-b'], multi: true },
    ]));
    expect(ds.applyTemplateVariables({ refId: 'A', interfaceId: '$eni' }, {}).interfaceId).toEqual(['eni-a', 'eni-b']);
    expect(ds.applyTemplateVariables({ refId: 'A', interfaceId: '' }, {}).interfaceId).toBe('');
    expect(ds.applyTemplateVariables({ refId: 'A' }, {}).interfaceId).toBeNull();
  });

  it('does not send a builder row still being filled in (the editor says so)', () => {
    const ds = makeDataSource(undefined, srv);
    const q = ds.applyTemplateVariables(
      {
        refId: 'A',
        filters: [
          { field: 'action', op: '=|', value: [] },
          { field: '', op: '=', value: 'x' },
          { field: 'action', op: '=', value: '' },
          { field: 'action', op: '=|', value: ['ACCEPT'] },
        ],
      },
      {}
    );
    expect(q.filters).toEqual([{ field: 'action', op: '=|', value: ['ACCEPT'] }]);
  });

  it('keeps filters a saved target holds in a shape the backend must name', () => {
    const ds = makeDataSource(undefined, srv);
    const q = ds.applyTemplateVariables({ refId: 'A', filters: ['pkt_srcaddr=1.2.3.4'] } as unknown as FlowQuery, {});
    expect(q.filters).toEqual(['pkt_srcaddr=1.2.3.4']);
    const notList = ds.applyTemplateVariables({ refId: 'A', filters: 'x' } as unknown as FlowQuery, {});
    expect(notList.filters).toBe('x');
    expect(validateQuery(notList)).toContain('filters: must be a list of {field, op, value}');
  });

  it('answers a target whose variables cannot be interpolated with its own error; the others run', async () => {
    const requests = fakeBackend(() => ({ results: { B: { status: 200, frames: [] } } }));
    const ds = makeDataSource(undefined, srv);
    const response = await lastValueFrom(
      ds.query({
        targets: [
          { refId: 'A', rawQuery: 'pkt_srcaddr:=$remote_svc_ip' },
          { refId: 'B', format: 'stat' },
        ],
        range,
        scopedVars: {},
        interval: '1m',
        intervalMs: 60_000,
        maxDataPoints: 100,
        requestId: 'r',
        timezone: 'utc',
        app: CoreApp.Dashboard,
        startTime: 0,
      } as unknown as import('@grafana/data').DataQueryRequest<FlowQuery>)
    );
    expect(response.errors).toEqual([
      expect.objectContaining({ refId: 'A', message: expect.stringContaining('$remote_svc_ip has 2 values') }),
    ]);
    expect(requests).toHaveLength(1);
    expect((requests[0].data as { queries: Array<{ refId: string }> }).queries.map((q) => q.refId)).toEqual(['B']);
  });

  it('describes a query in one line', () => {
    const ds = makeDataSource();
    expect(
      ds.getQueryDisplayText({ refId: 'A', format: 'series', rate: true, direction: 'in', groupBy: ['pkt_srcaddr'] })
    ).toBe('series of bytes/s, direction in, by pkt_srcaddr top 10');
  });

  it('asks the render resource for the backend query text', async () => {
    const requests = fakeBackend(() => ({ queries: ['{logtype="flow"} | stats sum(bytes)'] }));
    const ds = makeDataSource(undefined, srv);
    const queries = await ds.renderQuery(
      { refId: 'A', format: 'stat', filters: [{ field: 'pkt_srcaddr', op: '=~', value: '$remote_svc_ip' }] },
      range,
      60_000,
      1000
    );
    expect(queries).toEqual(['{logtype="flow"} | stats sum(bytes)']);
    expect(requests[0].url).toBe('/api/datasources/uid/flowlens/resources/render');
    expect(requests[0].method).toBe('POST');
    expect(requests[0].data).toMatchObject({
      query: { format: 'stat', version: 1, filters: [{ op: '=~', value: '(1\\.2\\.3\\.4|5\\.6\\.7\\.8)' }] },
      range: { from: 1_700_000_000_000, to: 1_700_003_600_000 },
      intervalMs: 60_000,
      maxDataPoints: 1000,
    });
  });

  it('passes the backend message of a failed render on', async () => {
    fakeBackend(() => {
      throw { status: 400, data: { error: 'groupBy: `pod` is not a field of the records' } };
    });
    await expect(makeDataSource().renderQuery({ refId: 'A' }, range, 1000, 100)).rejects.toThrow(
      'groupBy: `pod` is not a field of the records'
    );
    expect(errorMessage({ data: { message: 'Plugin unavailable' } })).toBe('Plugin unavailable');
    expect(errorMessage(new Error('boom'))).toBe('boom');
  });

  it('reads the record fields, falling back to every AWS field', async () => {
    fakeBackend(() => ({ fields: [{ name: 'pkt_srcaddr', type: 'ip' }] }));
    expect(await makeDataSource().fields()).toEqual([{ name: 'pkt_srcaddr', type: 'ip' }]);
    fakeBackend(() => {
      throw { status: 500, data: { message: 'down' } };
    });
    expect(await makeDataSource().fields()).toEqual([...ALL_FIELDS, ...RELATIVE_FIELDS]);
  });

  it('finds variable values through the values resource', async () => {
    const requests = fakeBackend(() => ({ values: ['10.0.32.7', '10.0.32.8'] }));
    const ds = makeDataSource(undefined, srv);
    const values = await ds.metricFindQuery(
      { refId: 'V', field: 'pkt_dstaddr', direction: 'in', limit: 5, filters: [{ field: 'pkt_srcaddr', op: '=~', value: '$remote_svc_ip' }] },
      { range }
    );
    expect(values).toEqual([
      { text: '10.0.32.7', value: '10.0.32.7' },
      { text: '10.0.32.8', value: '10.0.32.8' },
    ]);
    expect(requests[0].url).toBe('/api/datasources/uid/flowlens/resources/values');
    expect(requests[0].data).toMatchObject({
      field: 'pkt_dstaddr',
      limit: 5,
      range: { from: 1_700_000_000_000, to: 1_700_003_600_000 },
      query: {
        format: 'table',
        direction: 'in',
        groupBy: ['pkt_dstaddr'],
        filters: [{ field: 'pkt_srcaddr', op: '=~', value: '(1\\.2\\.3\\.4|5\\.6\\.7\\.8)' }],
      },
    });
    expect(validateQuery((requests[0].data as { query: FlowQuery }).query)).toEqual([]);
    // A legacy string query is a field name; no field, no request.
    expect(await ds.metricFindQuery('pkt_srcaddr', { range })).toHaveLength(2);
    expect(await ds.metricFindQuery({ refId: 'V', field: '' })).toEqual([]);
    expect(requests).toHaveLength(2);
  });

  it('serves variables through its custom variable support', async () => {
    fakeBackend(() => ({ values: ['a'] }));
    const ds = makeDataSource();
    const variables = ds.variables as unknown as { query: (r: unknown) => import('rxjs').Observable<{ data: unknown[] }> };
    const res = await lastValueFrom(variables.query({ targets: [{ refId: 'V', field: 'pkt_srcaddr' }], range, scopedVars: {} }));
    expect(res.data).toEqual([{ text: 'a', value: 'a' }]);
  });

  it('offers ad-hoc keys and values', async () => {
    fakeBackend((req) => (req.url.endsWith('/fields') ? { fields: [{ name: 'dstport', type: 'number' }] } : { values: ['443'] }));
    const ds = makeDataSource();
    expect(await ds.getTagKeys()).toEqual([{ text: 'dstport' }]);
    expect(await ds.getTagValues({ key: 'dstport', timeRange: range })).toEqual([{ text: '443' }]);
  });
});

/** A request as Explore sends it. */
function exploreRequest(targets: FlowQuery[]): DataQueryRequest<FlowQuery> {
  return {
    targets,
    range,
    scopedVars: {},
    interval: '1m',
    intervalMs: 60_000,
    maxDataPoints: 1000,
    requestId: 'explore_left',
    timezone: 'utc',
    app: CoreApp.Explore,
    startTime: 0,
  };
}

/** The targets a recorded /api/ds/query request sent. */
function sentQueries(req: { data?: unknown }): Array<FlowQuery & { volumeOf?: unknown }> {
  return (req.data as { queries: Array<FlowQuery & { volumeOf?: unknown }> }).queries;
}

/** A timeseries-multi frame per action, as the backend answers a volume target. */
function volumeFrameJson(refId: string, action: string) {
  return {
    schema: {
      refId,
      name: action || '-',
      meta: { type: 'timeseries-multi', typeVersion: [0, 1] },
      fields: [
        { name: 'time', type: 'time' },
        { name: 'records', type: 'number', labels: { action }, config: {} },
      ],
    },
    data: { values: [[1_700_000_000_000, 1_700_000_060_000], [3, 4]] },
  };
}

/** The logs frame of the backend: labels, timestamp, body, id. */
function logsFrameJson(refId: string, rows: Array<[number, string]>) {
  return {
    schema: {
      refId,
      name: 'flow records',
      meta: { preferredVisualisationType: 'logs' },
      fields: [
        { name: 'labels', type: 'other' },
        { name: 'timestamp', type: 'time' },
        { name: 'body', type: 'string' },
        { name: 'id', type: 'string' },
      ],
    },
    data: {
      values: [
        rows.map(() => ({ logtype: 'flow' })),
        rows.map(([t]) => t),
        rows.map(([, b]) => b),
        rows.map((_, i) => `r${i}`),
      ],
    },
  };
}

describe('DataSource in Explore', () => {
  const logsTarget: FlowQuery = {
    refId: 'A',
    format: 'logs',
    direction: 'in',
    filters: [{ field: 'dstport', op: '=', value: '443' }],
    interfaceId: 'eni-0352f8c82da6aa229',
  };

  it('offers what Explore looks for', () => {
    const ds = makeDataSource();
    // Grafana holds it as a DataSourceApi of any query.
    const api = ds as unknown as Parameters<typeof hasSupplementaryQuerySupport>[0];
    expect(hasSupplementaryQuerySupport(api, SupplementaryQueryType.LogsVolume)).toBe(true);
    expect(hasSupplementaryQuerySupport(api, SupplementaryQueryType.LogsSample)).toBe(true);
    expect(hasLogsContextSupport(ds)).toBe(true);
    expect(hasQueryModificationSupport(ds)).toBe(true);
    expect(hasToggleableQueryFiltersSupport(ds)).toBe(true);
    expect(ds.getSupportedQueryModifications()).toEqual(['ADD_FILTER', 'ADD_FILTER_OUT']);
  });

  it('runs the logs volume and answers it as Explore reads log levels', async () => {
    const requests = fakeBackend(() => ({
      results: {
        'log-volume-A': {
          status: 200,
          frames: ['REJECT', 'ACCEPT', ''].map((action) => volumeFrameJson('log-volume-A', action)),
        },
      },
    }));
    const ds = makeDataSource();
    const request = ds.getSupplementaryRequest(
      SupplementaryQueryType.LogsVolume,
      exploreRequest([logsTarget, { refId: 'B', format: 'stat' }])
    );
    expect(request?.targets.map((t) => t.refId)).toEqual(['log-volume-A']);
    const response = await lastValueFrom(ds.query(request!));
    const [sent] = sentQueries(requests[0]);
    expect(sent).toMatchObject({
      refId: 'log-volume-A',
      format: 'series',
      metric: 'records',
      groupBy: ['action'],
      limit: 10,
      direction: 'in',
      filters: [{ field: 'dstport', op: '=', value: '443' }],
      interfaceId: 'eni-0352f8c82da6aa229',
    });
    expect(sent).not.toHaveProperty('volumeOf');
    expect(validateQuery(sent)).toEqual([]);
    const frames = response.data as DataFrame[];
    expect(frames.map((f) => f.fields[1].labels)).toEqual([
      { action: 'REJECT', level: 'error' },
      { action: 'ACCEPT', level: 'info' },
      { action: '', level: 'unknown' },
    ]);
    expect(frames.map((f) => f.fields[1].config.displayNameFromDS)).toEqual(['REJECT', 'ACCEPT', '-']);
    for (const f of frames) {
      expect(f.meta?.preferredVisualisationType).toBe('graph');
      expect(f.meta?.type).toBe('timeseries-multi');
      expect(f.meta?.custom).toEqual({
        logsVolumeType: LogsVolumeType.FullRange,
        absoluteRange: { from: 1_700_000_000_000, to: 1_700_003_600_000 },
        datasourceName: 'flowlens',
        sourceQuery: logsTarget,
      });
    }
  });

  it('runs the logs sample of a metric query as a logs target', async () => {
    const requests = fakeBackend(() => ({
      results: { 'log-sample-B': { status: 200, frames: [logsFrameJson('log-sample-B', [[T, BODY]])] } },
    }));
    const ds = makeDataSource();
    const request = ds.getSupplementaryRequest(
      SupplementaryQueryType.LogsSample,
      exploreRequest([logsTarget, { refId: 'B', format: 'stat', direction: 'out' }]),
      { type: SupplementaryQueryType.LogsSample, limit: 20 }
    );
    const response = await lastValueFrom(ds.query(request!));
    expect(sentQueries(requests[0])).toEqual([
      expect.objectContaining({ refId: 'log-sample-B', format: 'logs', limit: 20, direction: 'out' }),
    ]);
    // Not a volume: the frame as the backend sent it.
    expect((response.data[0] as DataFrame).fields.map((f) => f.name)).toEqual(['labels', 'timestamp', 'body', 'id']);
    expect(ds.getSupplementaryQuery({ type: SupplementaryQueryType.LogsVolume }, { refId: 'B', format: 'stat' })).toBeUndefined();
  });

  it('reads the context before a row, without the row, and after it', async () => {
    const requests = fakeBackend((req) => {
      const [q] = sentQueries(req);
      const rows: Array<[number, string]> =
        q.order === 'desc'
          ? [
              [T, BODY],
              [T - 1000, 'earlier'],
            ]
          : [[T + 1000, 'later']];
      return { results: { [q.refId]: { status: 200, frames: [logsFrameJson(q.refId, rows)] } } };
    });
    const ds = makeDataSource();
    const row = logRow({ interface_id: 'eni-0352f8c82da6aa229', logtype: 'flow' });
    const query = { ...logsTarget, interfaceId: 'eni-other' };

    const backward = await ds.getLogRowContext(row, { direction: LogRowContextQueryDirection.Backward, limit: 10 }, query);
    expect((backward.data[0] as DataFrame).fields[2].values).toEqual(['earlier']);
    expect(requests[0].data).toMatchObject({ from: String(T - 7_200_000), to: String(T + 1) });
    expect(sentQueries(requests[0])).toEqual([
      expect.objectContaining({
        refId: 'log-context-backward',
        format: 'logs',
        direction: 'all',
        filters: [],
        groupBy: [],
        interfaceId: 'eni-0352f8c82da6aa229',
        limit: 11, // the row itself is in the answer, and dropped
        order: 'desc',
      }),
    ]);

    const forward = await ds.getLogRowContext(row, { direction: LogRowContextQueryDirection.Forward, timeWindowMs: 60_000 }, query);
    expect((forward.data[0] as DataFrame).fields[2].values).toEqual(['later']);
    expect(requests[1].data).toMatchObject({ from: String(T + 1), to: String(T + 60_000) });
    expect(sentQueries(requests[1])[0]).toMatchObject({ refId: 'log-context-forward', order: 'asc', limit: 50 });

    expect(await ds.getLogRowContextQuery(logRow({}), { direction: LogRowContextQueryDirection.Forward }, query)).toMatchObject({
      interfaceId: 'eni-other',
      order: 'asc',
    });
  });

  it('filters for and out a value of log details', () => {
    const ds = makeDataSource();
    const q = ds.modifyQuery(logsTarget, { type: 'ADD_FILTER_OUT', options: { key: 'action', value: 'REJECT' } });
    expect(q.filters).toEqual([...logsTarget.filters!, { field: 'action', op: '!=', value: 'REJECT' }]);
    const toggled = ds.toggleQueryFilter(q, { type: 'FILTER_FOR', options: { key: 'action', value: 'REJECT' } });
    expect(toggled.filters).toEqual([...logsTarget.filters!, { field: 'action', op: '=', value: 'REJECT' }]);
    expect(ds.queryHasFilter(toggled, { key: 'action', value: 'REJECT' })).toBe(true);
    const off = ds.toggleQueryFilter(toggled, { type: 'FILTER_FOR', options: { key: 'action', value: 'REJECT' } });
    expect(off.filters).toEqual(logsTarget.filters);
    // A stream label is not a field of the records.
    expect(ds.modifyQuery(logsTarget, { type: 'ADD_FILTER', options: { key: 'logtype', value: 'flow' } })).toBe(logsTarget);
    // The default v2 record format has no pkt_srcaddr; the NAT gateway's has.
    expect(ds.modifyQuery(logsTarget, { type: 'ADD_FILTER', options: { key: 'pkt_srcaddr', value: '1.2.3.4' } })).toBe(logsTarget);
  });

  it('gives hints from its settings', () => {
    const hints = (jsonData: FlowDataSourceOptions, query: FlowQuery) =>
      makeDataSource(jsonData).getQueryHints(query, []).map((h) => h.type);
    expect(hints({}, { refId: 'A', format: 'logs' })).toEqual(['PICK_INTERFACE']);
    // Without a range (Grafana's getQueryHints has none) the raw-text hint is not given.
    expect(hints({ interfaceId: 'eni-0352f8c82da6aa229' }, { refId: 'A', format: 'stat' })).toEqual([]);
    expect(hints({ recordMode: 'fields', interfaceId: 'eni-a' }, { refId: 'A', format: 'logs' })).toEqual([]);
  });
});
