import React from 'react';
import { SelectableValue } from '@grafana/data';
import { InlineField, Input, RadioButtonGroup } from '@grafana/ui';

import { Edit, LABEL_WIDTH, SectionProps } from '../components/config/options';
import { CONFIG } from '../components/selectors';
import { LOGQL_LANGUAGE, logqlLanguage } from '../components/query/rawLanguages';
import { FlowDataSourceOptions, LokiFields, LokiSettings, LokiTimestamps, SETTINGS_DEFAULTS } from '../types';
import { validateSplitInterval } from '../validation';
import type { BackendUi } from './types';

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

const LOKI_FIELDS: Array<SelectableValue<LokiFields>> = [
  {
    label: 'Structured metadata',
    value: 'structured-metadata',
    description: 'Loki 3: fields as structured metadata, read by label filters without a parser',
  },
  { label: 'JSON lines', value: 'json', description: 'each line a JSON object, read with | json' },
  { label: 'logfmt lines', value: 'logfmt', description: 'each line key=value pairs, read with | logfmt' },
];

/**
 * The `loki` section of jsonData, with the flat keys of earlier versions
 * (`lokiFields`, `lokiSplitInterval`, `lokiTimestamps`) where the section
 * lacks them, as the backend reads it.
 */
export function lokiSettings(jsonData: FlowDataSourceOptions): LokiSettings {
  const section = jsonData.loki ?? {};
  return {
    fields: section.fields ?? jsonData.lokiFields,
    splitInterval: section.splitInterval ?? jsonData.lokiSplitInterval,
    timestamps: section.timestamps ?? jsonData.lokiTimestamps,
  };
}

/** The edit that sets Loki settings: the whole section written, the flat keys dropped. */
export function lokiEdit(jsonData: FlowDataSourceOptions, change: Partial<LokiSettings>): Edit {
  return {
    jsonData: {
      loki: { ...lokiSettings(jsonData), ...change },
      lokiFields: undefined,
      lokiSplitInterval: undefined,
      lokiTimestamps: undefined,
    },
  };
}

/** How queries are split into sub-ranges, and how precise entry timestamps are. */
function ConnectionFields({ options, onEdit }: SectionProps) {
  const loki = lokiSettings(options.jsonData);
  const split = loki.splitInterval;
  const splitError = validateSplitInterval(split);
  return (
    <>
      <InlineField
        label={CONFIG.lokiSplitInterval}
        labelWidth={LABEL_WIDTH}
        invalid={!!splitError}
        error={splitError}
        tooltip="Long queries are sent as sub-queries of this length, aligned to it (loki.splitInterval; the default 1h is Loki's split_queries_by_interval, so each sub-query can come from Loki's results cache); logs are read newest sub-range first. 0: never split"
      >
        <Input
          aria-label={CONFIG.lokiSplitInterval}
          width={12}
          value={split ?? ''}
          placeholder={SETTINGS_DEFAULTS.lokiSplitInterval}
          onChange={(e) => onEdit(lokiEdit(options.jsonData, { splitInterval: e.currentTarget.value.trim() || undefined }))}
        />
      </InlineField>
      <InlineField
        label={CONFIG.lokiTimestamps}
        labelWidth={LABEL_WIDTH}
        tooltip="How precise the entries' timestamps are (loki.timestamps). Loki's query frontend stamps range-query points on whole milliseconds, so their buckets are exact for entries stamped on whole milliseconds; Save & test says when the newest entries need Nanoseconds"
      >
        <RadioButtonGroup
          aria-label={CONFIG.lokiTimestamps}
          options={TIMESTAMPS}
          value={loki.timestamps ?? SETTINGS_DEFAULTS.lokiTimestamps}
          onChange={(timestamps) => onEdit(lokiEdit(options.jsonData, { timestamps }))}
        />
      </InlineField>
    </>
  );
}

/** Where Loki holds the fields parsed at ingest. */
function FieldsModeFields({ options, onEdit }: SectionProps) {
  return (
    <InlineField label={CONFIG.lokiFields} labelWidth={LABEL_WIDTH} tooltip="Where Loki holds the fields parsed at ingest (loki.fields)">
      <RadioButtonGroup
        aria-label={CONFIG.lokiFields}
        options={LOKI_FIELDS}
        value={lokiSettings(options.jsonData).fields ?? SETTINGS_DEFAULTS.lokiFields}
        onChange={(fields) => onEdit(lokiEdit(options.jsonData, { fields }))}
      />
    </InlineField>
  );
}

/** Grafana Loki: LogQL through the query frontend or a single binary. */
export const loki: BackendUi = {
  kind: 'loki',
  label: 'Loki',
  description: 'LogQL; the query frontend or a single binary',
  urlPlaceholder: 'http://localhost:3100',
  language: { id: LOGQL_LANGUAGE, name: 'LogQL', alias: 'LogQL (Loki)', tokens: logqlLanguage, dialect: 'logql' },
  rawExample: '{logtype="flow"} |= "ACCEPT"',
  valueStart: 'field="',
  ConnectionFields,
  FieldsModeFields,
};
