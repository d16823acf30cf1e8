import React, { useState } from 'react';
import { SelectableValue } from '@grafana/data';
import { FieldSet, InlineField, Input, RadioButtonGroup, Select, TextArea } from '@grafana/ui';

import { FORMAT_PRESETS, FormatPreset, presetOf } from '../../fields';
import { backendUi } from '../../backends';
import { RecordMode, SETTINGS_DEFAULTS } from '../../types';
import { validateRecordFormat, validateStreamSelector } from '../../validation';
import { CONFIG } from '../selectors';
import { FieldMappingList } from './FieldMappingList';
import { LABEL_WIDTH, SectionProps } from './options';

const MODES: Array<SelectableValue<RecordMode>> = [
  { label: 'Raw text', value: 'raw', description: 'one record per log line, parsed at query time' },
  { label: 'Fields parsed at ingest', value: 'fields', description: 'e.g. by Vector; much faster over long ranges' },
];

const PRESETS: Array<SelectableValue<FormatPreset['id']>> = FORMAT_PRESETS.map((p) => ({
  label: p.label,
  value: p.id,
  description: p.description,
}));

/** Which streams hold the records and how a record's fields are found. */
export function RecordSection({ options, onEdit }: SectionProps) {
  const jd = options.jsonData;
  const FieldsModeFields = backendUi(jd.backend).FieldsModeFields;
  const mode = jd.recordMode ?? SETTINGS_DEFAULTS.recordMode;
  const selectorError = validateStreamSelector(jd.streamSelector ?? '');
  const format = jd.recordFormat ?? '';
  const formatError = format.trim() === '' ? undefined : validateRecordFormat(format);
  // "Custom" stays chosen while the text still equals a preset, so it can be edited from there.
  const [custom, setCustom] = useState(false);
  const preset = custom ? 'custom' : presetOf(format);
  return (
    <FieldSet label="Flow records">
      <InlineField
        label={CONFIG.streamSelector}
        labelWidth={LABEL_WIDTH}
        invalid={!!selectorError}
        error={selectorError}
        tooltip="Which log streams hold flow records; empty = all streams"
      >
        <Input
          aria-label={CONFIG.streamSelector}
          width={50}
          placeholder='{logtype="flow", environment="ops"}'
          value={jd.streamSelector ?? ''}
          onChange={(e) => onEdit({ jsonData: { streamSelector: e.currentTarget.value } })}
        />
      </InlineField>
      <InlineField label={CONFIG.recordMode} labelWidth={LABEL_WIDTH}>
        <RadioButtonGroup
          aria-label={CONFIG.recordMode}
          options={MODES}
          value={mode}
          onChange={(m) => onEdit({ jsonData: { recordMode: m } })}
        />
      </InlineField>
      {mode === 'raw' ? (
        <>
          <InlineField label={CONFIG.formatPreset} labelWidth={LABEL_WIDTH}>
            <Select
              aria-label={CONFIG.formatPreset}
              inputId="flowlens-format-preset"
              width={50}
              options={PRESETS}
              value={preset}
              onChange={(v) => {
                const p = FORMAT_PRESETS.find((x) => x.id === v?.value);
                // Custom keeps the current text as the starting point.
                setCustom(p?.id === 'custom');
                if (p?.format) {
                  onEdit({ jsonData: { recordFormat: p.format } });
                }
              }}
            />
          </InlineField>
          <InlineField
            label={CONFIG.recordFormat}
            labelWidth={LABEL_WIDTH}
            invalid={!!formatError}
            error={formatError}
            tooltip="The flow log's format string: ${field} tokens separated by single spaces; empty = AWS default"
            grow
          >
            <TextArea
              aria-label={CONFIG.recordFormat}
              rows={3}
              value={format}
              placeholder="${version} ${account-id} ${interface-id} ${srcaddr} ..."
              onChange={(e) => onEdit({ jsonData: { recordFormat: e.currentTarget.value } })}
            />
          </InlineField>
        </>
      ) : (
        <>
          {FieldsModeFields && <FieldsModeFields options={options} onEdit={onEdit} />}
          <FieldMappingList options={options} onEdit={onEdit} />
        </>
      )}
    </FieldSet>
  );
}
