import React from 'react';
import { SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, RadioButtonGroup } from '@grafana/ui';

import { Direction, Format, Metric } from '../../types';
import { QUERY } from '../selectors';

const FORMAT_OPTIONS: Array<SelectableValue<Format>> = [
  { label: 'Stat', value: 'stat', description: 'one number over the whole range' },
  { label: 'Series', value: 'series', description: 'one series per group over time' },
  { label: 'Table', value: 'table', description: 'one row per group, largest first' },
  { label: 'Logs', value: 'logs', description: 'raw flow records, newest first' },
];

const METRIC_OPTIONS: Array<SelectableValue<Metric>> = [
  { label: 'Bytes', value: 'bytes' },
  { label: 'Packets', value: 'packets' },
  { label: 'Records', value: 'records', description: 'counts flow records' },
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
  onChange: (change: { format?: Format; metric?: Metric; direction?: Direction }) => void;
}

/** What the panel draws, what is summed, and which way the traffic flows. */
export function ShapeRow({ format, metric, direction, onChange }: Props) {
  return (
    <InlineFieldRow>
      <InlineField label={QUERY.format} labelWidth={12}>
        <RadioButtonGroup aria-label={QUERY.format} options={FORMAT_OPTIONS} value={format} onChange={(v) => onChange({ format: v })} />
      </InlineField>
      {format !== 'logs' && (
        <InlineField label={QUERY.metric}>
          <RadioButtonGroup aria-label={QUERY.metric} options={METRIC_OPTIONS} value={metric} onChange={(v) => onChange({ metric: v })} />
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
