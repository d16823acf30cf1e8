// Monaco's own Monarch compiler and lexer (monaco-editor's ESM sources, no
// typings of their own), which src/test/monarch.ts runs the raw query
// languages through in tests.
declare module 'monaco-editor/esm/vs/editor/standalone/common/monarch/monarchCompile.js' {
  export function compile(languageId: string, json: unknown): unknown;
}

declare module 'monaco-editor/esm/vs/editor/standalone/common/monarch/monarchLexer.js' {
  interface LineState {
    clone(): LineState;
  }
  export class MonarchTokenizer {
    constructor(languageService: unknown, themeService: unknown, languageId: string, lexer: unknown, configurationService: unknown);
    getInitialState(): LineState;
    tokenize(
      line: string,
      hasEOL: boolean,
      state: LineState
    ): { tokens: Array<{ offset: number; type: string }>; endState: LineState };
    dispose(): void;
  }
}
