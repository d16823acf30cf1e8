import React, { useEffect, useMemo, useState } from 'react';
import { DataSourceApi, QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, RadioButtonGroup, Select } from '@grafana/ui';

import { migrateVariableQuery } from '../migrate';
import { DEFAULT_VARIABLE_LIMIT, Direction, FlowDataSourceOptions, FlowFilter, FlowQuery, FlowVariableQuery } from '../types';
import { FiltersSection } from './query/FiltersSection';
import { FieldSource, useFields } from './query/useFields';
import { VARIABLE } from './selectors';

/** The datasource as this editor uses it (not its class: that would import the editor back). */
type FlowDataSourceApi = DataSourceApi<FlowQuery, FlowDataSourceOptions> & FieldSource;

type Props = QueryEditorProps<FlowDataSourceApi, FlowQuery, FlowDataSourceOptions, FlowVariableQuery>;

const DIRECTION_OPTIONS: Array<SelectableValue<Direction>> = [
  { label: 'In', value: 'in' },
  { label: 'Out', value: 'out' },
  { label: 'Any', value: 'any' },
  { label: 'All', value: 'all', description: 'no direction filter' },
];

/** A variable's values: the top values of one field (most bytes first), e.g. the busiest pod addresses. */
export function VariableQueryEditor({ datasource, query: saved, onChange }: Props) {
  const query = useMemo(() => migrateVariableQuery(saved), [saved]);
  const fields = useFields(datasource);
  const options: Array<SelectableValue<string>> = fields.map((f) => ({ label: f.name, value: f.name, description: f.type }));
  if (query.field && !fields.some((f) => f.name === query.field)) {
    options.push({ label: query.field, value: query.field, description: 'not a field of the records' });
  }
  const change = (patch: Partial<FlowVariableQuery>) => onChange({ ...query, ...patch });
  // Filter values are committed on blur, so typing does not run a variable query per key.
  const [draft, setDraft] = useState<FlowFilter[]>(query.filters ?? []);
  useEffect(() => setDraft(query.filters ?? []), [query.filters]);

  return (
    <div>
      <InlineFieldRow>
        <InlineField label={VARIABLE.field} labelWidth={12} tooltip="The values of this field, most bytes first">
          <Select
            aria-label={VARIABLE.field}
            inputId="flowlens-variable-field"
            width={28}
            options={options}
            value={query.field || null}
            placeholder="pkt_dstaddr"
            onChange={(v) => change({ field: v?.value ?? '' })}
          />
        </InlineField>
        <InlineField label={VARIABLE.direction}>
          <RadioButtonGroup
            aria-label={VARIABLE.direction}
            options={DIRECTION_OPTIONS}
            value={query.direction ?? 'all'}
            onChange={(direction) => change({ direction })}
          />
        </InlineField>
        <InlineField label={VARIABLE.limit} tooltip="At most this many values">
          <Input
            aria-label={VARIABLE.limit}
            type="number"
            min={1}
            width={10}
            defaultValue={String(query.limit ?? DEFAULT_VARIABLE_LIMIT)}
            onBlur={(e) => {
              const n = Number(e.currentTarget.value);
              change({ limit: Number.isInteger(n) && n > 0 ? n : DEFAULT_VARIABLE_LIMIT });
            }}
          />
        </InlineField>
      </InlineFieldRow>
      <FiltersSection
        filters={draft}
        fields={fields}
        onChange={(filters, run) => (run ? change({ filters }) : setDraft(filters))}
        onBlur={() => change({ filters: draft })}
      />
    </div>
  );
}
