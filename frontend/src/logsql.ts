// Dashboard variables in hand-written LogsQL, as data. Pure.
//
// The text is split into tokens the way VictoriaLogs' lexer reads it
// (lib/logstorage/parser.go, v1.52): `#` comments to the end of the line;
// string literals in double quotes and single quotes (Go escapes: `\\`,
// `\"` or `\'`, `\n`, `\xNN`, `\uNNNN`, ...; a double-quoted literal cannot
// hold a raw newline) and in backquotes (no escapes at all); words; and
// everything else. Then every variable reference is written as data:
//
// - inside a literal, its value is escaped for that literal, so the literal
//   still ends where it ended (a value a backquoted literal cannot hold, one
//   with a backquote or a carriage return, turns that literal into the same
//   text double-quoted);
// - outside a literal, the word it is part of (`$pod`, `10.0.$x`) becomes one
//   complete double-quoted literal;
// - after `~` (`field:~`, `=~`, `!~`, `~`) the value is a regex: a typed
//   value (textbox, single-value variable) as typed, the values of a
//   multi-value variable regex-escaped, several as an alternation `(a|b)`,
//   All as `.*`, a custom all value as typed;
// - inside `in(...)`, `contains_any(...)`, `contains_all(...)` a variable
//   with several values becomes several literals, one per value (All: every
//   option);
// - anywhere else a value is exact, and a variable with several values (or
//   All) is an error that says where it could go.
//
// Variables in comments and unknown variables stay as written. From a
// literal that does not end (or holds an invalid escape) to the end of the
// query nothing is interpolated: VictoriaLogs rejects that query anyway, and
// no value is put where the lexers could disagree on what is quoted.
import {
  exactProduct,
  InterpolationError,
  isMany,
  Piece,
  regexOf,
  Resolved,
  ResolvedPiece,
  splitVariables,
} from './variables';
import { VARIABLE_PATTERN } from './validation';

export type Quote = '"' | "'" | '`';

export type Token =
  | { kind: 'space' | 'punct' | 'comment'; text: string }
  /** Letters, digits, `_`, glue (`.`, `-`, `+`, `/`, `$` between them) and variable references. */
  | { kind: 'word'; text: string }
  /** A complete, valid literal; `text` includes the quotes. */
  | { kind: 'string'; text: string; quote: Quote }
  /** From a literal that does not end, or holds an invalid escape, to the end of the text. */
  | { kind: 'broken'; text: string };

/** What a variable reference resolves to (interpolate.ts asks the TemplateSrv). */
export type Resolver = (piece: Piece) => Resolved;

const QUOTES = new Set(['"', "'", '`']);
const GLUE = new Set(['.', '-', '+', '/', '$']);
/** Functions whose arguments are a list of values. */
const LIST_FUNCTIONS = new Set(['in', 'contains_any', 'contains_all']);
/** A variable reference at a position (sticky). */
const REFERENCE = new RegExp(VARIABLE_PATTERN.source, 'y');

/** VictoriaLogs' token runes: Unicode letters and decimal digits, and `_`. */
function isTokenRune(ch: string): boolean {
  return /^[\p{L}\p{Nd}_]$/u.test(ch);
}

/** The code point at `i` as a string (one or two UTF-16 units). */
function charAt(s: string, i: number): string {
  return String.fromCodePoint(s.codePointAt(i)!);
}

/**
 * The length of the variable reference at `i` outside literals, or 0. A
 * reference holding a quote, `#` or white space is not taken as one, so that
 * the text around it is read as VictoriaLogs reads it.
 */
function referenceAt(s: string, i: number): number {
  if (s[i] !== '$' && s[i] !== '[') {
    return 0;
  }
  REFERENCE.lastIndex = i;
  const m = REFERENCE.exec(s);
  return m && !/["'`#\s]/.test(m[0]) ? m[0].length : 0;
}

function isHex(text: string): boolean {
  return /^[0-9a-fA-F]+$/.test(text);
}

/** The length of a valid Go escape at `i` (a backslash) in a literal quoted with `quote`, or -1. */
function escapeLength(s: string, i: number, quote: Quote): number {
  const c = s[i + 1];
  if (c !== undefined && 'abfnrtv\\'.includes(c)) {
    return 2;
  }
  if (c === quote) {
    return 2;
  }
  const hex = (n: number) => {
    const digits = s.slice(i + 2, i + 2 + n);
    return digits.length === n && isHex(digits) ? parseInt(digits, 16) : -1;
  };
  const rune = (v: number) => v >= 0 && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff);
  switch (c) {
    case 'x':
      return hex(2) >= 0 ? 4 : -1;
    case 'u':
      return rune(hex(4)) ? 6 : -1;
    case 'U':
      return rune(hex(8)) ? 10 : -1;
  }
  const octal = s.slice(i + 1, i + 4);
  return /^[0-7]{3}$/.test(octal) && parseInt(octal, 8) <= 255 ? 4 : -1;
}

/** The index after the literal that starts at `i`, or -1 when it does not end or is invalid. */
function literalEnd(s: string, i: number, quote: Quote): number {
  for (let j = i + 1; j < s.length; ) {
    const c = s[j];
    if (c === quote) {
      return j + 1;
    }
    if (quote !== '`') {
      if (c === '\n' && quote === '"') {
        return -1;
      }
      if (c === '\\') {
        const n = escapeLength(s, j, quote);
        if (n < 0) {
          return -1;
        }
        j += n;
        continue;
      }
    }
    j += 1;
  }
  return -1;
}

/** Splits LogsQL text into tokens (see the top of this file). */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '#') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      tokens.push({ kind: 'comment', text: text.slice(i, stop) });
      i = stop;
    } else if (QUOTES.has(c)) {
      const end = literalEnd(text, i, c as Quote);
      if (end < 0) {
        tokens.push({ kind: 'broken', text: text.slice(i) });
        break;
      }
      tokens.push({ kind: 'string', text: text.slice(i, end), quote: c as Quote });
      i = end;
    } else if (/\s/.test(c)) {
      let j = i;
      while (j < text.length && /\s/.test(text[j])) {
        j++;
      }
      tokens.push({ kind: 'space', text: text.slice(i, j) });
      i = j;
    } else if (referenceAt(text, i) > 0 || isTokenRune(charAt(text, i))) {
      const end = wordEnd(text, i);
      tokens.push({ kind: 'word', text: text.slice(i, end) });
      i = end;
    } else {
      const ch = charAt(text, i);
      tokens.push({ kind: 'punct', text: ch });
      i += ch.length;
    }
  }
  return tokens;
}

/** Where the word starting at `i` ends. */
function wordEnd(s: string, i: number): number {
  const startsPart = (j: number) => j < s.length && (referenceAt(s, j) > 0 || isTokenRune(charAt(s, j)));
  let j = i;
  while (j < s.length) {
    const ref = referenceAt(s, j);
    if (ref > 0) {
      j += ref;
    } else if (isTokenRune(charAt(s, j))) {
      j += charAt(s, j).length;
    } else if (GLUE.has(s[j]) && startsPart(j + 1)) {
      j += 1;
    } else {
      break;
    }
  }
  return j;
}

/** Replaces lone UTF-16 surrogates (which no UTF-8 text can hold) with U+FFFD, as a UTF-8 encoder does. */
function wellFormed(value: string): string {
  return value.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A value as the body of a literal quoted with `quote`, so that the literal
 * reads back as exactly the value; undefined when a backquoted literal
 * cannot hold it (a backquote or a carriage return).
 */
export function escapeBody(value: string, quote: Quote): string | undefined {
  const v = wellFormed(value);
  if (quote === '`') {
    return /[`\r]/.test(v) ? undefined : v;
  }
  let out = '';
  for (const ch of v) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === quote) {
      out += `\\${ch}`;
    } else if (code < 0x20 || code === 0x7f) {
      out += NAMED_ESCAPES[ch] ?? `\\x${code.toString(16).padStart(2, '0')}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/** A value as a complete double-quoted LogsQL literal. */
export function quote(value: string): string {
  return `"${escapeBody(value, '"')}"`;
}

/**
 * What a literal body reads as, with Go's rules (which VictoriaLogs uses);
 * undefined when it is not valid. For tests and for re-quoting a backquoted
 * literal.
 */
export function decodeBody(body: string, q: Quote): string | undefined {
  if (q === '`') {
    return body.includes('`') ? undefined : body.replace(/\r/g, '');
  }
  if (literalEnd(`${q}${body}${q}`, 0, q) !== body.length + 2) {
    return undefined;
  }
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  const SIMPLE: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34, "'": 39 };
  for (let i = 0; i < body.length; ) {
    if (body[i] !== '\\') {
      const ch = charAt(body, i);
      bytes.push(...encoder.encode(ch));
      i += ch.length;
      continue;
    }
    const c = body[i + 1];
    const n = escapeLength(body, i, q);
    if (c in SIMPLE) {
      bytes.push(SIMPLE[c]);
    } else if (c === 'x') {
      bytes.push(parseInt(body.slice(i + 2, i + 4), 16));
    } else if (c === 'u' || c === 'U') {
      bytes.push(...encoder.encode(String.fromCodePoint(parseInt(body.slice(i + 2, i + n), 16))));
    } else {
      bytes.push(parseInt(body.slice(i + 1, i + 4), 8));
    }
    i += n;
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Where a word or literal stands: after `~`, in a list function's parentheses, or anywhere else. */
type Context = 'regex' | 'list' | 'value';

/** Splits a literal body into text and variable references, never inside an escape. */
function bodyPieces(body: string, q: Quote): Piece[] {
  const pieces: Piece[] = [];
  let text = '';
  for (let i = 0; i < body.length; ) {
    if (body[i] === '\\' && q !== '`') {
      const n = escapeLength(body, i, q);
      text += body.slice(i, i + n);
      i += n;
      continue;
    }
    REFERENCE.lastIndex = i;
    const m = body[i] === '$' || body[i] === '[' ? REFERENCE.exec(body) : null;
    if (m) {
      if (text) {
        pieces.push({ text });
        text = '';
      }
      pieces.push({ text: m[0], name: m[1] ?? m[2] ?? m[4] });
      i += m[0].length;
    } else {
      text += body[i];
      i += 1;
    }
  }
  if (text) {
    pieces.push({ text });
  }
  return pieces;
}

/** Resolves the references among pieces; undefined when there are none that a TemplateSrv knows. */
function resolveAll(pieces: Piece[], resolve: Resolver): ResolvedPiece[] | undefined {
  const resolved = pieces.map((p): ResolvedPiece => ({
    ...p,
    r: p.name === undefined ? { kind: 'literal', text: p.text } : resolve(p),
  }));
  return resolved.some((p) => p.name !== undefined && p.r.kind !== 'literal') ? resolved : undefined;
}

/** The one exact value pieces spell, or an error naming the variable with several values. */
function single(pieces: ResolvedPiece[]): string {
  const many = pieces.find((p) => p.name !== undefined && isMany(p.r));
  if (many) {
    const count = many.r.kind === 'all' ? 'All selected' : `${(many.r as { values: string[] }).values.length} values`;
    throw new InterpolationError(
      `rawQuery: ${many.text} has ${count}, but it stands where LogsQL takes one value; ` +
        `use it after :~ (a regex, e.g. field:~"${many.text}") or inside in(...) (e.g. field:in(${many.text})), ` +
        'or select one value'
    );
  }
  return exactProduct(pieces, 'rawQuery')[0];
}

function renderWord(text: string, ctx: Context, resolve: Resolver): string {
  const pieces = resolveAll(splitVariables(text), resolve);
  if (!pieces) {
    return text;
  }
  switch (ctx) {
    case 'regex':
      return quote(regexOf(pieces));
    case 'list':
      return exactProduct(pieces, 'rawQuery').map(quote).join(', ');
    case 'value':
      return quote(single(pieces));
  }
}

/**
 * A literal with its references replaced. `values` gives, for each piece,
 * the text it stands for (decoded: a value, or the literal's own text read
 * back); undefined pieces keep their raw text.
 */
function requote(pieces: ResolvedPiece[], q: Quote, value: (p: ResolvedPiece) => string | undefined): string {
  const bodies = pieces.map((p) => {
    const v = value(p);
    return v === undefined ? p.text : escapeBody(v, q);
  });
  if (bodies.every((b): b is string => b !== undefined)) {
    return `${q}${bodies.join('')}${q}`;
  }
  // A backquoted literal that cannot hold a value: the same text, double-quoted.
  const text = pieces.map((p) => value(p) ?? decodeBody(p.text, '`')!).join('');
  return quote(text);
}

function renderString(token: { text: string; quote: Quote }, ctx: Context, resolve: Resolver): string {
  const q = token.quote;
  const pieces = resolveAll(bodyPieces(token.text.slice(1, -1), q), resolve);
  if (!pieces) {
    return token.text;
  }
  const isRef = (p: ResolvedPiece) => p.name !== undefined && p.r.kind !== 'literal';
  switch (ctx) {
    case 'regex':
      return requote(pieces, q, (p) => (isRef(p) ? regexOf([p]) : undefined));
    case 'value': {
      single(pieces); // throws for several values
      return requote(pieces, q, (p) => (isRef(p) ? single([p]) : undefined));
    }
    case 'list': {
      // One literal per value: its own text read back, the references' values in between.
      const decoded = pieces.map((p): ResolvedPiece =>
        isRef(p) ? p : { text: p.text, r: { kind: 'literal', text: decodeBody(p.text, q) ?? p.text } }
      );
      const literal = (v: string) => (escapeBody(v, q) === undefined ? quote(v) : `${q}${escapeBody(v, q)}${q}`);
      return exactProduct(decoded, 'rawQuery').map(literal).join(', ');
    }
  }
}

/** Interpolates variables into LogsQL as data (see the top of this file). Throws InterpolationError. */
export function interpolateLogsQL(text: string, resolve: Resolver): string {
  const out: string[] = [];
  const lists: boolean[] = []; // per open parenthesis: whether it holds a list function's arguments
  let prev: Token | undefined; // the last token that is not space or a comment
  for (const t of tokenize(text)) {
    const ctx: Context =
      prev?.kind === 'punct' && prev.text === '~' ? 'regex' : lists[lists.length - 1] ? 'list' : 'value';
    if (t.kind === 'word') {
      out.push(renderWord(t.text, ctx, resolve));
    } else if (t.kind === 'string') {
      out.push(renderString(t, ctx, resolve));
    } else {
      if (t.kind === 'punct' && t.text === '(') {
        lists.push(prev?.kind === 'word' && LIST_FUNCTIONS.has(prev.text.toLowerCase()));
      } else if (t.kind === 'punct' && t.text === ')') {
        lists.pop();
      }
      out.push(t.text);
    }
    if (t.kind !== 'space' && t.kind !== 'comment') {
      prev = t;
    }
  }
  return out.join('');
}
