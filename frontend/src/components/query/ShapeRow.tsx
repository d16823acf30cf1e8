import React from 'react';
import { SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, RadioButtonGroup, Select } from '@grafana/ui';

import { Direction, FieldInfo, Format, Metric, Price } from '../../types';
import { QUERY } from '../selectors';

const FORMAT_OPTIONS: Array<SelectableValue<Format>> = [
  { label: 'Stat', value: 'stat', description: 'one number over the whole range' },
  { label: 'Series', value: 'series', description: 'one series per group over time' },
  { label: 'Table', value: 'table', description: 'one row per group, largest first' },
  { label: 'Logs', value: 'logs', description: 'raw flow records, newest first' },
  { label: 'Node graph', value: 'nodegraph', description: 'the top pairs of two group-by fields as edges (node graph panel)' },
];

const METRIC_OPTIONS: Array<SelectableValue<Metric>> = [
  { label: 'Bytes', value: 'bytes' },
  { label: 'Packets', value: 'packets' },
  { label: 'Records', value: 'records', description: 'counts flow records' },
  { label: 'Distinct', value: 'distinct', description: 'counts distinct values of a field' },
  { label: 'Cost', value: 'cost', description: "bytes priced per GB, from the datasource's prices" },
];

const PRICE_OPTIONS: Array<SelectableValue<Price>> = [
  { label: 'NAT processing', value: 'nat', description: 'natPricePerGb: NAT gateway data processing' },
  { label: 'Internet egress', value: 'egress', description: 'egressPricePerGb: data transfer out to the internet' },
  { label: 'Cross-AZ', value: 'crossAz', description: 'crossAzPricePerGb: data transfer between Availability Zones' },
];

const DIRECTION_OPTIONS: Array<SelectableValue<Direction>> = [
  { label: 'In', value: 'in', description: 'pkt_dstaddr inside the inside CIDRs' },
  { label: 'Out', value: 'out', description: 'pkt_srcaddr inside the inside CIDRs' },
  { label: 'Any', value: 'any', description: 'either address inside, each byte counted once' },
  { label: 'All', value: 'all', description: 'no direction filter' },
];

interface Props {
  format: Format;
  metric: Metric;
  direction: Direction;
  /** The fields a distinct count can count (the datasource's). */
  fields: FieldInfo[];
  distinctField?: string;
  price: Price;
  onChange: (change: {
    format?: Format;
    metric?: Metric;
    direction?: Direction;
    distinctField?: string;
    price?: Price;
  }) => void;
}

/**
 * What the panel draws, what is computed (with the field a distinct count
 * counts, or the price a cost is at), and which way the traffic flows.
 */
export function ShapeRow({ format, metric, direction, fields, distinctField, price, onChange }: Props) {
  const fieldOptions: Array<SelectableValue<string>> = fields.map((f) => ({ label: f.name, value: f.name, description: f.type }));
  // Keep a field the records do not (or no longer) have visible so it can be changed.
  if (distinctField && !fields.some((f) => f.name === distinctField)) {
    fieldOptions.push({ label: distinctField, value: distinctField, description: 'not a field of the records' });
  }
  const metrics = format !== 'logs';
  return (
    <InlineFieldRow>
      <InlineField label={QUERY.format} labelWidth={12}>
        <RadioButtonGroup aria-label={QUERY.format} options={FORMAT_OPTIONS} value={format} onChange={(v) => onChange({ format: v })} />
      </InlineField>
      {metrics && (
        <InlineField label={QUERY.metric}>
          <RadioButtonGroup aria-label={QUERY.metric} options={METRIC_OPTIONS} value={metric} onChange={(v) => onChange({ metric: v })} />
        </InlineField>
      )}
      {metrics && metric === 'distinct' && (
        <InlineField
          label={QUERY.distinctField}
          tooltip={
            'Counts the distinct values of this field; records without a value are not counted. ' +
            'inside_addr and outside_addr need direction in or out'
          }
        >
          <Select
            aria-label={QUERY.distinctField}
            inputId="flowlens-distinct-field"
            width={24}
            options={fieldOptions}
            value={distinctField ?? null}
            placeholder="choose a field"
            onChange={(v) => {
              if (v?.value) {
                onChange({ distinctField: v.value });
              }
            }}
          />
        </InlineField>
      )}
      {metrics && metric === 'cost' && (
        <InlineField label={QUERY.price} tooltip="Bytes priced per GB (10^9 bytes) in USD, at this price from the datasource settings">
          <RadioButtonGroup aria-label={QUERY.price} options={PRICE_OPTIONS} value={price} onChange={(v) => onChange({ price: v })} />
        </InlineField>
      )}
      <InlineField label={QUERY.direction} tooltip="Relative to the datasource's inside CIDRs (the pod subnets)">
        <RadioButtonGroup
          aria-label={QUERY.direction}
          options={DIRECTION_OPTIONS}
          value={direction}
          onChange={(v) => onChange({ direction: v })}
        />
      </InlineField>
    </InlineFieldRow>
  );
}
