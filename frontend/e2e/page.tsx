// The browser test page: the plugin's real editors (as module.ts wires them)
// with @grafana/ui, in place of Grafana's panel editor and datasource
// settings page. Backend calls go through @grafana/runtime's backend service,
// set here to a window.fetch implementation that talks to the test's bridge
// (tests/browser.rs), which forwards /api/datasources/uid/<uid>/resources/*
// to the plugin's CallResource and /health to CheckHealth, as Grafana does.
//
// "New variable" mounts the variable editor as Grafana does for a datasource
// with CustomVariableSupport, and runs `ds.variables.query` on each change.
//
// What the editors emit is kept on `window.__e2e` for e2e/run.mjs to read.
//
// The raw query editor is @grafana/ui's CodeEditor (Monaco). In Grafana,
// Monaco comes with Grafana; here it is bundled: @monaco-editor/react's loader
// is given the bundled monaco-editor (never a CDN), its stylesheets are
// bundled (webpack.config.mjs), its editor worker is a bundled worker, and
// `window.monaco` lets run.mjs read the editor's text.
import { loader } from '@monaco-editor/react';
import * as monaco from 'monaco-editor';
import React, { useMemo, useState } from 'react';
import { createRoot } from 'react-dom/client';
import {
  CoreApp,
  CustomVariableSupport,
  DataFrame,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceInstanceSettings,
  DataSourcePluginMeta,
  DataSourceSettings,
  dateTime,
  FieldType,
  LogRowContextQueryDirection,
  LogRowModel,
  MetricFindValue,
  SupplementaryQueryType,
  TimeRange,
  VariableSupportType,
} from '@grafana/data';
import { BackendSrv, BackendSrvRequest, FetchResponse, setBackendSrv, setTemplateSrv } from '@grafana/runtime';
import { Alert, Button, GlobalStyles, useTheme2 } from '@grafana/ui';
import { lastValueFrom, Observable } from 'rxjs';

import { DataSource } from '../src/datasource';
import { plugin } from '../src/module';
import pluginJson from '../src/plugin.json';
import { FakeTemplateSrv } from '../src/test/fakeTemplateSrv';
import { FlowDataSourceOptions, FlowQuery, FlowSecureJsonData, FlowVariableQuery } from '../src/types';

type Options = DataSourceSettings<FlowDataSourceOptions, FlowSecureJsonData>;

interface Recorded {
  method: string;
  url: string;
  body: unknown;
  status?: number;
  response?: unknown;
}

interface E2EState {
  ready: boolean;
  query?: FlowQuery;
  changes: number;
  runs: number;
  options?: Options;
  requests: Recorded[];
  health?: { status: string; message: string };
  fatal?: string;
  /** The last query the variable editor emitted. */
  variableQuery?: FlowVariableQuery;
  variableChanges: number;
  /** The values of the last variable query run (texts, in order), and the query it ran for. */
  variableValues?: string[];
  variableValuesFor?: FlowVariableQuery;
  variableError?: string;
  /** The Explore section: the logs query, its rows, the volume per action, the context of a row. */
  explore?: ExploreState;
}

interface ExploreState {
  query: FlowQuery;
  rows?: Array<{ time: number; body: string; labels: Record<string, string> }>;
  /** Records per action over the range, from the logs volume query (refId, display name -> sum). */
  volume?: Record<string, number>;
  volumeMeta?: unknown;
  context?: { before: Array<{ time: number; body: string }>; after: Array<{ time: number; body: string }> };
  error?: string;
}

declare global {
  interface Window {
    __e2e: E2EState;
    __e2eQuery: (targets: FlowQuery[]) => Promise<unknown[]>;
    monaco: typeof monaco;
  }
}

const state: E2EState = { ready: false, changes: 0, runs: 0, requests: [], variableChanges: 0 };
window.__e2e = state;

// Every Monaco worker is the editor worker (the raw query languages are
// Monarch tokenizers on the main thread; no language service needs a worker
// of its own).
window.MonacoEnvironment = {
  getWorker: () => new Worker(new URL('monaco-editor/esm/vs/editor/editor.worker.js', import.meta.url), { name: 'editor.worker' }),
};
loader.config({ monaco });
window.monaco = monaco;

/**
 * Grafana's backend service over window.fetch, for the calls a datasource
 * makes: JSON in, JSON out; a non-2xx answer is an error shaped like
 * Grafana's FetchError (`status`, `statusText`, `data` = the parsed body).
 */
function bridgeFetch<T>(options: BackendSrvRequest): Observable<FetchResponse<T>> {
  return new Observable<FetchResponse<T>>((subscriber) => {
    const abort = new AbortController();
    const method = (options.method ?? 'GET').toUpperCase();
    const params = options.params ? `?${new URLSearchParams(options.params as Record<string, string>)}` : '';
    const url = `${options.url}${params}`;
    const hasBody = options.data !== undefined && method !== 'GET';
    const record: Recorded = { method, url, body: hasBody ? options.data : undefined };
    state.requests.push(record);
    window
      .fetch(url, {
        method,
        headers: { ...(options.headers ?? {}), ...(hasBody ? { 'Content-Type': 'application/json' } : {}) },
        body: hasBody ? JSON.stringify(options.data) : undefined,
        signal: abort.signal,
      })
      .then(async (r) => {
        const text = await r.text();
        let data: unknown = text;
        try {
          data = text === '' ? undefined : JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        record.status = r.status;
        record.response = data;
        const response = {
          data: data as T,
          status: r.status,
          statusText: r.statusText,
          ok: r.ok,
          headers: r.headers,
          redirected: r.redirected,
          type: r.type,
          url: r.url,
          config: options,
        } as FetchResponse<T>;
        if (r.ok) {
          subscriber.next(response);
          subscriber.complete();
        } else {
          subscriber.error({ status: r.status, statusText: r.statusText, data, config: options });
        }
      })
      .catch((e) => subscriber.error(e));
    return () => abort.abort();
  });
}

const call = <T,>(method: string, url: string, data?: unknown, options?: Partial<BackendSrvRequest>) =>
  lastValueFrom(bridgeFetch<T>({ ...options, method, url, data })).then((r) => r.data);

const backendSrv: BackendSrv = {
  fetch: bridgeFetch,
  get: (url, params, _requestId, options) => call('GET', url, undefined, { ...options, params }),
  delete: (url, data, options) => call('DELETE', url, data, options),
  post: (url, data, options) => call('POST', url, data, options),
  patch: (url, data, options) => call('PATCH', url, data, options),
  put: (url, data, options) => call('PUT', url, data, options),
  request: (options) => lastValueFrom(bridgeFetch(options)).then((r) => r.data as never),
  datasourceRequest: (options) => lastValueFrom(bridgeFetch(options)) as never,
  chunked: () => {
    throw new Error('chunked requests are not used by this plugin');
  },
};
setBackendSrv(backendSrv);

// Dashboard variables the test interpolates: `pod` has two values, so a
// regex filter on it becomes an alternation of the escaped values.
const templateSrv = new FakeTemplateSrv([
  { name: 'pod', type: 'custom', value: ['10.0.32.7', '10.0.32.15'], options: ['10.0.32.7', '10.0.32.15'], multi: true },
]);
setTemplateSrv(templateSrv);

/** The panel's time range: `?from=<ms>&to=<ms>` of the page URL, else the last hour. */
function pageRange(): TimeRange {
  const params = new URLSearchParams(window.location.search);
  const to = dateTime(Number(params.get('to') ?? Date.now()));
  const from = params.has('from') ? dateTime(Number(params.get('from'))) : dateTime(to).subtract(1, 'hour');
  return { from, to, raw: { from, to } };
}

function instanceSettings(options: Options): DataSourceInstanceSettings<FlowDataSourceOptions> {
  return {
    id: options.id,
    uid: options.uid,
    type: options.type,
    name: options.name,
    access: 'proxy',
    readOnly: options.readOnly,
    url: options.url,
    jsonData: options.jsonData,
    meta: pluginJson as unknown as DataSourcePluginMeta<FlowDataSourceOptions>,
  };
}

function Section({ title, testId, children }: { title: string; testId: string; children: React.ReactNode }) {
  const theme = useTheme2();
  return (
    <section
      data-testid={testId}
      style={{
        padding: theme.spacing(2),
        marginBottom: theme.spacing(2),
        background: theme.colors.background.primary,
        border: `1px solid ${theme.colors.border.weak}`,
      }}
    >
      <h3>{title}</h3>
      {children}
    </section>
  );
}

/**
 * Dashboard settings → Variables → New variable (type Query, this datasource):
 * the datasource's variable editor as Grafana mounts it for a datasource with
 * CustomVariableSupport (`ds.variables.editor`, given the variable's saved
 * query, '' for a new variable), and the "Preview of values": on each change
 * Grafana runs `ds.variables.query` with a request for the dashboard's range
 * and lists the MetricFindValue texts in the order returned (sort: disabled).
 */
function VariableSection({ ds, range }: { ds: DataSource; range: TimeRange }) {
  const theme = useTheme2();
  if (ds.variables?.getType() !== VariableSupportType.Custom) {
    throw new Error('the datasource has no custom variable support');
  }
  const variables = ds.variables as CustomVariableSupport<DataSource, FlowVariableQuery>;
  const Editor = variables.editor;
  // A new query variable's query is the empty string until the editor changes it.
  const [query, setQuery] = useState<FlowVariableQuery | string>('');
  const [values, setValues] = useState<string[]>([]);
  const runs = React.useRef(0);

  const run = async (q: FlowVariableQuery) => {
    const n = ++runs.current;
    const request = {
      app: CoreApp.Dashboard,
      requestId: `variable-${n}`,
      timezone: 'utc',
      range,
      interval: '1m',
      intervalMs: 60_000,
      targets: [q],
      scopedVars: {},
      startTime: Date.now(),
    } as DataQueryRequest<FlowVariableQuery>;
    try {
      const response = await lastValueFrom(variables.query(request));
      const texts = (response.data as MetricFindValue[]).map((v) => String(v.text));
      if (n === runs.current) {
        state.variableValues = texts;
        state.variableValuesFor = q;
        state.variableError = undefined;
        setValues(texts);
      }
    } catch (e) {
      if (n === runs.current) {
        state.variableError = String((e as Error)?.message ?? e);
      }
    }
  };

  return (
    <Section title="Variable query" testId="e2e-variable-editor">
      <Editor
        datasource={ds}
        query={query as FlowVariableQuery}
        range={range}
        app={CoreApp.Dashboard}
        onChange={(q: FlowVariableQuery) => {
          state.variableQuery = q;
          state.variableChanges++;
          setQuery(q);
          run(q);
        }}
        onRunQuery={() => {}}
      />
      <h4 style={{ marginTop: theme.spacing(2) }}>Preview of values</h4>
      <div data-testid="e2e-variable-values" style={{ display: 'flex', gap: theme.spacing(1), flexWrap: 'wrap' }}>
        {values.map((v) => (
          <span
            key={v}
            style={{ padding: theme.spacing(0.5, 1), background: theme.colors.background.secondary, borderRadius: theme.shape.radius.default }}
          >
            {v}
          </span>
        ))}
      </div>
    </Section>
  );
}

/** The first frame's rows of a log-lines answer. */
function logRows(response: DataQueryResponse): Array<{ time: number; body: string; labels: Record<string, string>; frame: DataFrame; index: number }> {
  const frame = response.data.find((f: DataFrame) => f.fields.some((x) => x.name === 'body')) as DataFrame | undefined;
  if (!frame) {
    return [];
  }
  const field = (name: string) => frame.fields.find((f) => f.name === name)!;
  const [times, bodies, labels] = [field('timestamp'), field('body'), field('labels')];
  return bodies.values.map((body: string, i: number) => ({
    time: Number(times.values[i]),
    body,
    labels: (typeof labels.values[i] === 'string' ? JSON.parse(labels.values[i]) : labels.values[i]) as Record<string, string>,
    frame,
    index: i,
  }));
}

/**
 * Explore's logs view, driven through the datasource's own Explore APIs as
 * Explore calls them: the logs query (ds.query, through /api/ds/query to the
 * plugin), the logs volume (getSupplementaryRequest, LogsVolume), a row's
 * context (getLogRowContext, both directions) and "Filter for value" in a
 * row's details (toggleQueryFilter), after which the builder shows the new
 * filter row and the preview is the backend's rendering of the new query.
 */
function ExploreSection({ ds, range }: { ds: DataSource; range: TimeRange }) {
  const theme = useTheme2();
  const [query, setQuery] = useState<FlowQuery>({ refId: 'A', format: 'logs', limit: 20, direction: 'all', filters: [] });
  const [rows, setRows] = useState<ReturnType<typeof logRows>>([]);
  const [volume, setVolume] = useState<Record<string, number>>({});
  const [context, setContext] = useState<ExploreState['context']>();
  const QueryEditor = plugin.components.QueryEditor!;
  const explore: ExploreState = (state.explore ??= { query });

  const request = (targets: FlowQuery[], id: string) =>
    ({
      app: CoreApp.Explore,
      requestId: id,
      timezone: 'utc',
      range,
      interval: '1m',
      intervalMs: 60_000,
      maxDataPoints: 1000,
      targets,
      scopedVars: {},
      startTime: Date.now(),
    }) as DataQueryRequest<FlowQuery>;

  const run = async (q: FlowQuery) => {
    explore.query = q;
    explore.rows = undefined;
    explore.volume = undefined;
    explore.context = undefined;
    setContext(undefined);
    try {
      const logs = await lastValueFrom(ds.query(request([q], 'explore-logs')));
      const got = logRows(logs);
      setRows(got);
      explore.rows = got.map(({ time, body, labels }) => ({ time, body, labels }));
      const volumeRequest = ds.getSupplementaryRequest(SupplementaryQueryType.LogsVolume, request([q], 'explore'));
      const answer = await lastValueFrom(ds.query(volumeRequest!));
      const sums: Record<string, number> = {};
      for (const frame of answer.data as DataFrame[]) {
        const value = frame.fields.find((f) => f.type === FieldType.number)!;
        const name = value.config.displayNameFromDS ?? frame.name ?? '';
        sums[name] = (value.values as number[]).reduce((a, b) => a + b, 0);
      }
      explore.volumeMeta = (answer.data[0] as DataFrame | undefined)?.meta?.custom;
      explore.volume = sums;
      setVolume(sums);
    } catch (e) {
      explore.error = String((e as Error)?.message ?? JSON.stringify(e));
    }
  };

  React.useEffect(() => {
    run(query);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const showContext = async (row: ReturnType<typeof logRows>[number]) => {
    const model = {
      entry: row.body,
      labels: row.labels,
      timeEpochMs: row.time,
      timeEpochNs: String(row.time * 1_000_000),
      dataFrame: row.frame,
      rowIndex: row.index,
      uid: `${row.time}_${row.index}`,
    } as unknown as LogRowModel;
    const side = async (direction: LogRowContextQueryDirection) => {
      const answer = await ds.getLogRowContext(model, { direction, limit: 5 }, query);
      return logRows(answer).map(({ time, body }) => ({ time, body }));
    };
    const got = { before: await side(LogRowContextQueryDirection.Backward), after: await side(LogRowContextQueryDirection.Forward) };
    explore.context = got;
    setContext(got);
  };

  const filterFor = (key: string, value: string) => {
    const q = ds.toggleQueryFilter(query, { type: 'FILTER_FOR', options: { key, value } });
    setQuery(q);
    run(q);
  };

  return (
    <Section title="Explore: logs" testId="e2e-explore">
      <QueryEditor datasource={ds} query={query} range={range} app={CoreApp.Explore} onChange={setQuery} onRunQuery={() => run(query)} />
      <div data-testid="e2e-volume" style={{ display: 'flex', gap: theme.spacing(2), margin: theme.spacing(2, 0) }}>
        {Object.entries(volume).map(([name, n]) => (
          <span key={name} data-testid={`e2e-volume-${name}`}>
            {name}: {n}
          </span>
        ))}
      </div>
      <div data-testid="e2e-log-rows">
        {rows.map((row, i) => (
          <div key={i} data-testid="e2e-log-row" style={{ fontFamily: 'monospace', fontSize: 12, marginBottom: theme.spacing(0.5) }}>
            <span>{row.body}</span>
            <Button size="sm" variant="secondary" onClick={() => showContext(row)} data-testid={`e2e-context-${i}`}>
              Show context
            </Button>
            {['action', 'dstport'].map((key) => (
              <Button
                key={key}
                size="sm"
                variant="secondary"
                onClick={() => filterFor(key, row.labels[key])}
                data-testid={`e2e-filter-for-${key}-${i}`}
              >
                Filter for value {key}={row.labels[key]}
              </Button>
            ))}
          </div>
        ))}
      </div>
      {context && (
        <div data-testid="e2e-context">
          {context.before.length} before, {context.after.length} after
        </div>
      )}
    </Section>
  );
}

function App({ settings }: { settings: Options }) {
  const range = useMemo(pageRange, []);
  // One datasource instance, as Grafana keeps one per datasource.
  const ds = useMemo(() => new plugin.DataSourceClass(instanceSettings(settings)) as DataSource, [settings]);
  // A dashboard panel's query through the datasource (ds.query, /api/ds/query),
  // its frames as the panel gets them: for the names step of e2e/run.mjs.
  window.__e2eQuery = async (targets: FlowQuery[]) => {
    const answer = await lastValueFrom(
      ds.query({
        app: CoreApp.Dashboard,
        requestId: 'e2e-panel',
        timezone: 'utc',
        range,
        interval: '1h',
        intervalMs: 3_600_000,
        targets,
        scopedVars: {},
        startTime: Date.now(),
      } as DataQueryRequest<FlowQuery>)
    );
    return (answer.data as DataFrame[]).map((f) => ({
      name: f.name,
      refId: f.refId,
      meta: f.meta ?? null,
      fields: f.fields.map((x) => ({ name: x.name, values: Array.from(x.values), links: x.config.links ?? [] })),
    }));
  };
  const [query, setQuery] = useState<FlowQuery>(() => ({ refId: 'A', ...ds.getDefaultQuery(CoreApp.PanelEditor) }));
  const [options, setOptions] = useState<Options>(settings);
  const [health, setHealth] = useState<{ status: string; message: string }>();
  const [testing, setTesting] = useState(false);
  const [variable, setVariable] = useState(false);
  const [explore, setExplore] = useState(false);
  const QueryEditor = plugin.components.QueryEditor!;
  const ConfigEditor = plugin.components.ConfigEditor!;
  const theme = useTheme2();

  const saveAndTest = async () => {
    setTesting(true);
    try {
      const r = (await ds.testDatasource()) as { status: string; message: string };
      state.health = { status: r.status, message: r.message };
    } catch (e) {
      const err = e as { status?: string; message?: string };
      state.health = { status: err.status ?? 'error', message: err.message ?? String(e) };
    }
    setHealth(state.health);
    setTesting(false);
  };

  return (
    <div style={{ padding: theme.spacing(2), maxWidth: 1200 }}>
      <Section title="Query editor" testId="e2e-query-editor">
        <QueryEditor
          datasource={ds}
          query={query}
          range={range}
          app={CoreApp.PanelEditor}
          onChange={(q: FlowQuery) => {
            state.query = q;
            state.changes++;
            setQuery(q);
          }}
          onRunQuery={() => {
            state.runs++;
          }}
        />
        <pre data-testid="e2e-query-json" style={{ marginTop: theme.spacing(2), fontSize: theme.typography.bodySmall.fontSize }}>
          {JSON.stringify(query)}
        </pre>
      </Section>
      {variable ? (
        <VariableSection ds={ds} range={range} />
      ) : (
        <Button variant="secondary" onClick={() => setVariable(true)} data-testid="e2e-new-variable" style={{ marginBottom: theme.spacing(2) }}>
          New variable
        </Button>
      )}
      {explore ? (
        <ExploreSection ds={ds} range={range} />
      ) : (
        <Button variant="secondary" onClick={() => setExplore(true)} data-testid="e2e-open-explore" style={{ marginBottom: theme.spacing(2) }}>
          Explore logs
        </Button>
      )}
      <Section title="Datasource settings" testId="e2e-config-editor">
        <ConfigEditor
          options={options}
          onOptionsChange={(o: Options) => {
            state.options = o;
            setOptions(o);
          }}
        />
        <Button onClick={saveAndTest} disabled={testing} data-testid="e2e-save-and-test">
          Save &amp; test
        </Button>
        {health && (
          <div data-testid="e2e-health" style={{ marginTop: theme.spacing(2) }}>
            <Alert title={health.message} severity={health.status === 'success' ? 'success' : 'error'} />
          </div>
        )}
      </Section>
    </div>
  );
}

async function main() {
  const uid = new URLSearchParams(window.location.search).get('uid') ?? 'flowlens';
  // The datasource's saved settings, as Grafana's /api/datasources/uid/<uid> answers them.
  const settings = await backendSrv.get<Options>(`/api/datasources/uid/${uid}`);
  state.options = settings;
  createRoot(document.getElementById('root')!).render(
    <>
      <GlobalStyles />
      <App settings={settings} />
    </>
  );
  state.ready = true;
}

main().catch((e) => {
  state.fatal = String(e?.stack ?? e?.message ?? e);
  document.body.textContent = `The test page failed to start: ${state.fatal}`;
});
