import React from 'react';
import { InlineField, TextArea } from '@grafana/ui';

import { BackendKind } from '../../types';
import { QUERY } from '../selectors';

interface Props {
  rawQuery: string;
  backend: BackendKind;
  onChange: (rawQuery: string) => void;
  onBlur: () => void;
}

const PLACEHOLDER: Record<BackendKind, string> = {
  victorialogs: '{logtype="flow"} ACCEPT | stats count() records',
  loki: '{logtype="flow"} |= "ACCEPT"',
};

/** Hand-written LogsQL or LogQL; the plugin applies the time range and step. */
export function RawQueryRow({ rawQuery, backend, onChange, onBlur }: Props) {
  return (
    <InlineField
      label={QUERY.rawQuery}
      labelWidth={12}
      grow
      tooltip={`${backend === 'loki' ? 'LogQL' : 'LogsQL'}; the time range and step come from the panel`}
    >
      <TextArea
        aria-label={QUERY.rawQuery}
        rows={4}
        value={rawQuery}
        placeholder={PLACEHOLDER[backend]}
        onChange={(e) => onChange(e.currentTarget.value)}
        onBlur={onBlur}
      />
    </InlineField>
  );
}
