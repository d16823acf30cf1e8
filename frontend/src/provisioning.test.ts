// The shipped provisioning is the end-to-end fixture: the Rust suite runs
// every dashboard target against real data. Here, every target must be a
// valid query for the provisioned datasource's record format, and the
// datasource's settings must pass the checks the config editor makes.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

import { formatFields, NAT_GATEWAY_FORMAT, RELATIVE_FIELDS } from './fields';
import { migrateQuery } from './migrate';
import { FlowDataSourceOptions, FlowQuery } from './types';
import { validateCidr, validateInterfaceId, validateQuery, validateRecordFormat, validateStreamSelector, validateUrl } from './validation';

const root = path.resolve(__dirname, '../../provisioning');

/** Grafana expands env variables in provisioning YAML; `$$` is a literal `$`. */
function grafanaLiteral(value: unknown): unknown {
  if (typeof value === 'string') {
    expect(value.replace(/\$\$/g, '')).not.toMatch(/\$/); // no accidental env expansion
    return value.replace(/\$\$/g, '$');
  }
  if (Array.isArray(value)) {
    return value.map(grafanaLiteral);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, grafanaLiteral(v)]));
  }
  return value;
}

const dsFile = parse(readFileSync(path.join(root, 'datasources/flowlens.yaml'), 'utf8'));
const ds = dsFile.datasources[0];
const jsonData = grafanaLiteral(ds.jsonData) as FlowDataSourceOptions;

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource: { type: string; uid: string };
  targets: FlowQuery[];
  transformations?: unknown[];
  fieldConfig: { defaults: { unit?: string } };
}
const dashboards = readdirSync(path.join(root, 'dashboards'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, json: JSON.parse(readFileSync(path.join(root, 'dashboards', f), 'utf8')) }));
const nat = dashboards.find((d) => d.file === 'nat-gateway.json')!.json;
const workloads = dashboards.find((d) => d.file === 'nat-gateway-workloads.json')!.json;
const panels: Panel[] = nat.panels;

describe('provisioned datasource', () => {
  it('is the flowlens datasource against local VictoriaLogs with the NAT gateway settings', () => {
    expect(ds).toMatchObject({ name: 'flowlens', uid: 'flowlens', type: 'flowlens-flowlogs-datasource', url: 'http://localhost:9428' });
    expect(jsonData.backend).toBe('victorialogs');
    expect(jsonData.streamSelector).toBe('{logtype="flow", environment="ops"}');
    expect(jsonData.recordFormat).toBe(NAT_GATEWAY_FORMAT);
    expect(jsonData.insideCidrs).toEqual(['10.0.32.0/20']);
    expect(jsonData.interfaceId).toBe('eni-0352f8c82da6aa229');
  });

  it('passes the config editor checks', () => {
    expect(validateUrl(ds.url)).toBeUndefined();
    expect(validateStreamSelector(jsonData.streamSelector!)).toBeUndefined();
    expect(validateRecordFormat(jsonData.recordFormat!)).toBeUndefined();
    expect(validateInterfaceId(jsonData.interfaceId!)).toBeUndefined();
    for (const c of jsonData.insideCidrs!) {
      expect(validateCidr(c)).toBeUndefined();
    }
    const fields = formatFields(jsonData.recordFormat)!.map((f) => f.name);
    expect(jsonData.dataLinks!.map((l) => l.field)).toEqual(['pkt_srcaddr', 'pkt_dstaddr']);
    for (const link of jsonData.dataLinks!) {
      expect(fields).toContain(link.field);
      expect(link.url).toContain('${__value.raw}');
    }
  });
});

describe('NAT gateway dashboard', () => {
  const fields = [...formatFields(NAT_GATEWAY_FORMAT)!, ...RELATIVE_FIELDS].map((f) => f.name);

  it('has every panel of the mission', () => {
    expect(panels.map((p) => [p.type, p.title])).toEqual([
      ['stat', 'NAT total processed'],
      ['stat', 'Total IN'],
      ['stat', 'Total OUT'],
      ['timeseries', 'IN / OUT bytes/sec'],
      ['table', 'Top 10 remote IPs IN'],
      ['table', 'Top 10 pods IN'],
      ['timeseries', 'Top 10 remote IPs IN, bytes/sec'],
      ['table', 'IN by IP and port'],
      ['logs', 'Flow records'],
    ]);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
  });

  it('has the two regex variables, .* by default', () => {
    const vars = nat.templating.list;
    expect(vars.map((v: { name: string }) => v.name)).toEqual(['kubernetes_pod_ip', 'remote_svc_ip']);
    for (const v of vars) {
      expect(v.current.value).toBe('.*');
      expect(v.query).toBe('.*');
    }
  });

  it('needs no transformations', () => {
    for (const p of panels) {
      expect(p.transformations ?? []).toEqual([]);
    }
  });

  it.each(panels.flatMap((p) => p.targets.map((t) => [`${p.title} / ${t.refId}`, p, t] as const)))(
    '%s is a valid target on the flowlens datasource',
    (_name, panel, t) => {
      expect(panel.datasource.uid).toBe('flowlens');
      expect(t.datasource).toEqual({ type: 'flowlens-flowlogs-datasource', uid: 'flowlens' });
      expect(t.version).toBe(1);
      expect(validateQuery(migrateQuery(t), fields)).toEqual([]);
      // The variables narrow every target, whichever way its traffic goes:
      // the pod one on the inside address, the remote one on the other side.
      expect(t.filters).toEqual([
        { field: 'inside_addr', op: '=~', value: '${kubernetes_pod_ip}' },
        { field: 'outside_addr', op: '=~', value: '${remote_svc_ip}' },
      ]);
    }
  );

  it('asks each panel the question its title says', () => {
    const target = (title: string, ref = 'A') => panels.find((p) => p.title === title)!.targets.find((t) => t.refId === ref)!;
    expect(target('NAT total processed')).toMatchObject({ format: 'stat', metric: 'bytes', direction: 'any' });
    expect(target('Total IN')).toMatchObject({ format: 'stat', direction: 'in' });
    expect(target('Total OUT')).toMatchObject({ format: 'stat', direction: 'out' });
    expect(target('IN / OUT bytes/sec', 'A')).toMatchObject({ format: 'series', direction: 'in', rate: true, groupBy: [] });
    expect(target('IN / OUT bytes/sec', 'B')).toMatchObject({ format: 'series', direction: 'out', rate: true, groupBy: [] });
    expect(target('Top 10 remote IPs IN')).toMatchObject({ format: 'table', direction: 'in', groupBy: ['pkt_srcaddr'], limit: 10 });
    expect(target('Top 10 pods IN')).toMatchObject({ format: 'table', direction: 'in', groupBy: ['pkt_dstaddr'], limit: 10 });
    expect(target('Top 10 remote IPs IN, bytes/sec')).toMatchObject({
      format: 'series',
      groupBy: ['pkt_srcaddr'],
      limit: 10,
      rate: true,
    });
    expect(target('IN by IP and port')).toMatchObject({
      format: 'table',
      groupBy: ['pkt_srcaddr', 'srcport', 'pkt_dstaddr', 'dstport'],
      limit: 10,
    });
    expect(target('Flow records')).toMatchObject({ format: 'logs' });
  });

  it('sets units on stats and rates; tables keep the units their frames carry', () => {
    for (const p of panels) {
      const unit = p.fieldConfig.defaults.unit;
      if (p.type === 'stat') {
        expect(unit).toBe('decbytes');
      } else if (p.type === 'timeseries') {
        expect(unit).toBe('Bps');
      } else {
        expect(unit).toBeUndefined(); // a table-wide unit would also apply to ports
      }
    }
  });

  it('is loaded by the dashboard provider', () => {
    const provider = parse(readFileSync(path.join(root, 'dashboards/dashboards.yaml'), 'utf8'));
    expect(provider.providers[0]).toMatchObject({ type: 'file', options: { path: '/etc/grafana/provisioning/dashboards' } });
  });
});

describe('cost and security dashboard', () => {
  const fields = [...formatFields(NAT_GATEWAY_FORMAT)!, ...RELATIVE_FIELDS].map((f) => f.name);
  const cost = dashboards.find((d) => d.file === 'vpc-traffic-cost.json')!.json;
  const costPanels: Array<Panel & { interval?: string }> = cost.panels;
  const target = (title: string) => costPanels.find((p) => p.title === title)!.targets[0];

  it('links to and from the NAT gateway dashboard and has its two regex variables', () => {
    expect(cost.links.map((l: { url: string }) => l.url)).toEqual(['/d/flowlens-nat-gateway']);
    expect(nat.links.map((l: { url: string }) => l.url)).toEqual([`/d/${cost.uid}`, `/d/${workloads.uid}`]);
    expect(cost.templating).toEqual(nat.templating);
    expect(new Set(costPanels.map((p) => p.id)).size).toBe(costPanels.length);
  });

  it.each(costPanels.flatMap((p) => p.targets.map((t) => [`${p.title} / ${t.refId}`, p, t] as const)))(
    '%s is a valid target, with no transformation',
    (_name, panel, t) => {
      expect(panel.transformations ?? []).toEqual([]);
      expect(t.datasource).toEqual({ type: 'flowlens-flowlogs-datasource', uid: 'flowlens' });
      expect(validateQuery(migrateQuery(t), fields, jsonData)).toEqual([]);
    }
  );

  it('asks each panel the question its title says, with units', () => {
    expect(target('NAT processing cost')).toMatchObject({ format: 'stat', metric: 'cost', price: 'nat', direction: 'any' });
    expect(target('NAT processing cost per day')).toMatchObject({ format: 'series', metric: 'cost' });
    expect(costPanels.find((p) => p.title === 'NAT processing cost per day')!.interval).toBe('1d');
    expect(target('Avoidable NAT cost: downloads from S3 and DynamoDB').filters).toContainEqual({
      field: 'pkt_src_aws_service',
      op: '=|',
      value: ['S3', 'DYNAMODB'],
    });
    expect(target('Share of flows by action')).toMatchObject({ metric: 'records', groupBy: ['action'], share: true });
    expect(target('Top rejected destination ports')).toMatchObject({
      groupBy: ['dstport'],
      filters: [{ field: 'action', op: '=', value: 'REJECT' }],
    });
    expect(target('Fan-out: sources by distinct destination ports')).toMatchObject({
      metric: 'distinct',
      distinctField: 'dstport',
      groupBy: ['srcaddr'],
    });
    expect(target('Bandwidth per interface')).toMatchObject({ groupBy: ['interface_id'], rate: true, interfaceId: '' });
    for (const p of costPanels.filter((p) => p.type !== 'table')) {
      const t = p.targets[0];
      const want = t.share ? 'percent' : t.metric === 'cost' ? 'currencyUSD' : t.rate ? 'Bps' : 'short';
      expect([p.title, p.fieldConfig.defaults.unit]).toEqual([p.title, want]);
    }
  });
});

describe('NAT gateway by workload dashboard', () => {
  const wpanels: Panel[] = workloads.panels;
  const names = ['workload', 'namespace', 'pod', 'remote_service', 'remote_region', 'remote_org', 'remote_asn', 'remote_country'];
  const fields = [...formatFields(NAT_GATEWAY_FORMAT)!, ...RELATIVE_FIELDS].map((f) => f.name).concat(names);

  it('has the workload panels, a node graph and the namespace and workload variables', () => {
    expect(wpanels.map((p) => p.type)).toContain('nodeGraph');
    expect(workloads.templating.list.map((v: { name: string }) => v.name)).toEqual(['namespace', 'workload']);
    for (const v of workloads.templating.list) {
      expect(v).toMatchObject({ type: 'query', includeAll: true, allValue: '.*', query: { direction: 'in' } });
    }
    expect(workloads.links.map((l: { url: string }) => l.url)).toEqual(['/d/flowlens-nat-gateway']);
  });

  it.each(wpanels.flatMap((p) => p.targets.map((t) => [`${p.title} / ${t.refId}`, p, t] as const)))(
    '%s is a valid target narrowed by both variables',
    (_name, panel, t) => {
      expect(panel.datasource.uid).toBe('flowlens');
      expect(validateQuery(migrateQuery(t), fields)).toEqual([]);
      expect(t.filters).toEqual([
        { field: 'namespace', op: '=~', value: '${namespace}' },
        { field: 'workload', op: '=~', value: '${workload}' },
      ]);
      expect(panel.transformations ?? []).toEqual([]);
    }
  );
});
