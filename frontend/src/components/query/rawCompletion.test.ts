import { FieldInfo } from '../../types';
import { completionItems, scanTo, situationAt } from './rawCompletion';

/** The situation at the `|` marker of `marked` (the marker removed). */
function at(marked: string, dialect: 'logsql' | 'logql' = 'logsql') {
  const offset = marked.indexOf('¦');
  expect(offset).toBeGreaterThanOrEqual(0);
  const text = marked.slice(0, offset) + marked.slice(offset + 1);
  return { text, offset, situation: situationAt(text, offset, dialect) };
}

/** The text after applying an item at the marker. */
function apply(marked: string, pick: (items: ReturnType<typeof completionItems>) => ReturnType<typeof completionItems>[number], dialect: 'logsql' | 'logql' = 'logsql', values: string[] = []) {
  const { text, situation } = at(marked, dialect);
  const item = pick(completionItems(situation, dialect, FIELDS, values));
  return text.slice(0, item.from) + item.insertText + text.slice(item.to);
}

const FIELDS: FieldInfo[] = [
  { name: 'interface_id', type: 'string' },
  { name: 'pkt_srcaddr', type: 'ip' },
  { name: 'pkt_dstaddr', type: 'ip' },
  { name: 'dstport', type: 'number' },
  { name: 'action', type: 'string' },
];

describe('scanTo', () => {
  it('tells code, strings and comments apart', () => {
    expect(scanTo('a "b', 4)).toEqual({ state: 'string', quote: '"', start: 2 });
    expect(scanTo('a "b" c', 7)).toEqual({ state: 'code' });
    expect(scanTo('a "b\\" c', 8)).toEqual({ state: 'string', quote: '"', start: 2 });
    expect(scanTo("a 'b", 4)).toEqual({ state: 'string', quote: "'", start: 2 });
    expect(scanTo('a `b\\`', 6)).toEqual({ state: 'code' });
    expect(scanTo('a # "b', 6)).toEqual({ state: 'comment' });
    expect(scanTo('a # "b\nc', 8)).toEqual({ state: 'code' });
    expect(scanTo('"#" x', 5)).toEqual({ state: 'code' });
  });
});

describe('situationAt: LogsQL', () => {
  it('completes a field name being typed, or at an empty place', () => {
    expect(at('pkt_d¦').situation).toEqual({ kind: 'field', prefix: 'pkt_d', afterPipe: false, inSelector: false, from: 0, to: 5 });
    expect(at('a:b pkt¦').situation).toMatchObject({ kind: 'field', prefix: 'pkt', from: 4, to: 7 });
    expect(at('x | stats by (¦').situation).toMatchObject({ kind: 'field', prefix: '', afterPipe: false, from: 14, to: 14 });
    expect(at('¦').situation).toMatchObject({ kind: 'field', prefix: '', from: 0, to: 0 });
  });

  it('completes a pipe name after |', () => {
    expect(at('* | st¦').situation).toMatchObject({ kind: 'field', prefix: 'st', afterPipe: true, from: 4, to: 6 });
    expect(at('* |¦').situation).toMatchObject({ kind: 'field', prefix: '', afterPipe: true });
  });

  it('completes the value of a field after field: and field:=', () => {
    expect(at('pkt_dstaddr:¦').situation).toEqual({ kind: 'value', field: 'pkt_dstaddr', prefix: '', from: 12, to: 12 });
    expect(at('a:b pkt_dstaddr:=10.0.3¦').situation).toEqual({
      kind: 'value',
      field: 'pkt_dstaddr',
      prefix: '10.0.3',
      from: 17,
      to: 23,
    });
    expect(at('-action:REJ¦').situation).toMatchObject({ kind: 'value', field: 'action', prefix: 'REJ' });
    expect(at('(interface_id:eni-03¦').situation).toMatchObject({ kind: 'value', field: 'interface_id', prefix: 'eni-03' });
  });

  it('completes a quoted value, replacing the quote and an auto-closed quote after the cursor', () => {
    expect(at('pkt_dstaddr:"10.¦"').situation).toEqual({
      kind: 'value',
      field: 'pkt_dstaddr',
      prefix: '10.',
      quote: '"',
      from: 12,
      to: 17,
    });
    expect(at("action:='AC¦").situation).toEqual({ kind: 'value', field: 'action', prefix: 'AC', quote: "'", from: 8, to: 11 });
  });

  it('completes nothing in a comment, in another string, or within a number', () => {
    expect(at('x # pkt_dstaddr:¦').situation).toEqual({ kind: 'none' });
    expect(at('"pkt_d¦"').situation).toEqual({ kind: 'none' });
    expect(at('x | extract "<pkt¦').situation).toEqual({ kind: 'none' });
    expect(at('_time:5m¦').situation).toMatchObject({ kind: 'value', field: '_time' });
    expect(at('x | limit 5m¦').situation).toEqual({ kind: 'none' });
    expect(at('x | limit 10¦').situation).toEqual({ kind: 'none' });
  });

  it('does not take a regex filter or a stream label for a value', () => {
    expect(at('pkt_dstaddr:~"10¦').situation).toEqual({ kind: 'none' });
    expect(at('{logtype="fl¦').situation).toEqual({ kind: 'none' });
  });
});

describe('situationAt: LogQL', () => {
  it('completes a label name in a selector, and a field after a pipe', () => {
    expect(at('{logtype="flow", pkt¦', 'logql').situation).toMatchObject({ kind: 'field', prefix: 'pkt', inSelector: true });
    expect(at('{¦', 'logql').situation).toMatchObject({ kind: 'field', prefix: '', inSelector: true });
    expect(at('{a="b"} | logfmt | act¦', 'logql').situation).toMatchObject({
      kind: 'field',
      prefix: 'act',
      afterPipe: true,
      inSelector: false,
    });
  });

  it('completes the value of a label matcher or a label filter after = or !=', () => {
    expect(at('{action="¦"}', 'logql').situation).toEqual({ kind: 'value', field: 'action', prefix: '', quote: '"', from: 8, to: 10 });
    expect(at('{a="b", action != "RE¦', 'logql').situation).toMatchObject({ kind: 'value', field: 'action', prefix: 'RE', quote: '"' });
    expect(at('{a="b"} | logfmt | pkt_dstaddr=¦', 'logql').situation).toMatchObject({
      kind: 'value',
      field: 'pkt_dstaddr',
      prefix: '',
    });
    expect(at('{a="b"} | pkt_dstaddr = `10¦`', 'logql').situation).toMatchObject({ kind: 'value', field: 'pkt_dstaddr', quote: '`' });
  });

  it('does not complete values after =~, == or >=', () => {
    expect(at('{action=~"¦', 'logql').situation).toEqual({ kind: 'none' });
    expect(at('{a="b"} | bytes >= "¦', 'logql').situation).toEqual({ kind: 'none' });
    expect(at('{a="b"} | bytes == ¦', 'logql').situation).toMatchObject({ kind: 'field' });
  });

  it('does not take a LogsQL field: for a LogQL value', () => {
    expect(at('pkt_dstaddr:¦', 'logql').situation).toMatchObject({ kind: 'field', prefix: '' });
  });
});

describe('completionItems', () => {
  it('lists the fields, the special fields, functions and keywords, fields first, in order', () => {
    const items = completionItems(at('pkt¦').situation, 'logsql', FIELDS);
    expect(items.slice(0, 5).map((i) => [i.label, i.kind, i.detail])).toEqual([
      ['interface_id', 'field', 'string'],
      ['pkt_srcaddr', 'field', 'ip'],
      ['pkt_dstaddr', 'field', 'ip'],
      ['dstport', 'field', 'number'],
      ['action', 'field', 'string'],
    ]);
    const labels = items.map((i) => i.label);
    expect(labels).toEqual(expect.arrayContaining(['_time', '_msg', '_stream', 'count_uniq', 'by']));
    expect(items.map((i) => i.sortText)).toEqual([...items.map((i) => i.sortText)].sort());
    expect(items.every((i) => i.from === 0 && i.to === 3 && i.insertText === i.label && i.filterText === i.label)).toBe(true);
  });

  it('lists pipe names after a LogsQL pipe, and parsers and fields after a LogQL pipe', () => {
    const logsql = completionItems(at('* | ¦').situation, 'logsql', FIELDS).map((i) => i.label);
    expect(logsql).toEqual(expect.arrayContaining(['stats', 'sort', 'limit', 'extract', 'filter', 'fields', 'math', 'unpack_json']));
    expect(logsql).not.toContain('pkt_dstaddr');
    const logql = completionItems(at('{a="b"} | ¦', 'logql').situation, 'logql', FIELDS).map((i) => i.label);
    expect(logql).toEqual(expect.arrayContaining(['json', 'logfmt', 'pattern', 'unwrap', 'pkt_dstaddr']));
    expect(logql).not.toContain('count_over_time');
  });

  it('lists only label names in a LogQL selector', () => {
    const items = completionItems(at('{¦', 'logql').situation, 'logql', FIELDS);
    expect(items.map((i) => i.label)).toEqual(FIELDS.map((f) => f.name));
  });

  it('lists LogQL functions and keywords elsewhere', () => {
    const labels = completionItems(at('sum by (action) (¦', 'logql').situation, 'logql', FIELDS).map((i) => i.label);
    expect(labels).toEqual(expect.arrayContaining(['count_over_time', 'sum_over_time', 'rate', 'without', 'offset', 'action']));
  });

  it('inserts values as JSON strings, in the order given', () => {
    const values = ['10.0.32.7', 'a"b\\c', '-'];
    const items = completionItems(at('pkt_dstaddr:¦').situation, 'logsql', FIELDS, values);
    expect(items.map((i) => [i.label, i.insertText, i.filterText, i.kind, i.detail])).toEqual([
      ['10.0.32.7', '"10.0.32.7"', '10.0.32.7', 'value', 'pkt_dstaddr'],
      ['a"b\\c', '"a\\"b\\\\c"', 'a"b\\c', 'value', 'pkt_dstaddr'],
      ['-', '"-"', '-', 'value', 'pkt_dstaddr'],
    ]);
    expect(items.map((i) => i.sortText)).toEqual(['00000', '00001', '00002']);
  });

  it('gives nothing where nothing is completed', () => {
    expect(completionItems({ kind: 'none' }, 'logsql', FIELDS, ['x'])).toEqual([]);
  });

  it('replaces what was typed of a value, quotes included', () => {
    const first = (items: ReturnType<typeof completionItems>) => items[0];
    expect(apply('pkt_dstaddr:¦ | stats count()', first, 'logsql', ['10.0.32.7'])).toBe('pkt_dstaddr:"10.0.32.7" | stats count()');
    expect(apply('pkt_dstaddr:=10.0¦ x', first, 'logsql', ['10.0.32.7'])).toBe('pkt_dstaddr:="10.0.32.7" x');
    expect(apply('pkt_dstaddr:"10.0¦" x', first, 'logsql', ['10.0.32.7'])).toBe('pkt_dstaddr:"10.0.32.7" x');
    expect(apply("action:'AC¦", first, 'logsql', ['ACCEPT'])).toBe('action:"ACCEPT"');
    expect(apply('{action="¦"}', first, 'logql', ['REJECT'])).toBe('{action="REJECT"}');
    expect(apply('{a="b"} | action != ¦', first, 'logql', ['it\'s "x"'])).toBe('{a="b"} | action != "it\'s \\"x\\""');
  });

  it('matches the typed text, quote and all, against a value', () => {
    const quoted = completionItems(at('pkt_dstaddr:"10.¦').situation, 'logsql', FIELDS, ['10.0.32.7']);
    expect(quoted[0].filterText).toBe('"10.0.32.7');
    const single = completionItems(at("pkt_dstaddr:'10.¦").situation, 'logsql', FIELDS, ['10.0.32.7']);
    expect(single[0].filterText).toBe("'10.0.32.7");
  });

  it('replaces the field name typed so far', () => {
    const pick = (items: ReturnType<typeof completionItems>) => items.find((i) => i.label === 'pkt_dstaddr')!;
    expect(apply('action:ACCEPT pkt_d¦', pick)).toBe('action:ACCEPT pkt_dstaddr');
    expect(apply('{a="b", pkt_d¦}', pick, 'logql')).toBe('{a="b", pkt_dstaddr}');
  });
});
