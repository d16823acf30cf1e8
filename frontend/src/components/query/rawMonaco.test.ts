import { dateTime, TimeRange } from '@grafana/data';
import type { Monaco, monacoTypes } from '@grafana/ui';

import { FieldInfo } from '../../types';
import { LOGQL_LANGUAGE, LOGSQL_LANGUAGE, logqlLanguage, logsqlLanguage } from './rawLanguages';
import {
  CompletionSource,
  datasourceCompletions,
  provideRawCompletions,
  registerRawLanguages,
  setCompletionSource,
  SUGGESTED_VALUES,
} from './rawMonaco';

const FIELDS: FieldInfo[] = [
  { name: 'pkt_dstaddr', type: 'ip' },
  { name: 'action', type: 'string' },
];

/** The parts of Monaco the registration and the provider use. */
function fakeMonaco() {
  const registered: Array<{ id: string }> = [];
  class Range {
    constructor(
      readonly startLineNumber: number,
      readonly startColumn: number,
      readonly endLineNumber: number,
      readonly endColumn: number
    ) {}
  }
  const monaco = {
    Range,
    languages: {
      CompletionItemKind: { Field: 3, Value: 13, Keyword: 17, Function: 1 },
      getLanguages: vi.fn(() => registered),
      register: vi.fn((l: { id: string }) => registered.push(l)),
      setMonarchTokensProvider: vi.fn(),
      setLanguageConfiguration: vi.fn(),
      registerCompletionItemProvider: vi.fn(),
    },
  };
  return monaco as typeof monaco & Monaco;
}

/** A one-model text with offsets as Monaco positions (lines and columns from 1). */
function fakeModel(text: string, language: string, uri: string) {
  const positionAt = (offset: number) => {
    const before = text.slice(0, offset).split('\n');
    return { lineNumber: before.length, column: before[before.length - 1].length + 1 };
  };
  return {
    uri: { toString: () => uri },
    getValue: () => text,
    getLanguageId: () => language,
    getPositionAt: positionAt,
    getOffsetAt: (p: { lineNumber: number; column: number }) =>
      text.split('\n').slice(0, p.lineNumber - 1).reduce((n, l) => n + l.length + 1, 0) + p.column - 1,
  } as unknown as monacoTypes.editor.ITextModel;
}

const end = (model: monacoTypes.editor.ITextModel) => model.getPositionAt(model.getValue().length) as monacoTypes.Position;

describe('registerRawLanguages', () => {
  it('registers both languages, their tokenizers and one completion provider, once', () => {
    const monaco = fakeMonaco();
    registerRawLanguages(monaco);
    registerRawLanguages(monaco);
    expect(monaco.languages.register.mock.calls.map(([l]) => l.id)).toEqual([LOGSQL_LANGUAGE, LOGQL_LANGUAGE]);
    expect(monaco.languages.setMonarchTokensProvider.mock.calls).toEqual([
      [LOGSQL_LANGUAGE, logsqlLanguage],
      [LOGQL_LANGUAGE, logqlLanguage],
    ]);
    expect(monaco.languages.setLanguageConfiguration).toHaveBeenCalledTimes(2);
    expect(monaco.languages.registerCompletionItemProvider).toHaveBeenCalledTimes(1);
    const [selector, provider] = monaco.languages.registerCompletionItemProvider.mock.calls[0];
    expect(selector).toEqual([LOGSQL_LANGUAGE, LOGQL_LANGUAGE]);
    expect(provider.triggerCharacters).toEqual(expect.arrayContaining([':', '=', '"']));
  });

  it('does not register a language Monaco already has again', () => {
    const monaco = fakeMonaco();
    monaco.languages.getLanguages.mockReturnValue([{ id: LOGSQL_LANGUAGE }, { id: LOGQL_LANGUAGE }]);
    registerRawLanguages(monaco);
    expect(monaco.languages.register).not.toHaveBeenCalled();
    expect(monaco.languages.setMonarchTokensProvider).toHaveBeenCalledTimes(2);
  });
});

describe('provideRawCompletions', () => {
  const source = (values: Record<string, string[]> = {}): CompletionSource & { values: ReturnType<typeof vi.fn> } => ({
    fields: async () => FIELDS,
    values: vi.fn(async (field: string) => values[field] ?? []),
  });

  it('suggests nothing for a model without a source', async () => {
    const model = fakeModel('pkt', LOGSQL_LANGUAGE, 'inmemory://none');
    expect(await provideRawCompletions(fakeMonaco(), model, end(model))).toEqual({ suggestions: [] });
  });

  it("suggests a field's values from the model's source, quoted, replacing what was typed", async () => {
    const s = source({ pkt_dstaddr: ['10.0.32.7', '10.0.33.9'] });
    const done = setCompletionSource('inmemory://1', s);
    const model = fakeModel('x\npkt_dstaddr:"10.', LOGSQL_LANGUAGE, 'inmemory://1');
    const { suggestions } = await provideRawCompletions(fakeMonaco(), model, end(model));
    expect(s.values).toHaveBeenCalledWith('pkt_dstaddr');
    expect(suggestions.map((i) => [i.label, i.insertText, i.filterText, i.kind])).toEqual([
      ['10.0.32.7', '"10.0.32.7"', '"10.0.32.7', 13],
      ['10.0.33.9', '"10.0.33.9"', '"10.0.33.9', 13],
    ]);
    expect(suggestions[0].range).toEqual({ startLineNumber: 2, startColumn: 13, endLineNumber: 2, endColumn: 17 });
    done();
    expect((await provideRawCompletions(fakeMonaco(), model, end(model))).suggestions).toEqual([]);
  });

  it('suggests field names in LogQL, and asks no values for a field the records lack', async () => {
    const s = source();
    const done = setCompletionSource('inmemory://2', s);
    const fields = fakeModel('{pkt', LOGQL_LANGUAGE, 'inmemory://2');
    const { suggestions } = await provideRawCompletions(fakeMonaco(), fields, end(fields));
    expect(suggestions.map((i) => [i.label, i.kind, i.detail])).toEqual([
      ['pkt_dstaddr', 3, 'ip'],
      ['action', 3, 'string'],
    ]);
    const unknown = fakeModel('{logtype="', LOGQL_LANGUAGE, 'inmemory://2');
    expect((await provideRawCompletions(fakeMonaco(), unknown, end(unknown))).suggestions).toEqual([]);
    expect(s.values).not.toHaveBeenCalled();
    done();
  });

  it('suggests no values when they cannot be had', async () => {
    const done = setCompletionSource('inmemory://3', {
      fields: async () => FIELDS,
      values: async () => {
        throw new Error('down');
      },
    });
    const model = fakeModel('action:', LOGSQL_LANGUAGE, 'inmemory://3');
    expect((await provideRawCompletions(fakeMonaco(), model, end(model))).suggestions).toEqual([]);
    done();
  });

  it('keeps the newer source of a model when an older one is removed', async () => {
    const older = setCompletionSource('inmemory://4', source());
    setCompletionSource('inmemory://4', source({ action: ['ACCEPT'] }));
    older();
    const model = fakeModel('action:', LOGSQL_LANGUAGE, 'inmemory://4');
    expect((await provideRawCompletions(fakeMonaco(), model, end(model))).suggestions.map((i) => i.label)).toEqual(['ACCEPT']);
  });
});

describe('datasourceCompletions', () => {
  const hour: TimeRange = { from: dateTime(1_700_000_000_000), to: dateTime(1_700_003_600_000), raw: { from: 'now-1h', to: 'now' } };
  const day: TimeRange = { from: dateTime(1_700_000_000_000), to: dateTime(1_700_086_400_000), raw: { from: 'now-1d', to: 'now' } };

  it("asks the datasource for the fields and a field's values over the current range, once per field and range", async () => {
    const ds = { fields: vi.fn(async () => FIELDS), fieldValues: vi.fn(async () => ['10.0.32.7']) };
    let range = hour;
    const source = datasourceCompletions(() => ({ datasource: ds, range }));
    expect(await source.fields()).toEqual(FIELDS);
    expect(await source.values('pkt_dstaddr')).toEqual(['10.0.32.7']);
    expect(await source.values('pkt_dstaddr')).toEqual(['10.0.32.7']);
    expect(ds.fieldValues).toHaveBeenCalledTimes(1);
    expect(ds.fieldValues).toHaveBeenCalledWith('pkt_dstaddr', hour, undefined, SUGGESTED_VALUES);
    range = day;
    await source.values('pkt_dstaddr');
    expect(ds.fieldValues).toHaveBeenCalledTimes(2);
    expect(ds.fieldValues).toHaveBeenLastCalledWith('pkt_dstaddr', day, undefined, SUGGESTED_VALUES);
  });

  it('answers no values when the call fails, and asks again next time', async () => {
    const ds = {
      fields: vi.fn(async () => FIELDS),
      fieldValues: vi.fn().mockRejectedValueOnce(new Error('down')).mockResolvedValue(['ACCEPT']),
    };
    const source = datasourceCompletions(() => ({ datasource: ds, range: hour }));
    expect(await source.values('action')).toEqual([]);
    expect(await source.values('action')).toEqual(['ACCEPT']);
    expect(ds.fieldValues).toHaveBeenCalledTimes(2);
  });
});
