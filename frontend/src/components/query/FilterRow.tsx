import React from 'react';
import { SelectableValue } from '@grafana/data';
import { IconButton, InlineField, InlineFieldRow, Input, Select } from '@grafana/ui';

import { FieldInfo, FilterOp, FlowFilter, SET_OPS } from '../../types';
import { QUERY } from '../selectors';

const OP_OPTIONS: Array<SelectableValue<FilterOp>> = [
  { label: '=', value: '=', description: 'equals' },
  { label: '!=', value: '!=', description: 'does not equal' },
  { label: '=~', value: '=~', description: 'matches regex (whole value)' },
  { label: '!~', value: '!~', description: 'does not match regex' },
  { label: 'cidr', value: 'cidr', description: 'address in network' },
  { label: '!cidr', value: '!cidr', description: 'address not in network' },
  { label: 'range', value: 'range', description: 'number in inclusive range' },
  { label: '<', value: '<', description: 'number less than' },
  { label: '<=', value: '<=', description: 'number at most' },
  { label: '>', value: '>', description: 'number greater than' },
  { label: '>=', value: '>=', description: 'number at least' },
];

/** Set ops come from saved JSON or variables, not from this menu; shown when a filter has one. */
const SET_OP_OPTIONS: Array<SelectableValue<FilterOp>> = [
  { label: '=|', value: '=|', description: 'one of (values separated by commas)' },
  { label: '!=|', value: '!=|', description: 'none of (values separated by commas)' },
];

const PLACEHOLDERS: Record<FilterOp, string> = {
  '=': 'ACCEPT',
  '!=': 'REJECT',
  '=~': '10\\.0\\.32\\..* or ${kubernetes_pod_ip}',
  '!~': '10\\.0\\.32\\..*',
  '=|': 'ACCEPT, REJECT',
  '!=|': 'ACCEPT, REJECT',
  cidr: '10.0.32.0/20',
  '!cidr': '10.0.32.0/20',
  range: '1024-65535',
  '<': '1024',
  '<=': '1023',
  '>': '1023',
  '>=': '1024',
};

/** The value as the text box shows it: a list as `a, b`. */
function valueText(value: FlowFilter['value']): string {
  return Array.isArray(value) ? value.join(', ') : typeof value === 'string' ? value : String(value ?? '');
}

/**
 * Text box text as a value: a list for set ops (split at commas, an empty
 * entry kept while the next one is typed; validation names it), else the text.
 */
function toValue(op: FilterOp, text: string): FlowFilter['value'] {
  return SET_OPS.includes(op) ? (text.trim() === '' ? [] : text.split(',').map((v) => v.trim())) : text;
}

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
          options={OP_OPTIONS.some((o) => o.value === filter.op) ? OP_OPTIONS : [...OP_OPTIONS, ...SET_OP_OPTIONS]}
          value={filter.op}
          onChange={(v) => {
            const op = v?.value ?? '=';
            onChange({ ...filter, op, value: toValue(op, valueText(filter.value)) });
          }}
        />
      </InlineField>
      <InlineField grow invalid={!!error}>
        <Input
          aria-label={QUERY.filterValue(index)}
          value={valueText(filter.value)}
          placeholder={Object.prototype.hasOwnProperty.call(PLACEHOLDERS, filter.op) ? PLACEHOLDERS[filter.op] : ''}
          onChange={(e) => onChange({ ...filter, value: toValue(filter.op, e.currentTarget.value) })}
          onBlur={onBlur}
        />
      </InlineField>
      <IconButton name="times" tooltip={QUERY.removeFilter(index)} onClick={onRemove} />
    </InlineFieldRow>
  );
}
