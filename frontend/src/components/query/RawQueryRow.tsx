import React, { useMemo, useRef, useState } from 'react';
import { TimeRange } from '@grafana/data';
import { CodeEditor, InlineField, Monaco, MonacoEditor } from '@grafana/ui';

import type { DataSource } from '../../datasource';
import { backendUi } from '../../backends';
import { BackendKind } from '../../types';
import { QUERY } from '../selectors';
import { datasourceCompletions, registerRawLanguages, setCompletionSource } from './rawMonaco';

interface Props {
  rawQuery: string;
  backend: BackendKind | undefined;
  datasource: Pick<DataSource, 'fields' | 'fieldValues'>;
  /** The panel's range: the values suggested are those of this range. */
  range: TimeRange;
  onChange: (rawQuery: string) => void;
  onBlur: () => void;
}

const LINE_HEIGHT = 19;
const MIN_HEIGHT = 4 * LINE_HEIGHT + 8;
const MAX_HEIGHT = 24 * LINE_HEIGHT + 8;

/**
 * Hand-written LogsQL or LogQL in a code editor (Monaco, through
 * @grafana/ui's CodeEditor) with highlighting and completion of field names
 * and values; the plugin applies the time range and step. The text is
 * emitted when the editor loses focus, and the query then runs (Shift+Enter
 * does both without leaving the editor).
 */
export function RawQueryRow({ rawQuery, backend, datasource, range, onChange, onBlur }: Props) {
  const ui = backendUi(backend);
  const latest = useRef({ datasource, range, onChange, onBlur });
  latest.current = { datasource, range, onChange, onBlur };
  const [height, setHeight] = useState(MIN_HEIGHT);
  const unregister = useRef<() => void>();
  const editorModel = useRef<ReturnType<MonacoEditor['getModel']>>(null);

  const source = useMemo(() => datasourceCompletions(() => latest.current), []);

  const commit = (text: string) => {
    latest.current.onChange(text);
    latest.current.onBlur();
  };

  const didMount = (editor: MonacoEditor, monaco: Monaco) => {
    const model = editor.getModel();
    if (model) {
      unregister.current = setCompletionSource(model.uri.toString(), source);
    }
    // As tall as the text, within bounds.
    const fit = (contentHeight: number) => setHeight(Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, contentHeight)));
    fit(editor.getContentHeight());
    editor.onDidContentSizeChange((e) => fit(e.contentHeight));
    editor.addAction({
      id: 'flowlens.runQuery',
      label: 'Run query',
      keybindings: [monaco.KeyMod.Shift | monaco.KeyCode.Enter],
      run: () => commit(editor.getValue()),
    });
    // The editor's model outlives it (CodeEditor keeps it): disposed of when the editor goes.
    editorModel.current = model;
  };

  return (
    <InlineField
      label={QUERY.rawQuery}
      labelWidth={12}
      grow
      tooltip={`${ui.language.name}, e.g. ${ui.rawExample}; the time range and step come from the panel. Ctrl+Space completes field names, and values after ${ui.valueStart}; Shift+Enter runs the query.`}
    >
      <div data-testid={QUERY.rawQueryEditor} style={{ width: '100%' }}>
        <CodeEditor
          value={rawQuery}
          language={ui.language.id}
          height={height}
          showLineNumbers={false}
          showMiniMap={false}
          wordWrap
          onBeforeEditorMount={registerRawLanguages}
          onEditorDidMount={didMount}
          onEditorWillUnmount={() => {
            unregister.current?.();
            const model = editorModel.current;
            editorModel.current = null;
            // After the editor itself is gone.
            setTimeout(() => model && !model.isDisposed() && model.dispose(), 0);
          }}
          onBlur={commit}
          monacoOptions={{
            ariaLabel: QUERY.rawQuery,
            wordBasedSuggestions: false,
            scrollBeyondLastLine: false,
            renderLineHighlight: 'none',
            overviewRulerLanes: 0,
            hideCursorInOverviewRuler: true,
            folding: false,
            suggest: { showWords: false },
            quickSuggestions: { other: true, strings: true, comments: false },
          }}
        />
      </div>
    </InlineField>
  );
}
