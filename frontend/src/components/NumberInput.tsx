import React, { useEffect, useState } from 'react';
import { Input } from '@grafana/ui';

type InputProps = React.ComponentProps<typeof Input>;

interface Props extends Omit<InputProps, 'value' | 'onChange' | 'type'> {
  value: number | undefined;
  /** undefined for an empty box, NaN for text that is not a number (for validation to name). */
  onChange: (value: number | undefined) => void;
}

function parse(text: string): number | undefined {
  return text.trim() === '' ? undefined : Number(text.trim());
}

/**
 * A number box that keeps the text as typed ("0.", "1e") while the number it
 * stands for goes to the settings, so typing 0.045 is not rewritten to 45.
 */
export function NumberInput({ value, onChange, ...rest }: Props) {
  const [text, setText] = useState(value === undefined ? '' : String(value));
  useEffect(() => {
    const typed = parse(text);
    if (typed !== value && !(Number.isNaN(typed) && Number.isNaN(value))) {
      setText(value === undefined ? '' : String(value));
    }
    // Only an outside change of the value rewrites the text.
  }, [value]);
  return (
    <Input
      {...rest}
      type="text"
      inputMode="decimal"
      value={text}
      onChange={(e) => {
        setText(e.currentTarget.value);
        onChange(parse(e.currentTarget.value));
      }}
    />
  );
}
