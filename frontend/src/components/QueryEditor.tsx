import React, { useMemo, useRef } from 'react';
import { dateTime, QueryEditorProps, SelectableValue, TimeRange } from '@grafana/data';
import { Alert, InlineField, InlineFieldRow, RadioButtonGroup } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { migrateQuery } from '../migrate';
import { defaultLimit, FlowDataSourceOptions, FlowQuery } from '../types';
import { queryHints } from '../explore/hints';
import { validateQuery } from '../validation';
import { FiltersSection } from './query/FiltersSection';
import { GroupByRow } from './query/GroupByRow';
import { InterfaceRow } from './query/InterfaceRow';
import { RawQueryRow } from './query/RawQueryRow';
import { RenderedQuery } from './query/RenderedQuery';
import { ShapeRow } from './query/ShapeRow';
import { useFields } from './query/useFields';
import { QUERY } from './selectors';

type Props = QueryEditorProps<DataSource, FlowQuery, FlowDataSourceOptions>;
type Mode = 'builder' | 'raw';

const MODE_OPTIONS: Array<SelectableValue<Mode>> = [
  { label: 'Builder', value: 'builder' },
  { label: 'Raw', value: 'raw', description: 'hand-written LogsQL/LogQL' },
];

function lastHour(): TimeRange {
  const to = dateTime();
  return { from: dateTime(to).subtract(1, 'hour'), to, raw: { from: 'now-1h', to: 'now' } };
}

/** The query builder (or raw mode) and the backend query it will run. */
export function QueryEditor({ datasource, query: saved, onChange, onRunQuery, range, data }: Props) {
  const query = useMemo(() => migrateQuery(saved), [saved]);
  const fields = useFields(datasource);
  const rendered = useRef<string[]>([]);
  const jsonData = datasource.instanceSettings?.jsonData ?? {};
  const errors = validateQuery(query, fields.map((f) => f.name), jsonData);
  const mode: Mode = typeof query.rawQuery === 'string' ? 'raw' : 'builder';

  const change = (patch: Partial<FlowQuery>, run = true) => {
    onChange({ ...query, ...patch });
    if (run) {
      onRunQuery();
    }
  };

  const renderRange = range ?? lastHour();
  const intervalMs = data?.request?.intervalMs ?? 60_000;
  const maxDataPoints = data?.request?.maxDataPoints ?? 1000;

  return (
    <div>
      <InlineFieldRow>
        <InlineField label={QUERY.mode} labelWidth={12}>
          <RadioButtonGroup
            aria-label={QUERY.mode}
            options={MODE_OPTIONS}
            value={mode}
            onChange={(m) =>
              // Raw mode starts from the query the builder renders; back to the builder drops the text.
              m === 'raw' ? change({ rawQuery: rendered.current[0] ?? '' }, false) : change({ rawQuery: null })
            }
          />
        </InlineField>
      </InlineFieldRow>
      {mode === 'raw' ? (
        <RawQueryRow
          rawQuery={query.rawQuery ?? ''}
          backend={jsonData.backend}
          datasource={datasource}
          range={renderRange}
          onChange={(rawQuery) => change({ rawQuery }, false)}
          onBlur={onRunQuery}
        />
      ) : (
        <>
          <ShapeRow
            format={query.format!}
            metric={query.metric!}
            direction={query.direction!}
            fields={fields}
            distinctField={typeof query.distinctField === 'string' ? query.distinctField : undefined}
            price={query.price ?? 'nat'}
            onChange={(c) => {
              const format = c.format ?? query.format!;
              const patch: Partial<FlowQuery> = { ...c };
              if (c.format && c.format !== query.format) {
                // Rate is for series, a share for table and series; the default limit depends on the format.
                patch.rate = format === 'series' ? query.rate : false;
                patch.share = format === 'series' || format === 'table' ? query.share : false;
                patch.limit = format === 'logs' ? 100 : defaultLimit(format, query.groupBy ?? []);
              }
              if (c.metric === 'distinct' || c.metric === 'cost') {
                // Only bytes, packets and records are rates; distinct counts do not add up.
                patch.rate = false;
                if (c.metric === 'distinct') {
                  patch.other = false;
                  patch.share = false;
                }
              }
              // distinctField stays when the metric changes (the backend ignores it): switching back keeps it.
              change(patch);
            }}
          />
          <GroupByRow
            format={query.format!}
            metric={query.metric!}
            fields={fields}
            groupBy={query.groupBy ?? []}
            limit={query.limit ?? 0}
            other={query.other ?? false}
            rate={query.rate ?? false}
            share={query.share ?? false}
            onChange={(c) => {
              const patch: Partial<FlowQuery> = { ...c };
              if (c.groupBy && (query.groupBy ?? []).length === 0 && c.groupBy.length > 0 && !query.limit) {
                patch.limit = defaultLimit(query.format!, c.groupBy);
              }
              if (c.groupBy && c.groupBy.length === 0) {
                // A share is of groups.
                patch.share = false;
              }
              if (c.share) {
                // A share is already per bucket.
                patch.rate = false;
              }
              change(patch, c.limit === undefined);
            }}
            onBlur={onRunQuery}
          />
          <FiltersSection
            filters={Array.isArray(query.filters) ? query.filters : []}
            fields={fields}
            onChange={(filters, run) => change({ filters }, run)}
            onBlur={onRunQuery}
          />
          <InterfaceRow
            interfaceId={query.interfaceId ?? null}
            datasourceDefault={jsonData.interfaceId}
            onChange={(interfaceId, run) => change({ interfaceId }, run)}
            onBlur={onRunQuery}
          />
        </>
      )}
      {errors.length === 0 &&
        queryHints(query, jsonData, renderRange.to.valueOf() - renderRange.from.valueOf()).map((h) => (
          <div key={h.type} data-testid={QUERY.hint} style={{ marginTop: 8, opacity: 0.8, fontSize: 12 }}>
            Hint: {h.label}
          </div>
        ))}
      {errors.length > 0 && (
        <Alert title="This query is not valid" severity="error" data-testid={QUERY.errors}>
          {errors.map((e) => (
            <div key={e}>{e}</div>
          ))}
        </Alert>
      )}
      <RenderedQuery
        datasource={datasource}
        query={query}
        range={renderRange}
        intervalMs={intervalMs}
        maxDataPoints={maxDataPoints}
        onRendered={(q) => (rendered.current = q)}
      />
    </div>
  );
}
