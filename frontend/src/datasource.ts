import {
  AdHocVariableFilter,
  CoreApp,
  CustomVariableSupport,
  dateTime,
  DataQueryError,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceInstanceSettings,
  DataSourceWithLogsContextSupport,
  DataSourceWithQueryModificationSupport,
  DataSourceWithSupplementaryQueriesSupport,
  DataSourceWithToggleableQueryFiltersSupport,
  LegacyMetricFindQueryOptions,
  LogRowContextOptions,
  LogRowContextQueryDirection,
  LogRowModel,
  MetricFindValue,
  QueryFilterOptions,
  QueryFixAction,
  QueryHint,
  ScopedVars,
  SupplementaryQueryOptions,
  SupplementaryQueryType,
  TimeRange,
  ToggleFilterAction,
} from '@grafana/data';
import { DataSourceWithBackend, getTemplateSrv, TemplateSrv } from '@grafana/runtime';
import { from, lastValueFrom, map, Observable, of } from 'rxjs';

import { VariableQueryEditor } from './components/VariableQueryEditor';
import { contextQuery, contextRequest, withoutRow } from './explore/context';
import {
  flowQueryHasFilter,
  modifyFlowQuery,
  QUERY_MODIFICATIONS,
  recordFieldNames,
  toggleFlowFilter,
} from './explore/filters';
import { queryHints } from './explore/hints';
import {
  SUPPLEMENTARY_QUERY_TYPES,
  supplementaryQuery,
  supplementaryRequest,
  takeVolumeSources,
  volumeResponse,
} from './explore/supplementary';
import { ALL_FIELDS, RELATIVE_FIELDS } from './fields';
import { interpolateTarget } from './interpolate';
import { migrateQuery, migrateVariableQuery } from './migrate';
import { InterpolationError } from './variables';
import {
  DEFAULT_VARIABLE_LIMIT,
  FieldInfo,
  FlowDataSourceOptions,
  FlowQuery,
  FlowVariableQuery,
  QUERY_VERSION,
} from './types';

/** The time range as the resource calls take it. */
export interface RangeMs {
  from: number;
  to: number;
}

export function toRangeMs(range: TimeRange): RangeMs {
  return { from: range.from.valueOf(), to: range.to.valueOf() };
}

/** The message of a failed resource call: the backend's `{"error"}`, Grafana's `{"message"}`, or the error's own. */
export function errorMessage(e: unknown): string {
  const err = e as { data?: { error?: string; message?: string }; message?: string; statusText?: string };
  return err?.data?.error ?? err?.data?.message ?? err?.message ?? err?.statusText ?? String(e);
}

export class DataSource
  extends DataSourceWithBackend<FlowQuery, FlowDataSourceOptions>
  implements
    DataSourceWithSupplementaryQueriesSupport<FlowQuery>,
    DataSourceWithLogsContextSupport<FlowQuery>,
    DataSourceWithQueryModificationSupport<FlowQuery>,
    DataSourceWithToggleableQueryFiltersSupport<FlowQuery>
{
  private fieldsPromise?: Promise<FieldInfo[]>;
  /** The record fields click-to-filter may filter on (explore/filters.ts). */
  private readonly recordFields: Set<string>;

  constructor(
    readonly instanceSettings: DataSourceInstanceSettings<FlowDataSourceOptions>,
    private readonly templates?: TemplateSrv
  ) {
    super(instanceSettings);
    this.variables = new FlowVariableSupport(this);
    this.recordFields = recordFieldNames(instanceSettings.jsonData ?? {});
  }

  private get templateSrv(): TemplateSrv {
    return this.templates ?? getTemplateSrv();
  }

  /** A new query shows data at once: bytes/sec over time, both directions (no direction filter when no inside CIDRs are set). */
  getDefaultQuery(_app: CoreApp): Partial<FlowQuery> {
    const hasInside = (this.instanceSettings.jsonData.insideCidrs ?? []).length > 0;
    return {
      version: QUERY_VERSION,
      format: 'series',
      metric: 'bytes',
      direction: hasInside ? 'any' : 'all',
      rate: true,
      groupBy: [],
      filters: [],
    };
  }

  filterQuery(query: FlowQuery): boolean {
    return !query.hide;
  }

  /**
   * Migrates the target and interpolates variables into values as data (see
   * interpolate.ts). Every ad-hoc filter becomes a filter, whatever its key
   * and operator: the backend applies it exactly or answers an error naming
   * it, so a panel never shows unfiltered numbers. Throws InterpolationError
   * when a variable cannot stand where it is (query() turns that into the
   * target's error).
   */
  applyTemplateVariables(query: FlowQuery, scopedVars: ScopedVars, adHocFilters?: AdHocVariableFilter[]): FlowQuery {
    return interpolateTarget(query, scopedVars, adHocFilters, this.templateSrv);
  }

  /**
   * The backend's query, but a target whose variables cannot be interpolated
   * (InterpolationError) answers that error for its refId instead of running;
   * the other targets run. The frames of logs-volume targets
   * (`log-volume-...`, explore/supplementary.ts) come back as Explore reads a
   * logs volume.
   */
  query(request: DataQueryRequest<FlowQuery>): Observable<DataQueryResponse> {
    const { targets, sources } = takeVolumeSources(request.targets);
    if (sources.size === 0) {
      return this.queryTargets(request);
    }
    return this.queryTargets({ ...request, targets }).pipe(
      map((r) => volumeResponse(r, sources, request, this.name))
    );
  }

  private queryTargets(request: DataQueryRequest<FlowQuery>): Observable<DataQueryResponse> {
    const errors: DataQueryError[] = [];
    const targets = request.targets.filter((t) => {
      try {
        this.applyTemplateVariables(t, request.scopedVars, request.filters);
        return true;
      } catch (e) {
        if (!(e instanceof InterpolationError)) {
          throw e;
        }
        errors.push({ refId: t.refId, message: e.message, status: 400 });
        return false;
      }
    });
    if (errors.length === 0) {
      return super.query(request);
    }
    const rest = targets.length > 0 ? super.query({ ...request, targets }) : of<DataQueryResponse>({ data: [] });
    return rest.pipe(
      map((r) => ({ ...r, errors: [...(r.errors ?? []), ...errors], error: r.error ?? errors[0] }))
    );
  }

  interpolateVariablesInQueries(queries: FlowQuery[], scopedVars: ScopedVars, filters?: AdHocVariableFilter[]): FlowQuery[] {
    return queries.map((q) => this.applyTemplateVariables(q, scopedVars, filters));
  }

  /** Short text for query history and collapsed query rows. */
  getQueryDisplayText(query: FlowQuery): string {
    const q = migrateQuery(query);
    if (q.rawQuery) {
      return q.rawQuery;
    }
    const parts = [`${q.format} of ${q.metric}${q.rate ? '/s' : ''}`, `direction ${q.direction}`];
    if (q.groupBy?.length) {
      parts.push(`by ${q.groupBy.join(', ')}${q.limit ? ` top ${q.limit}` : ''}`);
    }
    for (const f of q.filters ?? []) {
      parts.push(`${f.field} ${f.op} ${Array.isArray(f.value) ? f.value.join(' | ') : f.value}`);
    }
    return parts.join(', ');
  }

  getSupportedSupplementaryQueryTypes(): SupplementaryQueryType[] {
    return [...SUPPLEMENTARY_QUERY_TYPES];
  }

  /** Logs volume of a builder logs target, logs sample of a builder metric target (explore/supplementary.ts). */
  getSupplementaryQuery(options: SupplementaryQueryOptions, originalQuery: FlowQuery): FlowQuery | undefined {
    return supplementaryQuery(options, originalQuery);
  }

  getSupplementaryRequest(
    type: SupplementaryQueryType,
    request: DataQueryRequest<FlowQuery>,
    options?: SupplementaryQueryOptions
  ): DataQueryRequest<FlowQuery> | undefined {
    return supplementaryRequest(type, request, options);
  }

  /** The records of the row's interface before (backward, without the row) or after it (explore/context.ts). */
  async getLogRowContext(row: LogRowModel, options?: LogRowContextOptions, query?: FlowQuery): Promise<DataQueryResponse> {
    const response = await lastValueFrom(this.query(contextRequest(row, options, query)), {
      defaultValue: { data: [] },
    });
    const forward = options?.direction === LogRowContextQueryDirection.Forward;
    return forward ? response : withoutRow(response, row, options?.limit);
  }

  async getLogRowContextQuery(row: LogRowModel, options?: LogRowContextOptions, query?: FlowQuery): Promise<FlowQuery> {
    return contextQuery(row, options, query);
  }

  getSupportedQueryModifications(): string[] {
    return [...QUERY_MODIFICATIONS];
  }

  /** ADD_FILTER / ADD_FILTER_OUT from log details: `key = value` / `key != value` on a record field (explore/filters.ts). */
  modifyQuery(query: FlowQuery, action: QueryFixAction): FlowQuery {
    return modifyFlowQuery(query, action, this.recordFields);
  }

  toggleQueryFilter(query: FlowQuery, filter: ToggleFilterAction): FlowQuery {
    return toggleFlowFilter(query, filter, this.recordFields);
  }

  queryHasFilter(query: FlowQuery, filter: QueryFilterOptions): boolean {
    return flowQueryHasFilter(query, filter);
  }

  /** What would make the query read less (explore/hints.ts); the results are not needed. */
  getQueryHints(query: FlowQuery, _results: unknown[]): QueryHint[] {
    return queryHints(query, this.instanceSettings.jsonData ?? {});
  }

  /** Fields of the configured record format (`fields` resource); all AWS fields if the call fails. */
  fields(): Promise<FieldInfo[]> {
    if (!this.fieldsPromise) {
      this.fieldsPromise = this.getResource<{ fields?: FieldInfo[] }>('fields')
        .then((r) => (r?.fields?.length ? r.fields : [...ALL_FIELDS, ...RELATIVE_FIELDS]))
        .catch(() => {
          this.fieldsPromise = undefined; // ask again next time
          return [...ALL_FIELDS, ...RELATIVE_FIELDS];
        });
    }
    return this.fieldsPromise;
  }

  /** The backend query text(s) a target will run (`render` resource). Throws the backend's message. */
  async renderQuery(query: FlowQuery, range: TimeRange, intervalMs: number, maxDataPoints: number): Promise<string[]> {
    try {
      const r = await this.postResource<{ queries?: string[]; error?: string }>('render', {
        query: this.applyTemplateVariables(query, {}),
        range: toRangeMs(range),
        intervalMs,
        maxDataPoints,
      });
      if (r?.error) {
        throw new Error(r.error);
      }
      return r?.queries ?? [];
    } catch (e) {
      throw new Error(errorMessage(e));
    }
  }

  /** Values of one field, most bytes first (`values` resource). */
  async fieldValues(field: string, range: TimeRange, query?: FlowQuery, limit = DEFAULT_VARIABLE_LIMIT): Promise<string[]> {
    try {
      const r = await this.postResource<{ values?: string[] }>('values', {
        field,
        query,
        range: toRangeMs(range),
        limit,
      });
      return r?.values ?? [];
    } catch (e) {
      throw new Error(errorMessage(e));
    }
  }

  /** Variable values: the top values of a field, optionally narrowed by direction and filters. */
  async metricFindQuery(
    query: FlowVariableQuery | string,
    options?: LegacyMetricFindQueryOptions
  ): Promise<MetricFindValue[]> {
    const q = migrateVariableQuery(query);
    if (!q.field) {
      return [];
    }
    const limit = q.limit && q.limit > 0 ? q.limit : DEFAULT_VARIABLE_LIMIT;
    const target = this.applyTemplateVariables(
      {
        refId: q.refId,
        format: 'table',
        metric: 'bytes',
        direction: q.direction ?? 'all',
        groupBy: [q.field],
        limit,
        filters: q.filters ?? [],
      },
      options?.scopedVars ?? {}
    );
    const range = options?.range ?? lastHour();
    const values = await this.fieldValues(q.field, range, target, limit);
    return values.map((v) => ({ text: v, value: v }));
  }

  /** Ad-hoc filter keys: the record's fields. */
  async getTagKeys(): Promise<MetricFindValue[]> {
    return (await this.fields()).map((f) => ({ text: f.name }));
  }

  /** Ad-hoc filter values: the top values of the key. */
  async getTagValues(options: { key: string; timeRange?: TimeRange }): Promise<MetricFindValue[]> {
    const range = options.timeRange ?? lastHour();
    return (await this.fieldValues(options.key, range)).map((v) => ({ text: v }));
  }
}

/** The range when Grafana passes none (older callers of metricFindQuery). */
function lastHour(): TimeRange {
  const to = dateTime();
  return { from: dateTime(to).subtract(1, 'hour'), to, raw: { from: 'now-1h', to: 'now' } };
}

/** Variable queries through the `values` resource, with VariableQueryEditor as the editor. */
export class FlowVariableSupport extends CustomVariableSupport<DataSource, FlowVariableQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly ds: DataSource) {
    super();
  }

  query(request: DataQueryRequest<FlowVariableQuery>): Observable<DataQueryResponse> {
    const q = request.targets[0];
    return from(this.ds.metricFindQuery(q, { range: request.range, scopedVars: request.scopedVars })).pipe(
      map((data) => ({ data }))
    );
  }
}
