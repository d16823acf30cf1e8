import { migrateQuery, migrateVariableQuery } from './migrate';
import { FlowQuery } from './types';
import { validateQuery } from './validation';

describe('migrateQuery', () => {
  it('fills every default of a bare query', () => {
    expect(migrateQuery({ refId: 'A' })).toEqual({
      refId: 'A',
      version: 1,
      format: 'series',
      metric: 'bytes',
      direction: 'any',
      groupBy: [],
      limit: 0,
      other: false,
      rate: false,
      share: false,
      filters: [],
      interfaceId: null,
      rawQuery: null,
    });
  });

  it('keeps share, distinctField and price', () => {
    const q = migrateQuery({
      refId: 'A',
      format: 'table',
      groupBy: ['pkt_srcaddr'],
      metric: 'distinct',
      distinctField: 'dstport',
      share: 'true',
      price: 'egress',
    } as unknown as FlowQuery);
    expect(q).toMatchObject({ metric: 'distinct', distinctField: 'dstport', share: true, price: 'egress' });
    expect(migrateQuery({ refId: 'A', metric: 'cost', price: 'crossAz' })).toMatchObject({
      metric: 'cost',
      price: 'crossAz',
      share: false,
    });
    // Absent stays absent: the backend's defaults (price nat, no distinct field).
    expect(migrateQuery({ refId: 'A' })).not.toHaveProperty('price');
    expect(migrateQuery({ refId: 'A' })).not.toHaveProperty('distinctField');
  });

  it('keeps order as written; null or empty is the default', () => {
    expect(migrateQuery({ refId: 'A', format: 'logs', order: 'asc' })).toMatchObject({ format: 'logs', order: 'asc' });
    expect(migrateQuery({ refId: 'A', format: 'logs', order: 'up' as never }).order).toBe('up');
    expect(migrateQuery({ refId: 'A', format: 'logs', order: null } as unknown as FlowQuery)).not.toHaveProperty('order');
    expect(migrateQuery({ refId: 'A', format: 'logs', order: '' as never })).not.toHaveProperty('order');
    expect(migrateQuery({ refId: 'A' })).not.toHaveProperty('order');
  });

  it('takes a plain string as a raw query', () => {
    const q = migrateQuery('* | stats count() records', 'B');
    expect(q.refId).toBe('B');
    expect(q.rawQuery).toBe('* | stats count() records');
    expect(q.version).toBe(1);
  });

  it('adds version to a query saved without one and keeps Grafana keys', () => {
    const saved = { refId: 'C', format: 'table', groupBy: ['pkt_srcaddr'], datasource: { uid: 'flowlens' }, hide: true };
    const q = migrateQuery(saved as FlowQuery);
    expect(q).toMatchObject({ refId: 'C', version: 1, format: 'table', limit: 0, datasource: { uid: 'flowlens' }, hide: true });
  });

  it('gives series with groupBy the default top 10', () => {
    expect(migrateQuery({ refId: 'A', format: 'series', groupBy: ['pkt_srcaddr'] }).limit).toBe(10);
    expect(migrateQuery({ refId: 'A', format: 'series', groupBy: ['pkt_srcaddr'], limit: 0 }).limit).toBe(0);
  });

  it('reads older shapes: comma-separated groupBy, string numbers and booleans, null fields', () => {
    const q = migrateQuery({
      refId: 'A',
      format: null,
      groupBy: 'pkt_srcaddr, srcport',
      limit: '5',
      rate: 'true',
      filters: [{ field: 'dstport', op: '==', value: 443 }, null, { field: 'pkt_srcaddr', op: '~', value: null }],
      interfaceId: undefined,
    } as unknown as FlowQuery);
    expect(q.format).toBe('series');
    expect(q.groupBy).toEqual(['pkt_srcaddr', 'srcport']);
    expect(q.limit).toBe(5);
    expect(q.rate).toBe(true);
    // A filter that is not an object is kept (validation and the backend name it), never dropped.
    expect(q.filters).toEqual([
      { field: 'dstport', op: '=', value: '443' },
      null,
      { field: 'pkt_srcaddr', op: '=~', value: '' },
    ]);
    expect(validateQuery(q)).toContain('filter: null must be an object {field, op, value}');
    expect(q.interfaceId).toBeNull();
  });

  it('keeps an unknown op as written, for validation to name', () => {
    const q = migrateQuery({ refId: 'A', filters: [{ field: 'action', op: 'constructor', value: 'x' }] } as unknown as FlowQuery);
    expect(q.filters).toEqual([{ field: 'action', op: 'constructor', value: 'x' }]);
    expect(validateQuery(q)).toEqual([
      'filter on action: `constructor` is not one of = != =~ !~ =| !=| cidr !cidr range < <= > >=',
    ]);
  });

  it('keeps set values and a list of interfaces', () => {
    const q = migrateQuery({
      refId: 'A',
      filters: [{ field: 'action', op: '=|', value: ['ACCEPT', 'REJECT'] }],
      interfaceId: ['eni-a', 'eni-b'],
    } as unknown as FlowQuery);
    expect(q.filters).toEqual([{ field: 'action', op: '=|', value: ['ACCEPT', 'REJECT'] }]);
    expect(q.interfaceId).toEqual(['eni-a', 'eni-b']);
    expect(validateQuery(q)).toEqual([]);
  });

  it('keeps invalid values so that validation names them', () => {
    const q = migrateQuery({ refId: 'A', format: 'pie', metric: 'bits', version: 2 } as unknown as FlowQuery);
    expect(validateQuery(q)).toEqual([
      'version: 2 is not supported; this plugin reads version 1',
      'format: `pie` must be one of stat, series, table, logs, nodegraph',
      'metric: `bits` must be one of bytes, packets, records, distinct, cost',
    ]);
  });

  it('is idempotent and never throws', () => {
    for (const input of [undefined, null, '', 'x', { refId: 'A' }, { refId: 'A', filters: 'nope' }, { refId: 'A', groupBy: 3 }]) {
      const once = migrateQuery(input as FlowQuery);
      expect(migrateQuery(once)).toEqual(once);
    }
  });
});

describe('migrateVariableQuery', () => {
  it('reads a field name or values(field) string', () => {
    expect(migrateVariableQuery('pkt_dstaddr').field).toBe('pkt_dstaddr');
    expect(migrateVariableQuery(' values( pkt_srcaddr ) ').field).toBe('pkt_srcaddr');
  });

  it('completes an object query', () => {
    expect(migrateVariableQuery({ refId: '', field: 'dstport' })).toEqual({ refId: 'FlowVariableQuery', field: 'dstport', filters: [] });
  });
});
