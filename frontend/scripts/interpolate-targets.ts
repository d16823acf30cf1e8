// Interpolates dashboard targets the way the datasource does before it sends
// them to the backend (DataSource.applyTemplateVariables, which is
// interpolateTarget), with a TemplateSrv that follows Grafana's rules
// (src/test/fakeTemplateSrv.ts). The Rust tests run it (tests/dashboard.rs,
// tests/raw_interpolation.rs) so that what they send is what the shipped
// frontend code would send.
//
//   node_modules/.bin/vite-node scripts/interpolate-targets.ts < request.json
//
// stdin: {"variables": [...], "targets": [...], "scopedVars": {...}?, "adHocFilters": [...]?}
//   variables: Grafana's dashboard model ({"name", "type", "current": {"value"},
//     "options": [{"value"}], "multi", "includeAll", "allValue"}) or the short
//     form {"name", "type", "value", "options": ["a", "b"], ...}; a value of
//     "$__all" (or ["$__all"]) selects All.
// stdout: {"targets": [...]}, each the interpolated target, or
//   {"refId": ..., "error": "..."} where the datasource answers that target
//   with an error instead (a variable that cannot stand where it is).
import type { AdHocVariableFilter, ScopedVars } from '@grafana/data';

import { interpolateTarget } from '../src/interpolate';
import { FakeTemplateSrv, FakeVariable } from '../src/test/fakeTemplateSrv';
import type { FlowQuery } from '../src/types';
import { InterpolationError } from '../src/variables';

interface GrafanaVariable {
  name: string;
  type?: FakeVariable['type'];
  current?: { value?: string | string[] };
  value?: string | string[];
  options?: Array<string | { value?: string }>;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
}

interface Request {
  variables?: GrafanaVariable[];
  targets: FlowQuery[];
  scopedVars?: ScopedVars;
  adHocFilters?: AdHocVariableFilter[];
}

/** A dashboard variable (either form) as the TemplateSrv stand-in takes it. */
function toFake(v: GrafanaVariable): FakeVariable {
  const options = (v.options ?? [])
    .map((o) => (typeof o === 'string' ? o : String(o.value ?? '')))
    .filter((o) => o !== '$__all');
  return {
    name: v.name,
    type: v.type,
    value: v.current?.value ?? v.value ?? '',
    options,
    multi: v.multi,
    includeAll: v.includeAll,
    allValue: v.allValue ?? undefined,
  };
}

/** All of stdin (read as a stream: vite-node leaves stdin non-blocking, so readFileSync(0) can fail). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
  const request = JSON.parse(await readStdin()) as Request;
  if (!Array.isArray(request.targets)) {
    throw new Error('stdin must be a JSON object with "targets": [...]');
  }
  const srv = new FakeTemplateSrv((request.variables ?? []).map(toFake));
  const targets = request.targets.map((t) => {
    try {
      return interpolateTarget(t, request.scopedVars ?? {}, request.adHocFilters, srv);
    } catch (e) {
      if (e instanceof InterpolationError) {
        return { refId: t.refId, error: e.message };
      }
      throw e;
    }
  });
  process.stdout.write(JSON.stringify({ targets }));
}

main().catch((e) => {
  process.stderr.write(`interpolate-targets: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
