import React from 'react';
import { SelectableValue } from '@grafana/data';
import { Button, IconButton, InlineField, InlineFieldRow, Input, Select } from '@grafana/ui';

import { ALL_FIELDS, isKnownField } from '../../fields';
import { CONFIG } from '../selectors';
import { LABEL_WIDTH, SectionProps } from './options';

const FIELD_OPTIONS: Array<SelectableValue<string>> = ALL_FIELDS.map((f) => ({ label: f.name, value: f.name, description: f.type }));

/**
 * Fields parsed at ingest: canonical flow-log field -> the log field that
 * holds it. Fields not listed are looked up under their canonical name.
 */
export function FieldMappingList({ options, onEdit }: SectionProps) {
  const mapping = options.jsonData.fieldMapping ?? {};
  const entries = Object.entries(mapping);
  const set = (next: Array<[string, string]>) => onEdit({ jsonData: { fieldMapping: Object.fromEntries(next) } });
  return (
    <div>
      <InlineFieldRow>
        <InlineField label="Field mapping" labelWidth={LABEL_WIDTH} tooltip="Only fields whose log name differs">
          <span />
        </InlineField>
      </InlineFieldRow>
      {entries.map(([canonical, logField], i) => {
        const error = !isKnownField(canonical)
          ? `\`${canonical}\` is not a flow-log field`
          : logField.trim() === ''
            ? `\`${canonical}\` maps to an empty field name`
            : undefined;
        const rename = (to: string) => set(entries.map((e, j) => (j === i ? [to, e[1]] : e)));
        return (
          <InlineFieldRow key={canonical}>
            <InlineField label={`${i + 1}`} labelWidth={LABEL_WIDTH} invalid={!!error} error={error}>
              <Select
                aria-label={CONFIG.mappingField(i)}
                inputId={`flowlens-mapping-${i}`}
                width={28}
                options={FIELD_OPTIONS.filter((o) => o.value === canonical || !(o.value! in mapping))}
                value={canonical}
                onChange={(v) => v?.value && rename(v.value)}
              />
            </InlineField>
            <InlineField label="is logged as">
              <Input
                aria-label={CONFIG.mappingLogField(i)}
                width={28}
                value={logField}
                placeholder="pkt_src_addr"
                onChange={(e) => set(entries.map((en, j) => (j === i ? [en[0], e.currentTarget.value] : en)))}
              />
            </InlineField>
            <IconButton
              name="trash-alt"
              tooltip={CONFIG.removeMapping(i)}
              onClick={() => set(entries.filter((_, j) => j !== i))}
            />
          </InlineFieldRow>
        );
      })}
      <Button
        variant="secondary"
        size="sm"
        icon="plus"
        disabled={entries.length >= ALL_FIELDS.length}
        onClick={() => {
          const free = ALL_FIELDS.find((f) => !(f.name in mapping));
          if (free) {
            set([...entries, [free.name, '']]);
          }
        }}
      >
        {CONFIG.addMapping}
      </Button>
    </div>
  );
}
