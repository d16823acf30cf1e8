import React from 'react';
import { SelectableValue } from '@grafana/data';
import { FieldSet, InlineField, Input, RadioButtonGroup } from '@grafana/ui';

import { BackendKind, LokiTimestamps, SETTINGS_DEFAULTS } from '../../types';
import { validateSplitInterval, validateTimeout, validateUrl } from '../../validation';
import { NumberInput } from '../NumberInput';
import { CONFIG } from '../selectors';
import { LABEL_WIDTH, SectionProps } from './options';

const BACKENDS: Array<SelectableValue<BackendKind>> = [
  { label: 'VictoriaLogs', value: 'victorialogs', description: 'LogsQL; single node or vlselect' },
  { label: 'Loki', value: 'loki', description: 'LogQL; the query frontend or a single binary' },
];

const TIMESTAMPS: Array<SelectableValue<LokiTimestamps>> = [
  {
    label: 'Whole milliseconds',
    value: 'milliseconds',
    description: 'Entries stamped on whole ms (VPC flow logs from S3 or CloudWatch): series as range queries',
  },
  {
    label: 'Nanoseconds',
    value: 'nanoseconds',
    description: 'Entries stamped by a nanosecond clock: each bucket its own instant query',
  },
];

const PORT_HINT: Record<BackendKind, string> = {
  victorialogs: 'http://localhost:9428',
  loki: 'http://localhost:3100',
};

/** Where the log database is and how long one request may take. */
export function ConnectionSection({ options, onEdit }: SectionProps) {
  const backend = options.jsonData.backend ?? SETTINGS_DEFAULTS.backend;
  const urlError = options.url ? validateUrl(options.url) : undefined;
  const timeout = options.jsonData.timeoutSeconds;
  const timeoutError = validateTimeout(timeout);
  const split = options.jsonData.lokiSplitInterval;
  const splitError = validateSplitInterval(split);
  return (
    <FieldSet label="Connection">
      <InlineField label={CONFIG.backend} labelWidth={LABEL_WIDTH}>
        <RadioButtonGroup
          aria-label={CONFIG.backend}
          options={BACKENDS}
          value={backend}
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
          placeholder={PORT_HINT[backend]}
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
      {backend === 'loki' && (
        <InlineField
          label={CONFIG.lokiSplitInterval}
          labelWidth={LABEL_WIDTH}
          invalid={!!splitError}
          error={splitError}
          tooltip="Long queries are sent as sub-queries of this length, aligned to it (lokiSplitInterval; the default 1h is Loki's split_queries_by_interval, so each sub-query can come from Loki's results cache); logs are read newest sub-range first. 0: never split"
        >
          <Input
            aria-label={CONFIG.lokiSplitInterval}
            width={12}
            value={split ?? ''}
            placeholder={SETTINGS_DEFAULTS.lokiSplitInterval}
            onChange={(e) => onEdit({ jsonData: { lokiSplitInterval: e.currentTarget.value.trim() || undefined } })}
          />
        </InlineField>
      )}
      {backend === 'loki' && (
        <InlineField
          label={CONFIG.lokiTimestamps}
          labelWidth={LABEL_WIDTH}
          tooltip="How precise the entries' timestamps are (lokiTimestamps). Loki's query frontend stamps range-query points on whole milliseconds, so their buckets are exact for entries stamped on whole milliseconds; Save & test says when the newest entries need Nanoseconds"
        >
          <RadioButtonGroup
            aria-label={CONFIG.lokiTimestamps}
            options={TIMESTAMPS}
            value={options.jsonData.lokiTimestamps ?? SETTINGS_DEFAULTS.lokiTimestamps}
            onChange={(v) => onEdit({ jsonData: { lokiTimestamps: v } })}
          />
        </InlineField>
      )}
    </FieldSet>
  );
}
