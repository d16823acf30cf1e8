import { escapeRegex, interpolateFilter, interpolatePlain, interpolateRaw, splitVariables } from './interpolate';
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

function f(op: FilterOp, value: string, field = 'pkt_srcaddr'): FlowFilter {
  return { field, op, value };
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
    expect(anchored(out.value).test('10.0.32.7')).toBe(true);
    expect(anchored(out.value).test('10.0.32.70')).toBe(false);
    expect(anchored(out.value).test('10x0.32.7')).toBe(false);
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
    const re = anchored(out.value);
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

  it('turns several values into a regex over the escaped values', () => {
    expect(interpolateFilter(f('=', '$actions', 'action'), {}, srv)).toEqual(f('=~', '(ACCEPT|REJECT)', 'action'));
    expect(interpolateFilter(f('!=', 'x.$pods', 'action'), {}, srv)).toEqual(
      f('!~', 'x\\.(10\\.0\\.32\\.7|10\\.0\\.32\\.8)', 'action')
    );
    const hostile = interpolateFilter(f('=', '${hostile}', 'action'), {}, srv);
    expect(hostile.op).toBe('=~');
    for (const v of HOSTILE) {
      expect(anchored(hostile.value).test(v)).toBe(true);
    }
    expect(anchored(hostile.value).test('c')).toBe(false);
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

describe('interpolateFilter, cidr and range', () => {
  it('uses values as they are; several are joined for the backend to reject by name', () => {
    expect(interpolateFilter(f('cidr', '$nets'), {}, srv)).toEqual(f('cidr', '10.0.32.0/20,10.0.48.0/20'));
    expect(interpolateFilter(f('range', '1024-$x', 'dstport'), { x: { text: '', value: '65535' } }, srv)).toEqual(
      f('range', '1024-65535', 'dstport')
    );
  });
});

describe('interpolateRaw', () => {
  it('escapes multi values for a regex inside a double-quoted string', () => {
    expect(interpolateRaw('pkt_srcaddr:~"$pods"', {}, srv)).toBe('pkt_srcaddr:~"(10\\\\.0\\\\.32\\\\.7|10\\\\.0\\\\.32\\\\.8)"');
    const hostile = interpolateRaw('x:~"${hostile}"', {}, srv);
    // Every quote inside is escaped, so the string cannot be closed early.
    const body = hostile.slice('x:~"'.length, -1);
    expect(body.replace(/\\\\/g, '').replace(/\\"/g, '')).not.toContain('"');
    // Read back as a JSON string literal (same escapes as LogsQL/LogQL), it is the regex.
    const regex = JSON.parse(`"${body.replace(/\n/g, '\\n')}"`);
    for (const v of HOSTILE) {
      expect(anchored(regex).test(v)).toBe(true);
    }
  });

  it('keeps typed values and All as regexes', () => {
    expect(interpolateRaw('{a="b"} | x:~"$kubernetes_pod_ip" y:~"$everything"', {}, srv)).toBe(
      '{a="b"} | x:~".*" y:~".*"'
    );
  });
});

describe('interpolatePlain', () => {
  it('inserts one value as it is', () => {
    expect(interpolatePlain('eni-$x', { x: { text: '', value: '0352f8c82da6aa229' } }, srv)).toBe('eni-0352f8c82da6aa229');
  });
});
