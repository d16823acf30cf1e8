// Registers the raw query languages (rawLanguages.ts) and one completion
// provider for both with a Monaco instance, once. The provider serves every
// raw query editor: each editor registers the source of its completions (its
// datasource and time range) under its model's URI while it is mounted.
import type { TimeRange } from '@grafana/data';
import type { Monaco, monacoTypes } from '@grafana/ui';

import { RELATIVE_FIELDS } from '../../fields';
import type { DataSource } from '../../datasource';
import type { FieldInfo } from '../../types';
import { completionItems, Dialect, ItemKind, situationAt } from './rawCompletion';
import { BACKENDS, backendOfLanguage } from '../../backends';
import { rawLanguageConfiguration } from './rawLanguages';

/** Where an editor's completions come from. */
export interface CompletionSource {
  fields(): Promise<FieldInfo[]>;
  /** The values of a field, most bytes first; [] when they cannot be had. */
  values(field: string): Promise<string[]>;
}

/** How many values of a field are suggested (the most bytes first). */
export const SUGGESTED_VALUES = 50;

/**
 * The completions of an editor from `current()`'s datasource and time range
 * (read at each completion, so they follow the panel): its fields, and the
 * values of a field over the range from the `values` resource, asked once per
 * field and range (again after a failure).
 */
export function datasourceCompletions(
  current: () => { datasource: Pick<DataSource, 'fields' | 'fieldValues'>; range: TimeRange }
): CompletionSource {
  const cache = new Map<string, Promise<string[]>>();
  return {
    // inside_addr / outside_addr are the builder's direction-relative names, not fields a raw query can read.
    fields: async () => (await current().datasource.fields()).filter((f) => !RELATIVE_FIELDS.some((r) => r.name === f.name)),
    values: (field) => {
      const { datasource, range } = current();
      const key = JSON.stringify([field, range.from.valueOf(), range.to.valueOf()]);
      let values = cache.get(key);
      if (!values) {
        values = datasource.fieldValues(field, range, undefined, SUGGESTED_VALUES).catch(() => {
          cache.delete(key);
          return [];
        });
        cache.set(key, values);
      }
      return values;
    },
  };
}

const sources = new Map<string, CompletionSource>();
const registered = new WeakSet<object>();

/** Completions for the model `uri` come from `source` until the returned function is called. */
export function setCompletionSource(uri: string, source: CompletionSource): () => void {
  sources.set(uri, source);
  return () => {
    if (sources.get(uri) === source) {
      sources.delete(uri);
    }
  };
}

function dialectOf(languageId: string): Dialect {
  return backendOfLanguage(languageId)?.language.dialect ?? 'logsql';
}

/** The completion items at `position` of `model`, asking the model's source for fields and values. */
export async function provideRawCompletions(
  monaco: Monaco,
  model: monacoTypes.editor.ITextModel,
  position: monacoTypes.Position
): Promise<monacoTypes.languages.CompletionList> {
  const source = sources.get(model.uri.toString());
  if (!source) {
    return { suggestions: [] };
  }
  const dialect = dialectOf(model.getLanguageId());
  const text = model.getValue();
  const situation = situationAt(text, model.getOffsetAt(position), dialect);
  if (situation.kind === 'none') {
    return { suggestions: [] };
  }
  const fields = await source.fields().catch(() => [] as FieldInfo[]);
  let values: string[] = [];
  if (situation.kind === 'value') {
    // Only the record's fields have values to ask for (not _time, not a stream label).
    if (!fields.some((f) => f.name === situation.field)) {
      return { suggestions: [] };
    }
    values = await source.values(situation.field).catch(() => []);
  }
  const kinds: Record<ItemKind, monacoTypes.languages.CompletionItemKind> = {
    field: monaco.languages.CompletionItemKind.Field,
    value: monaco.languages.CompletionItemKind.Value,
    keyword: monaco.languages.CompletionItemKind.Keyword,
    function: monaco.languages.CompletionItemKind.Function,
  };
  const suggestions = completionItems(situation, dialect, fields, values).map((item) => {
    const start = model.getPositionAt(item.from);
    const end = model.getPositionAt(item.to);
    return {
      label: item.label,
      kind: kinds[item.kind],
      detail: item.detail,
      insertText: item.insertText,
      filterText: item.filterText,
      sortText: item.sortText,
      range: new monaco.Range(start.lineNumber, start.column, end.lineNumber, end.column),
    };
  });
  return { suggestions };
}

/** Registers both languages and the completion provider with `monaco` (once per Monaco instance). */
export function registerRawLanguages(monaco: Monaco): void {
  if (registered.has(monaco)) {
    return;
  }
  registered.add(monaco);
  for (const { id, alias, tokens } of BACKENDS.map((b) => b.language)) {
    if (!monaco.languages.getLanguages().some((l) => l.id === id)) {
      monaco.languages.register({ id, aliases: [alias] });
    }
    monaco.languages.setMonarchTokensProvider(id, tokens);
    monaco.languages.setLanguageConfiguration(id, rawLanguageConfiguration);
  }
  monaco.languages.registerCompletionItemProvider(
    BACKENDS.map((b) => b.language.id),
    {
    triggerCharacters: [':', '=', '"', '{', '(', ',', '|'],
    provideCompletionItems: (model, position) => provideRawCompletions(monaco, model, position),
  });
}
