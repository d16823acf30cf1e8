import React, { useState } from 'react';
import { SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, RadioButtonGroup } from '@grafana/ui';

import { QUERY } from '../selectors';

type Choice = 'default' | 'off' | 'custom';

interface Props {
  /** null = the datasource default, "" = no interface filter, else an interface id or several. */
  interfaceId: string | string[] | null;
  datasourceDefault?: string;
  onChange: (interfaceId: string | string[] | null, run: boolean) => void;
  onBlur: () => void;
}

/** The text box's text: several interfaces separated by commas. */
function toText(interfaceId: string | string[] | null): string {
  return Array.isArray(interfaceId) ? interfaceId.join(', ') : (interfaceId ?? '');
}

/** Text with commas is several interfaces (interface ids have none); an empty entry is kept while typing. */
function fromText(text: string): string | string[] {
  return text.includes(',') ? text.split(',').map((s) => s.trim()) : text;
}

/** Which interface (the NAT gateway ENI) the records are narrowed to. */
export function InterfaceRow({ interfaceId, datasourceDefault, onChange, onBlur }: Props) {
  // Custom stays chosen while its text is being replaced (an empty text would otherwise read as Off).
  const [customChosen, setCustomChosen] = useState(false);
  const choice: Choice =
    interfaceId === null ? 'default' : customChosen || toText(interfaceId) !== '' ? 'custom' : 'off';
  const options: Array<SelectableValue<Choice>> = [
    { label: datasourceDefault ? `Default (${datasourceDefault})` : 'Default (none)', value: 'default' },
    { label: 'Off', value: 'off', description: 'no interface filter' },
    { label: 'Custom', value: 'custom' },
  ];
  return (
    <InlineFieldRow>
      <InlineField label={QUERY.interfaceId} labelWidth={12} tooltip="Interface-id filter; the datasource sets the default">
        <RadioButtonGroup
          aria-label={QUERY.interfaceId}
          options={options}
          value={choice}
          onChange={(c) => {
            setCustomChosen(c === 'custom');
            if (c === 'default') {
              onChange(null, true);
            } else if (c === 'off') {
              onChange('', true);
            } else {
              onChange(datasourceDefault || 'eni-', false);
            }
          }}
        />
      </InlineField>
      {choice === 'custom' && (
        <InlineField>
          <Input
            aria-label={`${QUERY.interfaceId} id`}
            width={28}
            value={toText(interfaceId)}
            placeholder="eni-0352f8c82da6aa229"
            onChange={(e) => onChange(fromText(e.currentTarget.value), false)}
            onBlur={onBlur}
          />
        </InlineField>
      )}
    </InlineFieldRow>
  );
}
