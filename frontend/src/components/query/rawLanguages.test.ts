import { BACKENDS, backendOfLanguage, backendUi } from '../../backends';
import { tokenize } from '../../test/monarch';
import {
  LOGQL_LANGUAGE,
  LOGSQL_LANGUAGE,
  logqlLanguage,
  logsqlLanguage,
  rawLanguageConfiguration,
} from './rawLanguages';

const logsql = (text: string) => tokenize(logsqlLanguage, text);
const logql = (text: string) => tokenize(logqlLanguage, text);
const typeOf = (tokens: Array<[string, string]>, text: string) => tokens.find(([t]) => t === text)?.[1];

describe('the raw language of each backend', () => {
  it('follows the backend setting, LogsQL by default', () => {
    expect(backendUi('victorialogs').language.id).toBe(LOGSQL_LANGUAGE);
    expect(backendUi(undefined).language.id).toBe(LOGSQL_LANGUAGE);
    expect(backendUi('loki').language.id).toBe(LOGQL_LANGUAGE);
    expect(backendOfLanguage(LOGQL_LANGUAGE)?.kind).toBe('loki');
    expect(BACKENDS.map((b) => b.kind)).toEqual(['victorialogs', 'loki']);
  });
});

describe('LogsQL tokens', () => {
  it('tokenizes a stats query the builder renders', () => {
    expect(logsql('_time:5m pkt_dstaddr:="10.0.32.7" | stats by (pkt_srcaddr) sum(bytes) as value | limit 10')).toEqual([
      ['_time', 'type'],
      [':', 'delimiter'],
      ['5m', 'number.duration'],
      ['pkt_dstaddr', 'variable'],
      [':', 'delimiter'],
      ['=', 'operator'],
      ['"10.0.32.7"', 'string'],
      ['|', 'operator.pipe'],
      ['stats', 'keyword'],
      ['by', 'keyword'],
      ['(', 'delimiter.parenthesis'],
      ['pkt_srcaddr', 'identifier'],
      [')', 'delimiter.parenthesis'],
      ['sum', 'predefined'],
      ['(', 'delimiter.parenthesis'],
      ['bytes', 'identifier'],
      [')', 'delimiter.parenthesis'],
      ['as', 'keyword'],
      ['value', 'identifier'],
      ['|', 'operator.pipe'],
      ['limit', 'keyword'],
      ['10', 'number'],
    ]);
  });

  it('reads the three kinds of strings, with escapes', () => {
    expect(logsql(`"a \\" b" 'c' \`d\``)).toEqual([
      ['"a ', 'string'],
      ['\\"', 'string.escape'],
      [' b"', 'string'],
      ["'c'", 'string'],
      ['`d`', 'string'],
    ]);
  });

  it('reads a comment to the end of its line only', () => {
    expect(logsql('error # not | stats\n| limit 5')).toEqual([
      ['error', 'identifier'],
      ['# not | stats', 'comment'],
      ['|', 'operator.pipe'],
      ['limit', 'keyword'],
      ['5', 'number'],
    ]);
  });

  it('reads numbers, durations and addresses', () => {
    const tokens = logsql('x:>1.5e3 _time:1h30m y:ipv4_range("10.0.32.0/20") z:10.0.32.0/20 w:0x1F');
    expect(typeOf(tokens, '1.5e3')).toBe('number');
    expect(typeOf(tokens, '1h30m')).toBe('number.duration');
    expect(typeOf(tokens, 'ipv4_range')).toBe('predefined');
    expect(typeOf(tokens, '10.0.32.0/20')).toBe('number');
    expect(typeOf(tokens, '0x1F')).toBe('number');
    expect(typeOf(tokens, '>')).toBe('operator');
  });

  it('reads a stream filter as label matchers', () => {
    expect(logsql('{logtype="flow", environment!="dev"} ACCEPT')).toEqual([
      ['{', 'delimiter.curly'],
      ['logtype', 'tag'],
      ['=', 'operator'],
      ['"flow"', 'attribute.value'],
      [',', 'delimiter'],
      ['environment', 'tag'],
      ['!=', 'operator'],
      ['"dev"', 'attribute.value'],
      ['}', 'delimiter.curly'],
      ['ACCEPT', 'identifier'],
    ]);
  });

  it('knows the pipes, functions and special fields', () => {
    const tokens = logsql(
      '_msg:x _stream:{a="b"} | extract "<a> <b>" | unpack_json | fields a | math a*2 as c | replace ("x", "y") at a | format "<a>" as b | sort by (a desc) | stats count_uniq(a) n, count() m | filter n:>1'
    );
    for (const p of ['extract', 'unpack_json', 'fields', 'math', 'replace', 'format', 'sort', 'stats', 'filter']) {
      expect([p, typeOf(tokens, p)]).toEqual([p, 'keyword']);
    }
    for (const f of ['count_uniq', 'count']) {
      expect([f, typeOf(tokens, f)]).toEqual([f, 'predefined']);
    }
    expect(typeOf(tokens, '_msg')).toBe('type');
    expect(typeOf(tokens, '_stream')).toBe('type');
    expect(typeOf(tokens, 'desc')).toBe('keyword');
  });

  it('does not take a word after a pipe for a pipe unless it is one', () => {
    expect(logsql('a | b')).toEqual([
      ['a', 'identifier'],
      ['|', 'operator.pipe'],
      ['b', 'identifier'],
    ]);
  });
});

describe('LogQL tokens', () => {
  it('tokenizes a metric query', () => {
    expect(logql('sum by (action) (count_over_time({logtype="flow"} |= "ACCEPT" | logfmt [5m] offset 1h))')).toEqual([
      ['sum', 'predefined'],
      ['by', 'keyword'],
      ['(', 'delimiter.parenthesis'],
      ['action', 'identifier'],
      [')', 'delimiter.parenthesis'],
      ['(', 'delimiter.parenthesis'],
      ['count_over_time', 'predefined'],
      ['(', 'delimiter.parenthesis'],
      ['{', 'delimiter.curly'],
      ['logtype', 'tag'],
      ['=', 'operator'],
      ['"flow"', 'attribute.value'],
      ['}', 'delimiter.curly'],
      ['|=', 'operator.pipe'],
      ['"ACCEPT"', 'string'],
      ['|', 'operator.pipe'],
      ['logfmt', 'keyword'],
      ['[', 'delimiter.square'],
      ['5m', 'number.duration'],
      [']', 'delimiter.square'],
      ['offset', 'keyword'],
      ['1h', 'number.duration'],
      // Monaco merges adjacent tokens of one type.
      ['))', 'delimiter.parenthesis'],
    ]);
  });

  it('reads line filters, label filters, unwrap and comments', () => {
    const tokens = logql(
      'sum without (a) (sum_over_time({a=~"x.*", b!~`y`} != "z" |~ "w" | json | pattern "<a> <b>" | bytes > 10 | unwrap bytes [1h])) # total\nrate({a="b"}[5m])'
    );
    expect(typeOf(tokens, 'without')).toBe('keyword');
    expect(typeOf(tokens, 'sum_over_time')).toBe('predefined');
    expect(typeOf(tokens, '=~')).toBe('operator');
    expect(typeOf(tokens, '`y`')).toBe('attribute.value');
    expect(typeOf(tokens, '!=')).toBe('operator.pipe');
    expect(typeOf(tokens, '|~')).toBe('operator.pipe');
    expect(typeOf(tokens, 'json')).toBe('keyword');
    expect(typeOf(tokens, 'pattern')).toBe('keyword');
    expect(typeOf(tokens, 'unwrap')).toBe('keyword');
    expect(typeOf(tokens, '>')).toBe('operator');
    expect(typeOf(tokens, '# total')).toBe('comment');
    expect(typeOf(tokens, 'rate')).toBe('predefined');
    expect(typeOf(tokens, '1h')).toBe('number.duration');
  });
});

describe('language configuration', () => {
  it('has # comments and closes brackets and quotes', () => {
    expect(rawLanguageConfiguration.comments?.lineComment).toBe('#');
    const pairs = rawLanguageConfiguration.autoClosingPairs!.map((p) => p.open + p.close);
    expect(pairs).toEqual(['{}', '()', '[]', '""', "''", '``']);
  });

  it('takes field names with dots for one word', () => {
    const word = rawLanguageConfiguration.wordPattern!;
    expect('kubernetes.pod_name:x'.match(word)?.[0]).toBe('kubernetes.pod_name');
  });
});
