// A stand-in for @grafana/ui's CodeEditor in jsdom, where Monaco cannot run:
// a textarea labelled like the editor (monacoOptions.ariaLabel) that shows
// `value`, and calls onBlur with its text as CodeEditor does. The language is
// on `data-language`. Use it with
//   vi.mock('@grafana/ui', async (original) => ({ ...(await original()), CodeEditor: FakeCodeEditor }))
import React, { useEffect, useState } from 'react';
import type { CodeEditor } from '@grafana/ui';

type Props = React.ComponentProps<typeof CodeEditor>;

export function FakeCodeEditor({ value, language, onBlur, onChange, monacoOptions }: Props) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  return (
    <textarea
      aria-label={monacoOptions?.ariaLabel}
      data-language={language}
      value={text}
      onChange={(e) => {
        setText(e.currentTarget.value);
        onChange?.(e.currentTarget.value);
      }}
      onBlur={(e) => onBlur?.(e.currentTarget.value)}
    />
  );
}
