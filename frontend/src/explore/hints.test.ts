import { HINT_PARSE_AT_INGEST, HINT_PICK_INTERFACE, queryHints } from './hints';

const types = (...args: Parameters<typeof queryHints>) => queryHints(...args).map((h) => h.type);

describe('query hints', () => {
  it('asks to pick an interface when a logs query reads every interface', () => {
    const [hint] = queryHints({ refId: 'A', format: 'logs' }, { recordMode: 'fields' });
    expect(hint).toEqual({
      type: HINT_PICK_INTERFACE,
      label: "Every interface's records are read; pick the NAT gateway's interface (interfaceId) to read fewer",
    });
    expect(types({ refId: 'A', format: 'logs', interfaceId: '' }, { recordMode: 'fields' })).toEqual([HINT_PICK_INTERFACE]);
    // A filter still being filled in is not sent: nothing narrows the read.
    expect(
      types({ refId: 'A', format: 'logs', filters: [{ field: 'action', op: '=', value: '' }] }, { recordMode: 'fields' })
    ).toEqual([HINT_PICK_INTERFACE]);
  });

  it('does not when an interface or a filter narrows the read', () => {
    const fields = { recordMode: 'fields' as const };
    expect(types({ refId: 'A', format: 'logs', interfaceId: 'eni-0352f8c82da6aa229' }, fields)).toEqual([]);
    expect(types({ refId: 'A', format: 'logs', interfaceId: ['eni-a'] }, fields)).toEqual([]);
    expect(types({ refId: 'A', format: 'logs' }, { ...fields, interfaceId: 'eni-0352f8c82da6aa229' })).toEqual([]);
    expect(types({ refId: 'A', format: 'logs', filters: [{ field: 'action', op: '=', value: 'REJECT' }] }, fields)).toEqual([]);
    expect(types({ refId: 'A', format: 'logs', rawQuery: '* | limit 10' }, fields)).toEqual([]);
  });

  it('suggests records parsed at ingest for metric queries on raw records over more than a day', () => {
    const week = 7 * 86_400_000;
    for (const format of ['stat', 'series', 'table'] as const) {
      expect(queryHints({ refId: 'A', format, interfaceId: 'eni-a' }, {}, week)).toEqual([
        {
          type: HINT_PARSE_AT_INGEST,
          label:
            '7 days of records are parsed from raw text at query time; records parsed at ingest (recordMode fields, e.g. by Vector) read several times less per panel, or narrow the range or the stream selector',
        },
      ]);
    }
    // A saved target without a format is a series.
    expect(types({ refId: 'A' }, { recordMode: 'raw' }, week)).toEqual([HINT_PARSE_AT_INGEST]);
    expect(types({ refId: 'A' }, { recordMode: 'raw' }, 86_400_000)).toEqual([]);
    expect(types({ refId: 'A' }, { recordMode: 'raw' })).toEqual([]);
    expect(types({ refId: 'A', format: 'stat' }, { recordMode: 'fields' }, week)).toEqual([]);
    expect(types({ refId: 'A', format: 'logs', interfaceId: 'eni-a' }, {}, week)).toEqual([]);
    expect(types({ refId: 'A', format: 'stat', rawQuery: '* | stats count()' }, {}, week)).toEqual([]);
  });
});
