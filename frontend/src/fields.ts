// Every field AWS documents for VPC Flow Logs (versions 2 to 8), by AWS name,
// with its type: the same table as the backend's src/schema.rs. The canonical
// name used in queries is the AWS name with `-` replaced by `_`.
import { FieldInfo, FieldType } from './types';

const AWS_FIELDS: ReadonlyArray<[string, FieldType]> = [
  ['version', 'number'],
  ['account-id', 'string'],
  ['interface-id', 'string'],
  ['srcaddr', 'ip'],
  ['dstaddr', 'ip'],
  ['srcport', 'number'],
  ['dstport', 'number'],
  ['protocol', 'number'],
  ['packets', 'number'],
  ['bytes', 'number'],
  ['start', 'number'],
  ['end', 'number'],
  ['action', 'string'],
  ['log-status', 'string'],
  ['vpc-id', 'string'],
  ['subnet-id', 'string'],
  ['instance-id', 'string'],
  ['tcp-flags', 'number'],
  ['type', 'string'],
  ['pkt-srcaddr', 'ip'],
  ['pkt-dstaddr', 'ip'],
  ['region', 'string'],
  ['az-id', 'string'],
  ['sublocation-type', 'string'],
  ['sublocation-id', 'string'],
  ['pkt-src-aws-service', 'string'],
  ['pkt-dst-aws-service', 'string'],
  ['flow-direction', 'string'],
  ['traffic-path', 'number'],
  ['ecs-cluster-arn', 'string'],
  ['ecs-cluster-name', 'string'],
  ['ecs-container-instance-arn', 'string'],
  ['ecs-container-instance-id', 'string'],
  ['ecs-container-id', 'string'],
  ['ecs-second-container-id', 'string'],
  ['ecs-service-name', 'string'],
  ['ecs-task-definition-arn', 'string'],
  ['ecs-task-arn', 'string'],
  ['ecs-task-id', 'string'],
  ['reject-reason', 'string'],
];

export function canonicalName(awsName: string): string {
  return awsName.replace(/-/g, '_');
}

/** AWS field names (`pkt-srcaddr`), in AWS's order. */
export const AWS_FIELD_NAMES: readonly string[] = AWS_FIELDS.map(([name]) => name);

/** Every canonical field with its type: the fallback when the `fields` resource cannot be asked. */
export const ALL_FIELDS: readonly FieldInfo[] = AWS_FIELDS.map(([name, type]) => ({ name: canonicalName(name), type }));

/**
 * Direction-relative addresses a query can filter (and, with direction in or
 * out, group) on: the inside (pod) side of a flow and the other side,
 * whichever way the flow goes. Not record fields: never mapped or extracted.
 */
export const RELATIVE_FIELDS: readonly FieldInfo[] = [
  { name: 'inside_addr', type: 'ip' },
  { name: 'outside_addr', type: 'ip' },
];

const TYPES = new Map(ALL_FIELDS.map((f) => [f.name, f.type]));
const RELATIVE = new Map(RELATIVE_FIELDS.map((f) => [f.name, f.type]));

/** Type of a canonical or direction-relative field, or undefined if unknown. */
export function fieldType(canonical: string): FieldType | undefined {
  return TYPES.get(canonical) ?? RELATIVE.get(canonical);
}

/** Whether AWS defines the field (a record field). */
export function isKnownField(canonical: string): boolean {
  return TYPES.has(canonical);
}

/** Whether a query may name the field: a record field or a direction-relative one. */
export function isQueryField(name: string): boolean {
  return TYPES.has(name) || RELATIVE.has(name);
}

/** AWS's default version-2 record format. */
export const AWS_DEFAULT_FORMAT =
  '${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}';

/** The 19-field custom format of an EKS VPC behind a NAT gateway (the mission's format). */
export const NAT_GATEWAY_FORMAT =
  '${region} ${vpc-id} ${az-id} ${subnet-id} ${instance-id} ${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${packets} ${bytes} ${action}';

export interface FormatPreset {
  id: 'aws-default' | 'nat-gateway' | 'custom';
  label: string;
  description: string;
  format?: string;
}

export const FORMAT_PRESETS: readonly FormatPreset[] = [
  { id: 'aws-default', label: 'AWS default (v2)', description: '14 fields, version 2', format: AWS_DEFAULT_FORMAT },
  {
    id: 'nat-gateway',
    label: 'NAT gateway (19 fields)',
    description: 'region ... pkt-srcaddr pkt-dstaddr ... bytes action',
    format: NAT_GATEWAY_FORMAT,
  },
  { id: 'custom', label: 'Custom', description: 'any format string of ${field} tokens' },
];

/** The preset a format string is, or `custom`. An empty format is the backend's default. */
export function presetOf(format: string | undefined): FormatPreset['id'] {
  const f = (format ?? '').trim();
  if (f === '' || f === AWS_DEFAULT_FORMAT) {
    return 'aws-default';
  }
  return f === NAT_GATEWAY_FORMAT ? 'nat-gateway' : 'custom';
}

/**
 * Canonical fields of a format string that parses, in record order, else
 * undefined. An empty format means AWS's default.
 */
export function formatFields(format: string | undefined): FieldInfo[] | undefined {
  const f = (format ?? '').trim() || AWS_DEFAULT_FORMAT;
  const names: FieldInfo[] = [];
  for (const token of f.split(' ')) {
    const m = /^\$\{([a-z0-9-]+)\}$/.exec(token);
    const type = m ? fieldType(canonicalName(m[1])) : undefined;
    if (!m || !type || names.some((n) => n.name === canonicalName(m[1]))) {
      return undefined;
    }
    names.push({ name: canonicalName(m[1]), type });
  }
  return names;
}
