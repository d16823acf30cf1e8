// Tokenizes text with a Monarch language definition through Monaco's own
// Monarch compiler and lexer (no editor, no DOM needed), for tests of the raw
// query languages.
import type { monacoTypes } from '@grafana/ui';
import { compile } from 'monaco-editor/esm/vs/editor/standalone/common/monarch/monarchCompile.js';
import { MonarchTokenizer } from 'monaco-editor/esm/vs/editor/standalone/common/monarch/monarchLexer.js';

/** The tokens of `text` as [text, token type] pairs (the language's postfix and whitespace dropped). */
export function tokenize(language: monacoTypes.languages.IMonarchLanguage, text: string): Array<[string, string]> {
  const configuration = { getValue: () => 20_000, onDidChangeConfiguration: () => ({ dispose() {} }) };
  const tokenizer = new MonarchTokenizer({}, {}, 'test', compile('test', language), configuration);
  const postfix = language.tokenPostfix ?? '';
  const out: Array<[string, string]> = [];
  let state = tokenizer.getInitialState();
  const lines = text.split('\n');
  lines.forEach((line, n) => {
    const r = tokenizer.tokenize(line, n < lines.length - 1, state);
    r.tokens.forEach((t, i) => {
      const end = i + 1 < r.tokens.length ? r.tokens[i + 1].offset : line.length;
      const type = postfix && t.type.endsWith(postfix) ? t.type.slice(0, -postfix.length) : t.type;
      if (type !== 'white') {
        out.push([line.slice(t.offset, end), type]);
      }
    });
    state = r.endState;
  });
  tokenizer.dispose();
  return out;
}
