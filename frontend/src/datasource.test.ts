import { CoreApp, dateTime, TimeRange } from '@grafana/data';
import { BackendSrv, setBackendSrv } from '@grafana/runtime';
import { lastValueFrom, of, throwError } from 'rxjs';

import { errorMessage } from './datasource';
import { ALL_FIELDS, RELATIVE_FIELDS } from './fields';
import { makeDataSource } from './test/datasource';
import { FakeTemplateSrv } from './test/fakeTemplateSrv';
import { FlowQuery } from './types';
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
