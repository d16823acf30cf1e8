import React from 'react';
import { SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, InlineSwitch, MultiSelect } from '@grafana/ui';

import { FieldInfo, Format, Metric } from '../../types';
import { NumberInput } from '../NumberInput';
import { QUERY } from '../selectors';

interface Props {
  format: Format;
  metric: Metric;
  fields: FieldInfo[];
  groupBy: string[];
  limit: number;
  other: boolean;
  rate: boolean;
  share: boolean;
  onChange: (change: { groupBy?: string[]; limit?: number; other?: boolean; rate?: boolean; share?: boolean }) => void;
  onBlur: () => void;
}

/**
 * Group by fields (in column order), top-N limit, `other`, share (grouped
 * table or series) and rate (series only). Stat has none of these; logs only
 * a record limit. Distinct counts do not add up: no `other` and no share;
 * distinct counts and costs are not rates, nor are shares.
 */
export function GroupByRow({ format, metric, fields, groupBy, limit, other, rate, share, onChange, onBlur }: Props) {
  if (format === 'stat') {
    return null;
  }
  const limitInput = (
    <NumberInput
      aria-label={QUERY.limit}
      width={8}
      value={limit}
      onChange={(n) => onChange({ limit: n ?? 0 })}
      onBlur={onBlur}
    />
  );
  if (format === 'logs') {
    return (
      <InlineFieldRow>
        <InlineField label={QUERY.limit} labelWidth={12} tooltip="Newest N records; 0 = the backend's default">
          {limitInput}
        </InlineField>
      </InlineFieldRow>
    );
  }
  const options: Array<SelectableValue<string>> = fields.map((f) => ({ label: f.name, value: f.name, description: f.type }));
  // Keep fields the records do not (or no longer) have visible so they can be removed.
  for (const g of groupBy) {
    if (!options.some((o) => o.value === g)) {
      options.push({ label: g, value: g, description: 'not a field of the records' });
    }
  }
  const grouped = groupBy.length > 0;
  // Switches that do not apply are hidden, unless on (a saved query): then
  // they stay, for validation to name and the user to turn off.
  const additive = metric !== 'distinct';
  const rateable = metric === 'bytes' || metric === 'packets' || metric === 'records';
  return (
    <InlineFieldRow>
      <InlineField label={QUERY.groupBy} labelWidth={12} grow>
        <MultiSelect
          aria-label={QUERY.groupBy}
          inputId="flowlens-group-by"
          options={options}
          value={groupBy}
          placeholder="no grouping"
          onChange={(values: Array<SelectableValue<string>>) =>
            onChange({ groupBy: values.map((v) => v.value).filter((v): v is string => !!v) })
          }
        />
      </InlineField>
      {grouped && (
        <InlineField label={QUERY.limit} tooltip="Top N groups over the whole range; 0 = no limit">
          {limitInput}
        </InlineField>
      )}
      {grouped && limit > 0 && (additive || other) && (
        <InlineField label={QUERY.other} tooltip="Add an `other` group: the total minus the top N">
          <InlineSwitch aria-label={QUERY.other} value={other} onChange={() => onChange({ other: !other })} />
        </InlineField>
      )}
      {((grouped && additive) || share) && (
        <InlineField label={QUERY.share} tooltip="Each group's part of the total, in percent (per bucket for series)">
          <InlineSwitch aria-label={QUERY.share} value={share} onChange={() => onChange({ share: !share })} />
        </InlineField>
      )}
      {format === 'series' && ((rateable && !share) || rate) && (
        <InlineField label={QUERY.rate} tooltip="Divide each bucket by its width in seconds (bytes/sec)">
          <InlineSwitch aria-label={QUERY.rate} value={rate} onChange={() => onChange({ rate: !rate })} />
        </InlineField>
      )}
    </InlineFieldRow>
  );
}
