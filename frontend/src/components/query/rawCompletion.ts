// What the raw query editor completes at a cursor: a field name (or a pipe's
// name right after `|`), or the value of a field after `field:` / `field:=`
// (LogsQL) or `field="` / `field=` / `field!=` (a LogQL label matcher or
// label filter). Pure: text and offsets in, items with offsets out;
// rawMonaco.ts turns them into Monaco's completion items. Values are inserted
// as JSON strings, so a value is data whatever it holds.
import type { FieldInfo } from '../../types';
import {
  LOGQL_PIPE_KEYWORDS,
  LOGSQL_FUNCTIONS,
  LOGSQL_KEYWORDS,
  LOGSQL_PIPES,
  LOGSQL_SPECIAL_FIELDS,
  LOGQL_FUNCTIONS,
  LOGQL_KEYWORDS,
} from './rawLanguages';

export type Dialect = 'logsql' | 'logql';

/** What is being completed; `from`..`to` is the text a chosen item replaces. */
export type Situation =
  | { kind: 'none' }
  | {
      kind: 'field';
      /** The part of the name typed so far. */
      prefix: string;
      /** Right after a `|`: where a LogsQL pipe's name or a LogQL parser stands. */
      afterPipe: boolean;
      /** Inside a `{...}` stream selector: a label name. */
      inSelector: boolean;
      from: number;
      to: number;
    }
  | {
      kind: 'value';
      field: string;
      /** The part of the value typed so far (without the opening quote). */
      prefix: string;
      /** The opening quote when the value is already quoted. */
      quote?: string;
      from: number;
      to: number;
    };

export type ItemKind = 'field' | 'value' | 'keyword' | 'function';

export interface RawCompletionItem {
  label: string;
  insertText: string;
  /** What the typed text (from `from` to the cursor) is matched against. */
  filterText: string;
  /** Keeps the order given (fields as the resource lists them, values most bytes first). */
  sortText: string;
  kind: ItemKind;
  detail?: string;
  from: number;
  to: number;
}

type Scan = { state: 'code' } | { state: 'comment' } | { state: 'string'; quote: string; start: number };

/** Whether `offset` is in code, a comment or a string (and where the string opened). */
export function scanTo(text: string, offset: number): Scan {
  let i = 0;
  while (i < offset) {
    const c = text[i];
    if (c === '#') {
      const nl = text.indexOf('\n', i);
      if (nl === -1 || nl >= offset) {
        return { state: 'comment' };
      }
      i = nl + 1;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      const start = i;
      i++;
      let closed = false;
      while (i < offset) {
        if (c !== '`' && text[i] === '\\') {
          i += 2;
          continue;
        }
        if (text[i] === c) {
          closed = true;
          i++;
          break;
        }
        i++;
      }
      if (!closed) {
        return { state: 'string', quote: c, start };
      }
      continue;
    }
    i++;
  }
  return { state: 'code' };
}

const LOGSQL_VALUE_AFTER = /([A-Za-z_][\w.]*):=?$/;
const LOGQL_VALUE_AFTER = /([A-Za-z_]\w*)\s*!?=\s*$/;
/** The characters an unquoted value may hold (an address, an ENI id, ACCEPT, 443). */
const UNQUOTED_VALUE = /[^\s"'`(){}[\],|:=!~<>#]*$/;
const FIELD_PREFIX = /[A-Za-z_][\w.]*$/;

function valueField(before: string, dialect: Dialect): string | undefined {
  const m = (dialect === 'logsql' ? LOGSQL_VALUE_AFTER : LOGQL_VALUE_AFTER).exec(before);
  return m?.[1];
}

/** Whether `offset` is inside an unclosed `{` (a stream selector). */
function inSelector(text: string, offset: number): boolean {
  const open = text.lastIndexOf('{', offset - 1);
  return open !== -1 && text.lastIndexOf('}', offset - 1) < open;
}

/** What is being completed at `offset` in `text`. */
export function situationAt(text: string, offset: number, dialect: Dialect): Situation {
  const before = text.slice(0, offset);
  const scan = scanTo(text, offset);
  if (scan.state === 'comment') {
    return { kind: 'none' };
  }
  if (scan.state === 'string') {
    const field = valueField(text.slice(0, scan.start), dialect);
    if (!field) {
      return { kind: 'none' };
    }
    // An auto-closed quote right after the cursor is replaced too.
    const to = text[offset] === scan.quote ? offset + 1 : offset;
    return { kind: 'value', field, prefix: text.slice(scan.start + 1, offset), quote: scan.quote, from: scan.start, to };
  }
  const unquoted = UNQUOTED_VALUE.exec(before)![0];
  const field = valueField(before.slice(0, offset - unquoted.length), dialect);
  if (field) {
    return { kind: 'value', field, prefix: unquoted, from: offset - unquoted.length, to: offset };
  }
  const prefix = FIELD_PREFIX.exec(before)?.[0] ?? '';
  const start = offset - prefix.length;
  // Not within a number or a duration (5m), nor after a dot.
  if (start > 0 && /[\w.]/.test(text[start - 1])) {
    return { kind: 'none' };
  }
  const afterPipe = /\|\s*$/.test(text.slice(0, start));
  return { kind: 'field', prefix, afterPipe, inSelector: inSelector(text, start), from: start, to: offset };
}

const pad = (n: number) => String(n).padStart(5, '0');

/** The items for a situation, given the datasource's fields and (for a value) the field's values. */
export function completionItems(
  situation: Situation,
  dialect: Dialect,
  fields: readonly FieldInfo[],
  values: readonly string[] = []
): RawCompletionItem[] {
  if (situation.kind === 'none') {
    return [];
  }
  const { from, to } = situation;
  if (situation.kind === 'value') {
    const quote = situation.quote ?? '';
    return values.map((v, i) => ({
      label: v,
      insertText: JSON.stringify(v),
      filterText: `${quote}${v}`,
      sortText: pad(i),
      kind: 'value',
      detail: situation.field,
      from,
      to,
    }));
  }
  const items: RawCompletionItem[] = [];
  const add = (label: string, kind: ItemKind, detail?: string) =>
    items.push({ label, insertText: label, filterText: label, sortText: pad(items.length), kind, detail, from, to });
  if (situation.afterPipe) {
    for (const p of dialect === 'logsql' ? LOGSQL_PIPES : LOGQL_PIPE_KEYWORDS) {
      add(p, 'keyword', dialect === 'logsql' ? 'pipe' : undefined);
    }
    if (dialect === 'logsql') {
      return items;
    }
  }
  for (const f of fields) {
    add(f.name, 'field', f.type);
  }
  if (situation.inSelector || situation.afterPipe) {
    return items;
  }
  if (dialect === 'logsql') {
    LOGSQL_SPECIAL_FIELDS.forEach((f) => add(f, 'field', 'special field'));
    LOGSQL_FUNCTIONS.forEach((f) => add(f, 'function'));
    LOGSQL_KEYWORDS.forEach((k) => add(k, 'keyword'));
  } else {
    LOGQL_FUNCTIONS.forEach((f) => add(f, 'function'));
    LOGQL_KEYWORDS.forEach((k) => add(k, 'keyword'));
  }
  return items;
}
