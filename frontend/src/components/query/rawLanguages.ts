// The raw query editor's two Monaco languages: VictoriaLogs LogsQL and Loki
// LogQL, as Monarch tokenizers (definitions only: rawMonaco.ts registers them).
// Token names are those Grafana's Monaco themes colour: keyword, predefined
// (functions), type (special fields), variable (field names), tag and
// attribute.value (label matchers), string, number, comment, operator,
// delimiter.
import type { monacoTypes } from '@grafana/ui';

export const LOGSQL_LANGUAGE = 'flowlens-logsql';
export const LOGQL_LANGUAGE = 'flowlens-logql';

/** LogsQL pipes (`| name ...`). */
export const LOGSQL_PIPES = [
  'block_stats',
  'blocks_count',
  'collapse_nums',
  'copy',
  'cp',
  'decolorize',
  'del',
  'delete',
  'drop_empty_fields',
  'eval',
  'extract',
  'extract_regexp',
  'facets',
  'field_names',
  'field_values',
  'fields',
  'filter',
  'first',
  'format',
  'generate_sequence',
  'hash',
  'head',
  'join',
  'json_array_len',
  'keep',
  'last',
  'len',
  'limit',
  'math',
  'mv',
  'offset',
  'order',
  'pack_json',
  'pack_logfmt',
  'query_stats',
  'rename',
  'replace',
  'replace_regexp',
  'rm',
  'running_stats',
  'sample',
  'set_stream_fields',
  'skip',
  'sort',
  'split',
  'stats',
  'stream_context',
  'time_add',
  'top',
  'total_stats',
  'union',
  'uniq',
  'unpack_json',
  'unpack_logfmt',
  'unpack_syslog',
  'unpack_words',
  'unroll',
  'where',
];

/** LogsQL words inside pipes and filters. */
export const LOGSQL_KEYWORDS = [
  'and',
  'as',
  'asc',
  'at',
  'by',
  'desc',
  'from',
  'if',
  'keep_original_fields',
  'not',
  'on',
  'or',
  'partition',
  'prefix',
  'result_prefix',
  'skip_empty_results',
  'with',
];

/** LogsQL stats, math and filter functions. */
export const LOGSQL_FUNCTIONS = [
  'abs',
  'avg',
  'ceil',
  'contains_all',
  'contains_any',
  'count',
  'count_empty',
  'count_uniq',
  'count_uniq_hash',
  'eq_field',
  'exact',
  'exp',
  'floor',
  'histogram',
  'i',
  'in',
  'ipv4_range',
  'json_values',
  'le_field',
  'len_range',
  'ln',
  'lt_field',
  'max',
  'median',
  'min',
  'now',
  'quantile',
  'rand',
  'range',
  'rate',
  'rate_sum',
  're',
  'round',
  'row_any',
  'row_max',
  'row_min',
  'seq',
  'string_range',
  'sum',
  'sum_len',
  'uniq_values',
  'value_type',
  'values',
];

/** LogsQL's special fields. */
export const LOGSQL_SPECIAL_FIELDS = ['_msg', '_stream', '_stream_id', '_time'];

/** LogQL keywords: grouping, unwrap, parsers and formatters after `|`, binary operators. */
export const LOGQL_KEYWORDS = [
  'and',
  'bool',
  'by',
  'decolorize',
  'drop',
  'group_left',
  'group_right',
  'ignoring',
  'ip',
  'json',
  'keep',
  'label_format',
  'line_format',
  'logfmt',
  'offset',
  'on',
  'or',
  'pattern',
  'regexp',
  'unless',
  'unpack',
  'unwrap',
  'without',
];

/** The LogQL words that follow a `|`. */
export const LOGQL_PIPE_KEYWORDS = [
  'decolorize',
  'drop',
  'json',
  'keep',
  'label_format',
  'line_format',
  'logfmt',
  'pattern',
  'regexp',
  'unpack',
  'unwrap',
];

/** LogQL range and vector aggregations and unwrap conversions. */
export const LOGQL_FUNCTIONS = [
  'absent_over_time',
  'avg',
  'avg_over_time',
  'bottomk',
  'bytes',
  'bytes_over_time',
  'bytes_rate',
  'count',
  'count_over_time',
  'duration',
  'duration_seconds',
  'first_over_time',
  'label_replace',
  'last_over_time',
  'max',
  'max_over_time',
  'min',
  'min_over_time',
  'quantile_over_time',
  'rate',
  'rate_counter',
  'sort',
  'sort_desc',
  'stddev',
  'stddev_over_time',
  'stdvar',
  'stdvar_over_time',
  'sum',
  'sum_over_time',
  'topk',
  'vector',
];

const DURATION = /(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w|y))+(?![\w.])/;
const IPV4 = /\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?:\/\d{1,2})?(?![\w.])/;
const NUMBER = /-?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(?:[KMGT]i?B?)?(?![\w.])/;

/** The three quoted strings both languages know; `\` escapes in "..." and '...', none in `...`. */
const STRING_STATES: monacoTypes.languages.IMonarchLanguage['tokenizer'] = {
  string_double: [
    [/[^\\"]+/, 'string'],
    [/\\./, 'string.escape'],
    [/"/, 'string', '@pop'],
  ],
  string_single: [
    [/[^\\']+/, 'string'],
    [/\\./, 'string.escape'],
    [/'/, 'string', '@pop'],
  ],
  string_backtick: [
    [/[^`]+/, 'string'],
    [/`/, 'string', '@pop'],
  ],
};

/** The first rules of both languages' root: whitespace, comments, the starts of strings. */
const LEADING: monacoTypes.languages.IMonarchLanguageRule[] = [
  [/\s+/, 'white'],
  [/#.*$/, 'comment'],
  [/"/, 'string', '@string_double'],
  [/'/, 'string', '@string_single'],
  [/`/, 'string', '@string_backtick'],
];

/** A double-quoted label matcher value, in both languages. */
const MATCHER_VALUE: monacoTypes.languages.IMonarchLanguageRule[] = [
  [/[^\\"]+/, 'attribute.value'],
  [/\\./, 'string.escape'],
  [/"/, 'attribute.value', '@pop'],
];

/** The brackets both languages highlight as pairs. */
const BRACKETS: monacoTypes.languages.IMonarchLanguageBracket[] = [
  { open: '{', close: '}', token: 'delimiter.curly' },
  { open: '(', close: ')', token: 'delimiter.parenthesis' },
  { open: '[', close: ']', token: 'delimiter.square' },
];

export const logsqlLanguage: monacoTypes.languages.IMonarchLanguage = {
  defaultToken: '',
  ignoreCase: false,
  tokenPostfix: '.logsql',
  pipes: LOGSQL_PIPES,
  keywords: LOGSQL_KEYWORDS,
  functions: LOGSQL_FUNCTIONS,
  specialFields: LOGSQL_SPECIAL_FIELDS,
  brackets: BRACKETS,
  tokenizer: {
    root: [
      ...LEADING,
      // A pipe, then the pipe's name.
      [/(\|)(\s*)([a-z_]+)/, [{ token: 'operator.pipe' }, { token: 'white' }, { cases: { '@pipes': 'keyword', '@default': 'identifier' } }]],
      [/\|/, 'operator.pipe'],
      // A stream filter: {label="value", ...}.
      [/\{/, 'delimiter.curly', '@matcher'],
      // A field name before `:` (`_time:5m`, `pkt_dstaddr:="10.0.32.7"`).
      [
        /([A-Za-z_][\w.]*)(:)/,
        [{ cases: { '@specialFields': 'type', '@default': 'variable' } }, { token: 'delimiter' }],
      ],
      [DURATION, 'number.duration'],
      [IPV4, 'number'],
      [NUMBER, 'number'],
      [
        /[A-Za-z_][\w.]*/,
        {
          cases: {
            '@specialFields': 'type',
            '@keywords': 'keyword',
            '@functions': 'predefined',
            '@default': 'identifier',
          },
        },
      ],
      [/[()[\]]/, '@brackets'],
      [/!=|!~|<=|>=|=|~|<|>|[-+*/%^!]/, 'operator'],
      [/[,;:]/, 'delimiter'],
    ],
    matcher: [
      [/\s+/, 'white'],
      [/[A-Za-z_][\w.]*/, 'tag'],
      [/!=|=~|!~|=/, 'operator'],
      [/"/, 'attribute.value', '@matcher_value'],
      [/,/, 'delimiter'],
      [/\}/, 'delimiter.curly', '@pop'],
    ],
    matcher_value: MATCHER_VALUE,
    ...STRING_STATES,
  },
};

export const logqlLanguage: monacoTypes.languages.IMonarchLanguage = {
  defaultToken: '',
  ignoreCase: false,
  tokenPostfix: '.logql',
  keywords: LOGQL_KEYWORDS,
  functions: LOGQL_FUNCTIONS,
  brackets: BRACKETS,
  tokenizer: {
    root: [
      ...LEADING,
      // A stream selector: {label="value", ...}.
      [/\{/, 'delimiter.curly', '@matcher'],
      // Line filters and pipes: |= |~ != !~ |> !> and |.
      [/\|[=~>]|![=~>]|\|/, 'operator.pipe'],
      [DURATION, 'number.duration'],
      [IPV4, 'number'],
      [NUMBER, 'number'],
      [
        /[A-Za-z_]\w*/,
        {
          cases: {
            '@keywords': 'keyword',
            '@functions': 'predefined',
            '@default': 'identifier',
          },
        },
      ],
      [/[()[\]]/, '@brackets'],
      [/==|!=|=~|!~|<=|>=|=|<|>|[-+*/%^]/, 'operator'],
      [/[,;:]/, 'delimiter'],
    ],
    matcher: [
      [/\s+/, 'white'],
      [/[A-Za-z_]\w*/, 'tag'],
      [/!=|=~|!~|=/, 'operator'],
      [/"/, 'attribute.value', '@matcher_value'],
      [/`/, 'attribute.value', '@matcher_raw'],
      [/,/, 'delimiter'],
      [/\}/, 'delimiter.curly', '@pop'],
    ],
    matcher_value: MATCHER_VALUE,
    matcher_raw: [
      [/[^`]+/, 'attribute.value'],
      [/`/, 'attribute.value', '@pop'],
    ],
    ...STRING_STATES,
  },
};

/** Comments, brackets and auto-closing pairs, the same for both. */
export const rawLanguageConfiguration: monacoTypes.languages.LanguageConfiguration = {
  comments: { lineComment: '#' },
  brackets: [
    ['{', '}'],
    ['(', ')'],
    ['[', ']'],
  ],
  autoClosingPairs: [
    { open: '{', close: '}' },
    { open: '(', close: ')' },
    { open: '[', close: ']' },
    { open: '"', close: '"', notIn: ['string'] },
    { open: "'", close: "'", notIn: ['string'] },
    { open: '`', close: '`', notIn: ['string'] },
  ],
  surroundingPairs: [
    { open: '{', close: '}' },
    { open: '(', close: ')' },
    { open: '[', close: ']' },
    { open: '"', close: '"' },
    { open: "'", close: "'" },
    { open: '`', close: '`' },
  ],
  // Field names with dots (kubernetes.pod_name) are one word.
  wordPattern: /[A-Za-z_][\w.]*|-?\d+(?:\.\d+)*/,
};
