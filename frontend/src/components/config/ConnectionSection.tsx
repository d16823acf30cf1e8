import React from 'react';
import { SelectableValue } from '@grafana/data';
import { FieldSet, InlineField, Input, RadioButtonGroup } from '@grafana/ui';

import { BACKENDS, backendUi } from '../../backends';
import { BackendKind, SETTINGS_DEFAULTS } from '../../types';
import { validateTimeout, validateUrl } from '../../validation';
import { NumberInput } from '../NumberInput';
import { CONFIG } from '../selectors';
import { LABEL_WIDTH, SectionProps } from './options';

const PICKER: Array<SelectableValue<BackendKind>> = BACKENDS.map((b) => ({
  label: b.label,
  value: b.kind,
  description: b.description,
}));

/** Where the log database is and how long one request may take. */
export function ConnectionSection({ options, onEdit }: SectionProps) {
  const backend = backendUi(options.jsonData.backend);
  const Extra = backend.ConnectionFields;
  const urlError = options.url ? validateUrl(options.url) : undefined;
  const timeout = options.jsonData.timeoutSeconds;
  const timeoutError = validateTimeout(timeout);
  return (
    <FieldSet label="Connection">
      <InlineField label={CONFIG.backend} labelWidth={LABEL_WIDTH}>
        <RadioButtonGroup
          aria-label={CONFIG.backend}
          options={PICKER}
          value={backend.kind}
          onChange={(v) => onEdit({ jsonData: { backend: v } })}
        />
      </InlineField>
      <InlineField
        label={CONFIG.url}
        labelWidth={LABEL_WIDTH}
        invalid={!!urlError}
        error={urlError}
        required
        tooltip="Base URL of the backend's HTTP API"
      >
        <Input
          aria-label={CONFIG.url}
          width={40}
          value={options.url ?? ''}
          placeholder={backend.urlPlaceholder}
          onChange={(e) => onEdit({ top: { url: e.currentTarget.value.trim() } })}
        />
      </InlineField>
      <InlineField
        label={CONFIG.timeout}
        labelWidth={LABEL_WIDTH}
        invalid={!!timeoutError}
        error={timeoutError}
        tooltip="Seconds one backend request may take"
      >
        <NumberInput
          aria-label={CONFIG.timeout}
          width={12}
          suffix="s"
          value={timeout}
          placeholder={String(SETTINGS_DEFAULTS.timeoutSeconds)}
          onChange={(timeoutSeconds) => onEdit({ jsonData: { timeoutSeconds } })}
        />
      </InlineField>
      {Extra && <Extra options={options} onEdit={onEdit} />}
    </FieldSet>
  );
}
