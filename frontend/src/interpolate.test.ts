import { adHocFilter, escapeRegex, interpolateFilter, interpolateInterface, interpolateRaw, splitVariables } from './interpolate';
import { FakeTemplateSrv, FakeVariable } from './test/fakeTemplateSrv';
import { FilterOp, FlowFilter } from './types';

const HOSTILE = ['a"b', 'c|d', 'e\\f', '(.*)+', "it's", '${remote_svc_ip}', 'x\ny', '^$', '[0-9]{2}', '`tick`'];

const vars: FakeVariable[] = [
  { name: 'kubernetes_pod_ip', type: 'textbox', value: '.*' },
  { name: 'typed', type: 'textbox', value: '10\\.0\\.32\\.(7|8)' },
  { name: 'pods', value: ['10.0.32.7', '10.0.32.8'], options: ['10.0.32.7', '10.0.32.8', '10.0.32.9'], multi: true, includeAll: true },
  { name: 'one', value: ['10.0.32.7'], options: ['10.0.32.7', '10.0.32.8'], multi: true },
  { name: 'everything', value: ['$__all'], options: ['$__all', '10.0.32.7', '10.0.32.8'], multi: true, includeAll: true },
  { name: 'custom_all', value: '$__all', options: ['$__all', 'a', 'b'], includeAll: true, allValue: '10\\.0\\..*' },
  { name: 'hostile', value: HOSTILE, options: HOSTILE, multi: true },
  { name: 'hostile_text', type: 'textbox', value: 'a"b\\|c' },
  { name: 'actions', value: ['ACCEPT', 'REJECT'], options: ['ACCEPT', 'REJECT'], multi: true, includeAll: true },
  { name: 'action', value: 'ACCEPT', options: ['ACCEPT', 'REJECT'], includeAll: true },
  { name: 'nets', value: ['10.0.32.0/20', '10.0.48.0/20'], options: ['10.0.32.0/20', '10.0.48.0/20'], multi: true },
  { name: 'remote_svc_ip', type: 'textbox', value: 'SHOULD-NOT-APPEAR' },
];
const srv = new FakeTemplateSrv(vars);

function f(op: FilterOp, value: string | string[], field = 'pkt_srcaddr'): FlowFilter {
  return { field, op, value };
}

/** The value of an interpolated filter that must be a string. */
function text(filter: FlowFilter): string {
  expect(typeof filter.value).toBe('string');
  return filter.value as string;
}

/** The anchored regex the backend will run, for checking what a value really matches. */
function anchored(re: string): RegExp {
  return new RegExp(`^(?:${re})$`);
}

describe('escapeRegex', () => {
  it('makes every value match itself and nothing else', () => {
    for (const v of [...HOSTILE, '10.0.32.7', '', '.*', '\\', '\\\\']) {
      const re = anchored(escapeRegex(v));
      expect(re.test(v)).toBe(true);
    }
    expect(anchored(escapeRegex('10.0.32.7')).test('10x0x32x7')).toBe(false);
    expect(anchored(escapeRegex('.*')).test('anything')).toBe(false);
  });
});

describe('splitVariables', () => {
  it('finds every Grafana variable syntax', () => {
    expect(splitVariables('a$x-${y}[[z]]${w:regex}b').map((p) => p.name ?? p.text)).toEqual(['a', 'x', '-', 'y', 'z', 'w', 'b']);
    expect(splitVariables('no variables here')).toEqual([{ text: 'no variables here' }]);
  });
});

describe('interpolateFilter, regex ops', () => {
  it('keeps a typed regex variable as the regex the user typed', () => {
    expect(interpolateFilter(f('=~', '${kubernetes_pod_ip}'), {}, srv).value).toBe('.*');
    expect(interpolateFilter(f('=~', '$typed'), {}, srv).value).toBe('10\\.0\\.32\\.(7|8)');
    expect(interpolateFilter(f('!~', '[[typed]]'), {}, srv)).toEqual(f('!~', '10\\.0\\.32\\.(7|8)'));
  });

  it('turns a multi-value variable into an alternation of escaped values', () => {
    const out = interpolateFilter(f('=~', '${pods}'), {}, srv);
    expect(out).toEqual(f('=~', '(10\\.0\\.32\\.7|10\\.0\\.32\\.8)'));
    expect(anchored(text(out)).test('10.0.32.7')).toBe(true);
    expect(anchored(text(out)).test('10.0.32.70')).toBe(false);
    expect(anchored(text(out)).test('10x0.32.7')).toBe(false);
  });

  it('escapes a single value of a multi-value variable', () => {
    expect(interpolateFilter(f('=~', '$one'), {}, srv).value).toBe('10\\.0\\.32\\.7');
  });

  it('turns All without a custom value into .*, and uses a custom all value as typed', () => {
    expect(interpolateFilter(f('=~', '${everything}'), {}, srv).value).toBe('.*');
    expect(interpolateFilter(f('=~', '${custom_all}'), {}, srv).value).toBe('10\\.0\\..*');
  });

  it('keeps hostile multi values as data: each matches exactly itself', () => {
    const out = interpolateFilter(f('=~', '${hostile}'), {}, srv);
    expect(out.op).toBe('=~');
    expect(out.value).toBe(`(${HOSTILE.map(escapeRegex).join('|')})`);
    const re = anchored(text(out));
    for (const v of HOSTILE) {
      expect(re.test(v)).toBe(true);
    }
    for (const v of ['c', 'd', 'ab', 'e\\\\f', '(x)+', '10.0.32.7', '']) {
      expect(re.test(v)).toBe(false);
    }
    // A value that looks like a variable is not interpolated again.
    expect(out.value).not.toContain('SHOULD-NOT-APPEAR');
  });

  it('leaves unknown variables and literal regex text as written', () => {
    expect(interpolateFilter(f('=~', '10\\.0\\.$nope'), {}, srv).value).toBe('10\\.0\\.$nope');
    expect(interpolateFilter(f('=~', '^10\\.0\\.32\\.$'), {}, srv).value).toBe('^10\\.0\\.32\\.$');
  });

  it('mixes literal regex text and variables', () => {
    expect(interpolateFilter(f('=~', '$pods|10\\.1\\..*'), {}, srv).value).toBe('(10\\.0\\.32\\.7|10\\.0\\.32\\.8)|10\\.1\\..*');
  });

  it('lets a repeated panel value (scoped) win over the dashboard value, escaped as the literal it is', () => {
    const scoped = { pods: { text: '10.0.32.9', value: '10.0.32.9' } };
    expect(interpolateFilter(f('=~', '$pods'), scoped, srv).value).toBe('10\\.0\\.32\\.9');
    const scopedAll = { everything: { text: '10.0.32.8', value: '10.0.32.8' } };
    expect(interpolateFilter(f('=~', '$everything'), scopedAll, srv).value).toBe('10\\.0\\.32\\.8');
  });
});

describe('interpolateFilter, exact ops', () => {
  it('does not escape values', () => {
    expect(interpolateFilter(f('=', '$action', 'action'), {}, srv)).toEqual(f('=', 'ACCEPT', 'action'));
    expect(interpolateFilter(f('=', '$hostile_text', 'action'), {}, srv)).toEqual(f('=', 'a"b\\|c', 'action'));
    expect(interpolateFilter(f('!=', 'x.$one', 'action'), {}, srv)).toEqual(f('!=', 'x.10.0.32.7', 'action'));
  });

  it('turns several values into a set match over the exact values', () => {
    expect(interpolateFilter(f('=', '$actions', 'action'), {}, srv)).toEqual(f('=|', ['ACCEPT', 'REJECT'], 'action'));
    expect(interpolateFilter(f('!=', 'x.$pods', 'action'), {}, srv)).toEqual(
      f('!=|', ['x.10.0.32.7', 'x.10.0.32.8'], 'action')
    );
    // Hostile values are the values, not escaped and not split.
    expect(interpolateFilter(f('=', '${hostile}', 'action'), {}, srv)).toEqual(f('=|', HOSTILE, 'action'));
    // Two multi-value variables: every combination.
    expect(interpolateFilter(f('=', '$actions-$actions', 'action'), {}, srv).value).toEqual([
      'ACCEPT-ACCEPT',
      'ACCEPT-REJECT',
      'REJECT-ACCEPT',
      'REJECT-REJECT',
    ]);
  });

  it('refuses a product of more than 10,000 values, naming the variables', () => {
    const many = Array.from({ length: 101 }, (_, i) => `v${i}`);
    const big = new FakeTemplateSrv([{ name: 'm', value: many, options: many, multi: true }]);
    expect(interpolateFilter(f('=', '$m', 'action'), {}, big).value).toHaveLength(101);
    expect(() => interpolateFilter(f('=', '$m$m', 'action'), {}, big)).toThrow(
      'filter on action: $m and $m expand to more than 10000 values'
    );
  });

  it('expands the values of a set filter', () => {
    expect(interpolateFilter(f('=|', ['$actions', 'x$one'], 'action'), {}, srv)).toEqual(
      f('=|', ['ACCEPT', 'REJECT', 'x10.0.32.7'], 'action')
    );
    expect(interpolateFilter(f('!=|', '$actions', 'action'), {}, srv)).toEqual(f('!=|', ['ACCEPT', 'REJECT'], 'action'));
  });

  it('turns All into a match-everything regex', () => {
    expect(interpolateFilter(f('=', '$everything', 'action'), {}, srv)).toEqual(f('=~', '.*', 'action'));
    expect(interpolateFilter(f('=', '$custom_all', 'action'), {}, srv)).toEqual(f('=~', '10\\.0\\..*', 'action'));
  });

  it('never turns an unknown op into something else', () => {
    expect(interpolateFilter(f('constructor' as FilterOp, '$actions', 'action'), {}, srv).op).toBe('constructor');
  });

  it('leaves values without variables alone', () => {
    expect(interpolateFilter(f('=', 'a"b|c\\d', 'action'), {}, srv)).toEqual(f('=', 'a"b|c\\d', 'action'));
  });
});

describe('interpolateFilter, cidr, range and comparisons', () => {
  it('uses values as they are; several are joined for the backend to reject by name', () => {
    expect(interpolateFilter(f('cidr', '$nets'), {}, srv)).toEqual(f('cidr', '10.0.32.0/20,10.0.48.0/20'));
    expect(interpolateFilter(f('>=', '$port', 'dstport'), { port: { text: '', value: '1024' } }, srv)).toEqual(
      f('>=', '1024', 'dstport')
    );
    expect(interpolateFilter(f('<', '$actions', 'dstport'), {}, srv)).toEqual(f('<', 'ACCEPT,REJECT', 'dstport'));
    expect(interpolateFilter(f('range', '1024-$x', 'dstport'), { x: { text: '', value: '65535' } }, srv)).toEqual(
      f('range', '1024-65535', 'dstport')
    );
  });
});

describe('interpolateRaw', () => {
  it('escapes multi values for a regex inside a double-quoted string', () => {
    expect(interpolateRaw('pkt_srcaddr:~"$pods"', {}, srv)).toBe('pkt_srcaddr:~"(10\\\\.0\\\\.32\\\\.7|10\\\\.0\\\\.32\\\\.8)"');
    const hostile = interpolateRaw('x:~"${hostile}"', {}, srv);
    // Read back as a JSON string literal (the same escapes as LogsQL), it is the regex.
    const regex = JSON.parse(hostile.slice('x:~'.length));
    for (const v of HOSTILE) {
      expect(anchored(regex).test(v)).toBe(true);
    }
  });

  it('keeps typed values and All as regexes', () => {
    expect(interpolateRaw('{a="b"} | x:~"$kubernetes_pod_ip" y:~"$everything"', {}, srv)).toBe(
      '{a="b"} | x:~".*" y:~".*"'
    );
  });

  it('writes exact values as quoted literals', () => {
    expect(interpolateRaw('action:=$action', {}, srv)).toBe('action:="ACCEPT"');
    expect(interpolateRaw('action:="$hostile_text"', {}, srv)).toBe('action:="a\\"b\\\\|c"');
    expect(interpolateRaw('action:in($actions)', {}, srv)).toBe('action:in("ACCEPT", "REJECT")');
    expect(() => interpolateRaw('action:=$actions', {}, srv)).toThrow('$actions has 2 values');
  });
});

describe('interpolateInterface', () => {
  it('inserts one value as it is', () => {
    expect(interpolateInterface('eni-$x', { x: { text: '', value: '0352f8c82da6aa229' } }, srv)).toBe('eni-0352f8c82da6aa229');
  });

  it('turns several values, or All, into a list', () => {
    const enis = new FakeTemplateSrv([
      { name: 'eni', value: ['eni-a', 'eni-b'], options: ['eni-a', 'eni-b', 'eni-c'], multi: true, includeAll: true },
      { name: 'every', value: '$__all', options: ['$__all', 'eni-a', 'eni-b'], includeAll: true },
      { name: 'one', value: ['eni-a'], options: ['eni-a', 'eni-b'], multi: true },
    ]);
    expect(interpolateInterface('$eni', {}, enis)).toEqual(['eni-a', 'eni-b']);
    expect(interpolateInterface('${every}', {}, enis)).toEqual(['eni-a', 'eni-b']);
    expect(interpolateInterface('$one', {}, enis)).toBe('eni-a');
    expect(interpolateInterface(['$one', 'eni-z'], {}, enis)).toEqual(['eni-a', 'eni-z']);
  });
});

describe('adHocFilter', () => {
  it('maps every operator Grafana sends, and passes unknown ones on', () => {
    expect(adHocFilter({ key: 'action', operator: '=|', value: 'ACCEPT', values: ['ACCEPT', 'REJECT'] })).toEqual(
      f('=|', ['ACCEPT', 'REJECT'], 'action')
    );
    expect(adHocFilter({ key: 'action', operator: '!=|', value: 'ACCEPT' })).toEqual(f('!=|', ['ACCEPT'], 'action'));
    for (const op of ['=', '!=', '=~', '!~', '<', '<=', '>', '>=', 'like']) {
      expect(adHocFilter({ key: 'dstport', operator: op, value: '443' })).toEqual(f(op as FilterOp, '443', 'dstport'));
    }
    // Values are data: a `$` in a value is not a variable.
    expect(adHocFilter({ key: 'x', operator: '=', value: '$actions' })).toEqual(f('=', '$actions', 'x'));
  });
});
