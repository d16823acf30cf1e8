import React from 'react';
import { SelectableValue } from '@grafana/data';
import { IconButton, InlineField, InlineFieldRow, Input, Select } from '@grafana/ui';

import { FieldInfo, FilterOp, FlowFilter } from '../../types';
import { QUERY } from '../selectors';

const OP_OPTIONS: Array<SelectableValue<FilterOp>> = [
  { label: '=', value: '=', description: 'equals' },
  { label: '!=', value: '!=', description: 'does not equal' },
  { label: '=~', value: '=~', description: 'matches regex (whole value)' },
  { label: '!~', value: '!~', description: 'does not match regex' },
  { label: 'cidr', value: 'cidr', description: 'address in network' },
  { label: '!cidr', value: '!cidr', description: 'address not in network' },
  { label: 'range', value: 'range', description: 'number in inclusive range' },
];

const PLACEHOLDERS: Record<FilterOp, string> = {
  '=': 'ACCEPT',
  '!=': 'REJECT',
  '=~': '10\\.0\\.32\\..* or ${kubernetes_pod_ip}',
  '!~': '10\\.0\\.32\\..*',
  cidr: '10.0.32.0/20',
  '!cidr': '10.0.32.0/20',
  range: '1024-65535',
};

interface Props {
  index: number;
  filter: FlowFilter;
  fields: FieldInfo[];
  error?: string;
  onChange: (filter: FlowFilter) => void;
  onRemove: () => void;
  onBlur: () => void;
}

/** One filter: field, operator, value (variables allowed in the value). */
export function FilterRow({ index, filter, fields, error, onChange, onRemove, onBlur }: Props) {
  const fieldOptions: Array<SelectableValue<string>> = fields.map((f) => ({ label: f.name, value: f.name, description: f.type }));
  if (filter.field && !fields.some((f) => f.name === filter.field)) {
    fieldOptions.push({ label: filter.field, value: filter.field, description: 'not a field of the records' });
  }
  return (
    <InlineFieldRow>
      <InlineField label={index === 0 ? 'Filter' : 'and'} labelWidth={12} invalid={!!error} error={error}>
        <Select
          aria-label={QUERY.filterField(index)}
          inputId={`flowlens-filter-${index}-field`}
          width={24}
          options={fieldOptions}
          value={filter.field || null}
          placeholder="field"
          onChange={(v) => onChange({ ...filter, field: v?.value ?? '' })}
        />
      </InlineField>
      <InlineField>
        <Select
          aria-label={QUERY.filterOp(index)}
          inputId={`flowlens-filter-${index}-op`}
          width={12}
          options={OP_OPTIONS}
          value={filter.op}
          onChange={(v) => onChange({ ...filter, op: v?.value ?? '=' })}
        />
      </InlineField>
      <InlineField grow invalid={!!error}>
        <Input
          aria-label={QUERY.filterValue(index)}
          value={filter.value}
          placeholder={Object.prototype.hasOwnProperty.call(PLACEHOLDERS, filter.op) ? PLACEHOLDERS[filter.op] : ''}
          onChange={(e) => onChange({ ...filter, value: e.currentTarget.value })}
          onBlur={onBlur}
        />
      </InlineField>
      <IconButton name="times" tooltip={QUERY.removeFilter(index)} onClick={onRemove} />
    </InlineFieldRow>
  );
}
