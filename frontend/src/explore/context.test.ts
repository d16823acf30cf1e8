import { CoreApp, DataFrame, LogRowContextQueryDirection } from '@grafana/data';

import { BODY, logRow, logsFrame, T } from '../test/explore';
import { FlowQuery } from '../types';
import { validateQuery } from '../validation';
import { contextQuery, contextRange, contextRequest, DEFAULT_CONTEXT_WINDOW_MS, withoutRow } from './context';

const original: FlowQuery = {
  refId: 'A',
  format: 'logs',
  direction: 'in',
  filters: [{ field: 'dstport', op: '=', value: '443' }],
  interfaceId: 'eni-from-query',
  limit: 1000,
};

describe('log context', () => {
  it('asks the records of the row interface, whatever the query filters', () => {
    const row = logRow({ interface_id: 'eni-0352f8c82da6aa229', action: 'ACCEPT' });
    const backward = contextQuery(row, { direction: LogRowContextQueryDirection.Backward }, original);
    expect(backward).toMatchObject({
      refId: 'log-context-backward',
      format: 'logs',
      direction: 'all',
      filters: [],
      groupBy: [],
      interfaceId: 'eni-0352f8c82da6aa229',
      limit: 51, // one more: the row itself is in a backward answer
      order: 'desc',
    });
    expect(validateQuery(backward)).toEqual([]);
    const forward = contextQuery(row, { direction: LogRowContextQueryDirection.Forward, limit: 10 }, original);
    expect(forward).toMatchObject({ refId: 'log-context-forward', order: 'asc', limit: 10 });
    expect(validateQuery(forward)).toEqual([]);
  });

  it("falls back to the query's interface when the row has none", () => {
    expect(contextQuery(logRow({}), {}, original).interfaceId).toBe('eni-from-query');
    expect(contextQuery(logRow({ interface_id: '-' }), {}, { ...original, interfaceId: ['a', 'b'] }).interfaceId).toEqual([
      'a',
      'b',
    ]);
    // Neither: the datasource default.
    expect(contextQuery(logRow({})).interfaceId).toBeNull();
    // Backward is the default direction.
    expect(contextQuery(logRow({})).order).toBe('desc');
  });

  it('looks a window before the row (up to just after it) or after it', () => {
    const row = logRow({});
    expect(contextRange(row, { direction: LogRowContextQueryDirection.Backward })).toEqual({
      from: T - DEFAULT_CONTEXT_WINDOW_MS,
      to: T + 1,
    });
    expect(contextRange(row, { direction: LogRowContextQueryDirection.Forward, timeWindowMs: 60_000 })).toEqual({
      from: T + 1,
      to: T + 60_000,
    });
    expect(DEFAULT_CONTEXT_WINDOW_MS).toBe(7_200_000);
  });

  it('runs as an Explore request over that range', () => {
    const a = contextRequest(logRow({}), { direction: LogRowContextQueryDirection.Forward, scopedVars: { x: { value: 1 } } });
    const b = contextRequest(logRow({}), { direction: LogRowContextQueryDirection.Forward });
    expect(a).toMatchObject({ app: CoreApp.Explore, intervalMs: 60_000, maxDataPoints: 1000, scopedVars: { x: { value: 1 } } });
    expect(a.range.from.valueOf()).toBe(T + 1);
    expect(a.range.to.valueOf()).toBe(T + DEFAULT_CONTEXT_WINDOW_MS);
    expect(a.targets).toEqual([expect.objectContaining({ refId: 'log-context-forward', order: 'asc' })]);
    expect(a.requestId).not.toBe(b.requestId);
  });

  it('drops the row itself from the backward answer, once', () => {
    const row = logRow({});
    const frame = logsFrame([
      [T, BODY],
      [T, 'another record of the same millisecond'],
      [T - 5, 'earlier'],
      [T, BODY],
    ]);
    const out = withoutRow({ data: [frame] }, row).data[0] as DataFrame;
    expect(out.length).toBe(3);
    expect(out.fields[2].values).toEqual(['another record of the same millisecond', 'earlier', BODY]);
    expect(out.fields[1].values).toEqual([T, T - 5, T]);
    expect(out.fields[1].nanos).toHaveLength(3);
    expect(out.fields[3].values).toEqual(['id-1', 'id-2', 'id-3']);
    expect(frame.length).toBe(4);
    // Not in the answer: unchanged.
    const other = logsFrame([[T - 5, 'earlier']]);
    expect(withoutRow({ data: [other] }, row).data[0]).toBe(other);
  });
});
