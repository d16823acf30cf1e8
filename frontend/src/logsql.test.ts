import { decodeBody, escapeBody, interpolateLogsQL, Quote, quote, Resolver, Token, tokenize } from './logsql';
import { interpolateRaw } from './interpolate';
import { FakeTemplateSrv, FakeVariable } from './test/fakeTemplateSrv';
import { escapeRegex, Resolved } from './variables';

/** Values that break naive interpolation, one per hazard. */
const HOSTILE = [
  'a"b',
  "it's",
  'back\\slash',
  'trailing\\',
  '\\"',
  'c|d',
  '`tick`',
  '``',
  'line\nbreak',
  'cr\rlf\r\n',
  'tab\there',
  'nul\u0000byte',
  'bell\u0007del\u007f',
  'ünïcødé ✓ 日本語 😀',
  'lone \ud800 surrogate',
  '$x',
  '${x}',
  '[[x]]',
  '$__all',
  '# not a comment',
  '"; | delete',
  '") or (x:*',
  ' or * ',
  '(.*)+',
  '^$',
  '[0-9]{2}',
  '',
  ' ',
  'x'.repeat(20_000),
];

/** What a value reads as once written in a UTF-8 query: lone surrogates are U+FFFD. */
function asSent(value: string): string {
  return new TextDecoder().decode(new TextEncoder().encode(value));
}

/** Tokens outside literals, with every literal as `<lit>`: the structure VictoriaLogs parses. */
function shape(text: string): string[] {
  return tokenize(text)
    .filter((t) => t.kind !== 'space')
    .map((t) => (t.kind === 'string' ? '<lit>' : `${t.kind}:${t.text}`));
}

/** Every literal of a query, read back. */
function literals(text: string): string[] {
  return tokenize(text)
    .filter((t): t is Extract<Token, { kind: 'string' }> => t.kind === 'string')
    .map((t) => decodeBody(t.text.slice(1, -1), t.quote)!);
}

/** A resolver with one variable `v` standing for `r`. */
function only(r: Resolved): Resolver {
  return (p) => (p.name === 'v' ? r : { kind: 'literal', text: p.text });
}

function anchored(re: string): RegExp {
  return new RegExp(`^(?:${re})$`, 'u');
}

describe('tokenize', () => {
  it('reads literals, comments and words as VictoriaLogs does', () => {
    const q = `{app="a\\"b"} x:'it\\'s' y:\`raw\\\` # c "not" $v\nz:~"re" 10.0.32.7 -w`;
    expect(tokenize(q).filter((t) => t.kind !== 'space')).toEqual([
      { kind: 'punct', text: '{' },
      { kind: 'word', text: 'app' },
      { kind: 'punct', text: '=' },
      { kind: 'string', text: '"a\\"b"', quote: '"' },
      { kind: 'punct', text: '}' },
      { kind: 'word', text: 'x' },
      { kind: 'punct', text: ':' },
      { kind: 'string', text: "'it\\'s'", quote: "'" },
      { kind: 'word', text: 'y' },
      { kind: 'punct', text: ':' },
      { kind: 'string', text: '`raw\\`', quote: '`' },
      { kind: 'comment', text: '# c "not" $v' },
      { kind: 'word', text: 'z' },
      { kind: 'punct', text: ':' },
      { kind: 'punct', text: '~' },
      { kind: 'string', text: '"re"', quote: '"' },
      { kind: 'word', text: '10.0.32.7' },
      { kind: 'punct', text: '-' },
      { kind: 'word', text: 'w' },
    ]);
  });

  it('keeps variable references whole inside words, and glue between word parts', () => {
    expect(tokenize('$a.${b}-[[c]]/d:e').map((t) => t.text)).toEqual(['$a.${b}-[[c]]/d', ':', 'e']);
    // A reference holding a quote is not one: the quote starts a literal, as VictoriaLogs reads it.
    expect(tokenize('${x:"} y "').map((t) => t.kind)).toEqual(['punct', 'punct', 'word', 'punct', 'string']);
    expect(tokenize('${x:"} y').map((t) => t.kind)).toEqual(['punct', 'punct', 'word', 'punct', 'broken']);
  });

  it('reads the rest of the text as broken from a literal that does not end or is invalid', () => {
    for (const bad of ['"abc', '"a\nb"', '"\\q"', '"\\x4"', '"\\ud800"', '"\\\'"', "'\\\"'", '`abc', "'abc"]) {
      const tokens = tokenize(`x:${bad} $v`);
      expect(tokens[tokens.length - 1]).toEqual({ kind: 'broken', text: `${bad} $v` });
    }
  });

  it('accepts every Go escape VictoriaLogs does', () => {
    const body = '\\a\\b\\f\\n\\r\\t\\v\\\\\\"\\x41\\101\\u00e9\\U0001F600';
    expect(tokenize(`"${body}"`)).toEqual([{ kind: 'string', text: `"${body}"`, quote: '"' }]);
    expect(decodeBody(body, '"')).toBe('\u0007\b\f\n\r\t\u000b\\"AAé😀');
  });
});

describe('escapeBody and decodeBody', () => {
  it('round-trips every hostile value in each kind of literal', () => {
    for (const v of HOSTILE) {
      for (const q of ['"', "'"] as Quote[]) {
        const body = escapeBody(v, q)!;
        expect(tokenize(`${q}${body}${q}`)).toHaveLength(1);
        expect(decodeBody(body, q)).toBe(asSent(v));
        expect(body).not.toMatch(/[\n\r\u0000]/);
      }
      const raw = escapeBody(v, '`');
      if (/[`\r]/.test(v)) {
        expect(raw).toBeUndefined();
      } else {
        expect(decodeBody(raw!, '`')).toBe(asSent(v));
      }
    }
  });

  it('never escapes the other quote (Go rejects \\\' in "..." and \\" in \'...\')', () => {
    expect(escapeBody(`a"b'c`, '"')).toBe(`a\\"b'c`);
    expect(escapeBody(`a"b'c`, "'")).toBe(`a"b\\'c`);
  });
});

describe('interpolateLogsQL: one value', () => {
  const value = (v: string): Resolved => ({ kind: 'value', value: v, typed: false });
  const templates = [
    'x:=$v | stats count()',
    'x:$v',
    'x:"$v"',
    "x:'$v'",
    'x:`$v`',
    'x:="pre-$v-post"',
    'x:=pre.$v.post',
    '{app="$v"} _msg:$v',
    '$v:*',
    '"a" $v "b" | limit 5',
  ];

  it('keeps the query structure for every hostile value, and each literal reads back as intended', () => {
    for (const template of templates) {
      const expected = shape(interpolateLogsQL(template, only(value('plain'))));
      for (const v of HOSTILE) {
        const out = interpolateLogsQL(template, only(value(v)));
        expect(shape(out), `${template} with ${JSON.stringify(v).slice(0, 40)}`).toEqual(expected);
        const plain = literals(interpolateLogsQL(template, only(value('plain'))));
        expect(literals(out)).toEqual(plain.map((l) => l.split('plain').join(asSent(v))));
      }
    }
  });

  it('writes a bare variable as one complete double-quoted literal', () => {
    expect(interpolateLogsQL('x:=$v', only(value('a"b')))).toBe('x:="a\\"b"');
    expect(interpolateLogsQL('x:=10.0.$v.7', only(value('32')))).toBe('x:="10.0.32.7"');
    expect(interpolateLogsQL('-$v', only(value('error')))).toBe('-"error"');
    expect(interpolateLogsQL('x:$v*', only(value('pre')))).toBe('x:"pre"*');
  });

  it('escapes a value for the literal it stands in', () => {
    expect(interpolateLogsQL('x:"a $v b"', only(value('q"\\')))).toBe('x:"a q\\"\\\\ b"');
    expect(interpolateLogsQL("x:'a $v b'", only(value(`q'"`)))).toBe(`x:'a q\\'" b'`);
    expect(interpolateLogsQL('x:`a $v b`', only(value('q"\\')))).toBe('x:`a q"\\ b`');
  });

  it('turns a backquoted literal into a double-quoted one when the value holds a backquote or CR', () => {
    expect(interpolateLogsQL('x:`a\\ $v`', only(value('`')))).toBe('x:"a\\\\ `"');
    expect(interpolateLogsQL('x:`$v`', only(value('a\rb')))).toBe('x:"a\\rb"');
  });

  it('leaves comments, unknown variables and broken literals as written', () => {
    const r = only(value('X'));
    expect(interpolateLogsQL('x:$v # $v "', r)).toBe('x:"X" # $v "');
    expect(interpolateLogsQL('x:$nope y:"$nope"', r)).toBe('x:$nope y:"$nope"');
    expect(interpolateLogsQL('x:$v y:"abc $v', r)).toBe('x:"X" y:"abc $v');
  });

  it('never interpolates a value into a value (no second pass)', () => {
    const out = interpolateLogsQL('x:$v y:$w', (p) =>
      p.name === 'v' ? value('$w') : p.name === 'w' ? value('W') : { kind: 'literal', text: p.text }
    );
    expect(out).toBe('x:"$w" y:"W"');
  });

  it('handles every Grafana reference syntax, with explicit formats as typed text', () => {
    const r: Resolver = (p) => (p.name === 'v' ? value(p.text === '${v:csv}' ? 'a,b' : 'V') : { kind: 'literal', text: p.text });
    expect(interpolateLogsQL('a:$v b:${v} c:[[v]] d:${v:csv}', r)).toBe('a:"V" b:"V" c:"V" d:"a,b"');
  });
});

describe('interpolateLogsQL: regex positions', () => {
  const typed = (v: string): Resolved => ({ kind: 'value', value: v, typed: true });

  it('inserts a typed regex as typed, escaped for its literal', () => {
    expect(interpolateLogsQL('x:~"$v"', only(typed('10\\.0\\.32\\.(7|8)')))).toBe('x:~"10\\\\.0\\\\.32\\\\.(7|8)"');
    expect(interpolateLogsQL('x:~$v', only(typed('a"b')))).toBe('x:~"a\\"b"');
    expect(interpolateLogsQL("x:!~'$v'", only(typed("it's")))).toBe("x:!~'it\\'s'");
    expect(interpolateLogsQL('{app=~"$v"}', only(typed('.*')))).toBe('{app=~".*"}');
    expect(interpolateLogsQL('~ "^$v$"', only(typed('a|b')))).toBe('~ "^a|b$"');
  });

  it('turns several values into an alternation of escaped values, All into .*', () => {
    const values: Resolved = { kind: 'values', values: HOSTILE };
    const out = interpolateLogsQL('x:~"$v"', only(values));
    expect(shape(out)).toEqual(['word:x', 'punct::', 'punct:~', '<lit>']);
    const re = anchored(literals(out)[0]);
    for (const v of HOSTILE) {
      expect(re.test(asSent(v))).toBe(true);
    }
    for (const v of ['c', 'd', 'a', 'tick', '0', 'x'.repeat(19_999)]) {
      expect(re.test(v)).toBe(false);
    }
    expect(interpolateLogsQL('x:~$v', only({ kind: 'all', values: ['a', 'b'] }))).toBe('x:~".*"');
    expect(interpolateLogsQL('x:~$v', only({ kind: 'custom', text: '10\\..*' }))).toBe('x:~"10\\\\..*"');
    expect(interpolateLogsQL('x:~"$v"', only({ kind: 'value', value: 'a.b', typed: false }))).toBe('x:~"a\\\\.b"');
  });
});

describe('interpolateLogsQL: lists and several values', () => {
  it('writes one literal per value inside in(), contains_any() and contains_all()', () => {
    const values: Resolved = { kind: 'values', values: ['a"b', 'c,d', '`'] };
    expect(interpolateLogsQL('x:in($v)', only(values))).toBe('x:in("a\\"b", "c,d", "`")');
    expect(interpolateLogsQL('x:IN ( "pre-$v" )', only(values))).toBe('x:IN ( "pre-a\\"b", "pre-c,d", "pre-`" )');
    expect(interpolateLogsQL("x:contains_any('$v', z)", only(values))).toBe(`x:contains_any('a"b', 'c,d', '\`', z)`);
    expect(interpolateLogsQL('x:contains_all(`$v`)', only(values))).toBe('x:contains_all(`a"b`, `c,d`, "`")');
    expect(interpolateLogsQL('x:in($v)', only({ kind: 'all', values: ['p', 'q'] }))).toBe('x:in("p", "q")');
    expect(interpolateLogsQL('x:in($v)', only({ kind: 'values', values: [] }))).toBe('x:in()');
    // Back outside the list: one value again.
    expect(() => interpolateLogsQL('x:in(a) y:$v', only(values))).toThrow('$v has 3 values');
  });

  it('refuses several values where LogsQL takes one, saying where they could go', () => {
    for (const template of ['x:$v', 'x:="$v"', "x:'$v'", 'x:`$v`', 'x:=pre$v']) {
      expect(() => interpolateLogsQL(template, only({ kind: 'values', values: ['a', 'b'] }))).toThrow(
        /rawQuery: \$v has 2 values, but it stands where LogsQL takes one value; use it after :~ .* or inside in\(\.\.\.\)/
      );
      expect(() => interpolateLogsQL(template, only({ kind: 'all', values: ['a'] }))).toThrow('$v has All selected');
    }
  });

  it('keeps hostile list values apart and exact', () => {
    const values: Resolved = { kind: 'values', values: HOSTILE };
    const out = interpolateLogsQL('x:in($v) | limit 1', only(values));
    expect(literals(out)).toEqual(HOSTILE.map(asSent));
    expect(shape(out).filter((s) => s !== '<lit>' && s !== 'punct:,')).toEqual([
      'word:x',
      'punct::',
      'word:in',
      'punct:(',
      'punct:)',
      'punct:|',
      'word:limit',
      'word:1',
    ]);
  });
});

describe('interpolateRaw with a TemplateSrv', () => {
  const vars: FakeVariable[] = [
    { name: 'text', type: 'textbox', value: 'a"b\\c' },
    { name: 'pods', value: ['10.0.32.7', '10.0.32.8'], options: ['10.0.32.7', '10.0.32.8', '10.0.32.9'], multi: true, includeAll: true },
    { name: 'every', value: ['$__all'], options: ['$__all', 'x', 'y'], multi: true, includeAll: true },
    { name: 'custom', value: '$__all', options: ['$__all', 'x'], includeAll: true, allValue: '.*' },
    { name: 'dollar', type: 'textbox', value: '${pods} $text' },
  ];
  const srv = new FakeTemplateSrv(vars);

  it('interpolates textbox, multi-value, All and custom all values as data', () => {
    expect(interpolateRaw('m:=$text', {}, srv)).toBe('m:="a\\"b\\\\c"');
    expect(interpolateRaw('m:~"$text"', {}, srv)).toBe('m:~"a\\"b\\\\c"');
    expect(interpolateRaw('p:~$pods', {}, srv)).toBe('p:~"(10\\\\.0\\\\.32\\\\.7|10\\\\.0\\\\.32\\\\.8)"');
    expect(interpolateRaw('p:in($pods)', {}, srv)).toBe('p:in("10.0.32.7", "10.0.32.8")');
    expect(interpolateRaw('p:in($every)', {}, srv)).toBe('p:in("x", "y")');
    expect(interpolateRaw('p:~"${every}"', {}, srv)).toBe('p:~".*"');
    expect(interpolateRaw('p:~$custom', {}, srv)).toBe('p:~".*"');
    expect(interpolateRaw('p:=$custom', {}, srv)).toBe('p:=".*"');
    expect(interpolateRaw('p:=${dollar}', {}, srv)).toBe('p:="${pods} $text"');
    // A repeated panel's value wins and is one value.
    expect(interpolateRaw('p:=$pods', { pods: { text: '10.0.32.9', value: '10.0.32.9' } }, srv)).toBe('p:="10.0.32.9"');
  });

  it('interpolates an explicit format as one value', () => {
    expect(interpolateRaw('p:="${pods:csv}"', {}, srv)).toBe('p:="10.0.32.7,10.0.32.8"');
    expect(interpolateRaw('p:~${pods:regex}', {}, srv)).toBe('p:~"(10\\\\.0\\\\.32\\\\.7|10\\\\.0\\\\.32\\\\.8)"');
  });

  it('survives very long and many values', () => {
    const long = 'v"'.repeat(50_000);
    const many = Array.from({ length: 5_000 }, (_, i) => `10.${i >> 8}.${i & 255}.1`);
    const big = new FakeTemplateSrv([
      { name: 'long', type: 'textbox', value: long },
      { name: 'many', value: many, options: many, multi: true },
    ]);
    expect(literals(interpolateRaw('x:=$long', {}, big))).toEqual([long]);
    const re = literals(interpolateRaw('x:~$many', {}, big))[0];
    expect(re).toBe(`(${many.map(escapeRegex).join('|')})`);
    expect(literals(interpolateRaw('x:in($many)', {}, big))).toEqual(many);
  });

  it('is quote() for a bare variable', () => {
    // (A textbox holding `$__all` is All to Grafana too.)
    for (const v of HOSTILE.filter((h) => h !== '$__all')) {
      const s = new FakeTemplateSrv([{ name: 'v', type: 'textbox', value: v }]);
      expect(interpolateRaw('$v', {}, s)).toBe(quote(v));
    }
  });
});
