import { ToggleFilterAction } from '@grafana/data';

import { NAT_GATEWAY_FORMAT } from '../fields';
import { FlowQuery } from '../types';
import { validateQuery } from '../validation';
import { flowQueryHasFilter, modifyFlowQuery, recordFieldNames, toggleFlowFilter } from './filters';

const fields = recordFieldNames({});
const base: FlowQuery = { refId: 'A', format: 'logs', filters: [{ field: 'dstport', op: '=', value: '443' }] };

const add = (q: FlowQuery, key: string, value: string, type = 'ADD_FILTER') =>
  modifyFlowQuery(q, { type, options: { key, value } }, fields);
const toggle = (q: FlowQuery, key: string, value: string, type: ToggleFilterAction['type'] = 'FILTER_FOR') =>
  toggleFlowFilter(q, { type, options: { key, value } }, fields);

describe('click to filter', () => {
  it('knows the record fields of the datasource', () => {
    // Raw records: the fields of the record format (AWS's default v2 format when unset).
    expect(fields.has('action')).toBe(true);
    expect(fields.has('pkt_srcaddr')).toBe(false);
    expect(recordFieldNames({ recordFormat: NAT_GATEWAY_FORMAT }).has('pkt_srcaddr')).toBe(true);
    // Records parsed at ingest: every AWS field.
    expect(recordFieldNames({ recordMode: 'fields' }).has('ecs_task_id')).toBe(true);
    expect(recordFieldNames({ recordMode: 'fields' }).has('logtype')).toBe(false);
  });

  it('adds a filter for a value and one out, migrated', () => {
    const q = add({ refId: 'A', format: 'logs' }, 'action', 'REJECT');
    expect(q).toMatchObject({ version: 1, format: 'logs', filters: [{ field: 'action', op: '=', value: 'REJECT' }] });
    expect(validateQuery(q)).toEqual([]);
    expect(add(base, 'srcaddr', '10.0.32.7', 'ADD_FILTER_OUT').filters).toEqual([
      { field: 'dstport', op: '=', value: '443' },
      { field: 'srcaddr', op: '!=', value: '10.0.32.7' },
    ]);
  });

  it('replaces the opposite filter, in place, and adds a filter once', () => {
    const out = add(base, 'dstport', '443', 'ADD_FILTER_OUT');
    expect(out.filters).toEqual([{ field: 'dstport', op: '!=', value: '443' }]);
    expect(add(out, 'dstport', '443').filters).toEqual([{ field: 'dstport', op: '=', value: '443' }]);
    expect(add(base, 'dstport', '443').filters).toEqual(base.filters);
    // Another value of the field is another filter.
    expect(add(base, 'dstport', '80', 'ADD_FILTER_OUT').filters).toHaveLength(2);
  });

  it('toggles: adds, removes the same filter, replaces the opposite', () => {
    const on = toggle(base, 'action', 'ACCEPT');
    expect(on.filters).toEqual([...base.filters!, { field: 'action', op: '=', value: 'ACCEPT' }]);
    expect(toggle(on, 'action', 'ACCEPT').filters).toEqual(base.filters);
    const out = toggle(on, 'action', 'ACCEPT', 'FILTER_OUT');
    expect(out.filters).toEqual([...base.filters!, { field: 'action', op: '!=', value: 'ACCEPT' }]);
    expect(toggle(out, 'action', 'ACCEPT', 'FILTER_OUT').filters).toEqual(base.filters);
  });

  it('leaves raw queries, stream labels and empty values as they are', () => {
    const raw: FlowQuery = { refId: 'A', rawQuery: '{logtype="flow"} | limit 10' };
    expect(add(raw, 'action', 'REJECT')).toBe(raw);
    expect(toggle(raw, 'action', 'REJECT')).toBe(raw);
    expect(add(base, 'logtype', 'flow')).toBe(base);
    expect(toggle(base, 'logtype', 'flow', 'FILTER_OUT')).toBe(base);
    expect(add(base, 'action', '')).toBe(base);
    expect(modifyFlowQuery(base, { type: 'ADD_STRING_FILTER', options: { value: 'x' } }, fields)).toBe(base);
    expect(modifyFlowQuery(base, { type: 'ADD_FILTER' }, fields)).toBe(base);
  });

  it('says whether the query filters for a value', () => {
    expect(flowQueryHasFilter(base, { key: 'dstport', value: '443' })).toBe(true);
    expect(flowQueryHasFilter(base, { key: 'dstport', value: '80' })).toBe(false);
    expect(flowQueryHasFilter(add(base, 'action', 'ACCEPT', 'ADD_FILTER_OUT'), { key: 'action', value: 'ACCEPT' })).toBe(false);
    expect(flowQueryHasFilter({ refId: 'A' }, { key: 'dstport', value: '443' })).toBe(false);
    expect(flowQueryHasFilter({ ...base, rawQuery: 'x' }, { key: 'dstport', value: '443' })).toBe(false);
  });
});
