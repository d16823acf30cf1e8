// Validation the editors show as the user types. The backend validates again
// (it is the authority); these mirror its rules and messages so a mistake is
// seen before "Save & test" or before a panel runs. Every function returns
// undefined when the input is valid, else a message naming what is wrong.
import { AWS_FIELD_NAMES, canonicalName, fieldType, isKnownField, isQueryField, RELATIVE_FIELDS } from './fields';
import {
  COMPARE_OPS,
  DIRECTIONS,
  FILTER_OPS,
  FlowDataSourceOptions,
  FlowFilter,
  FlowQuery,
  FORMATS,
  LOG_ORDERS,
  LogOrder,
  METRICS,
  Price,
  PRICE_SETTINGS,
  PRICES,
  REGEX_OPS,
  SET_OPS,
} from './types';

/** An AWS format string: `${name}` tokens separated by single spaces, each a documented field, none repeated. */
export function validateRecordFormat(format: string): string | undefined {
  const f = format.trim();
  if (f === '') {
    return 'the format is empty; expected e.g. ${srcaddr} ${dstaddr} ${bytes}';
  }
  const seen = new Set<string>();
  for (const token of f.split(' ')) {
    const m = /^\$\{(.*)\}$/.exec(token);
    if (!m) {
      return token === ''
        ? 'fields must be separated by single spaces'
        : `\`${token}\` is not a \${field} token (fields are separated by single spaces)`;
    }
    const aws = m[1];
    if (aws.includes('_') || !isKnownField(canonicalName(aws))) {
      const hint = aws.includes('_') && isKnownField(aws) ? ` (AWS writes it \`${aws.replace(/_/g, '-')}\`)` : '';
      return `\`${aws}\` is not an AWS flow-log field${hint}; known fields: ${AWS_FIELD_NAMES.join(', ')}`;
    }
    if (seen.has(aws)) {
      return `\`${aws}\` appears twice`;
    }
    seen.add(aws);
  }
  return undefined;
}

function parseIpv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255)) {
    return undefined;
  }
  return parts.map(Number);
}

/** An IPv6 address as 16 bytes, or undefined. Accepts `::` and an embedded IPv4 tail. */
function parseIpv6(text: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split('::').length > 2) {
    return undefined;
  }
  const groups = (part: string): number[] | undefined => {
    if (part === '') {
      return [];
    }
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (i === items.length - 1 && item.includes('.')) {
        const v4 = parseIpv4(item);
        if (!v4) {
          return undefined;
        }
        out.push(v4[0], v4[1], v4[2], v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) {
        const n = parseInt(item, 16);
        out.push(n >> 8, n & 0xff);
      } else {
        return undefined;
      }
    }
    return out;
  };
  const [head, tail] = text.split('::');
  const a = groups(head);
  const b = tail === undefined ? [] : groups(tail);
  if (!a || !b) {
    return undefined;
  }
  if (tail === undefined) {
    return a.length === 16 ? a : undefined;
  }
  return a.length + b.length <= 14 ? [...a, ...new Array(16 - a.length - b.length).fill(0), ...b] : undefined;
}

/** An IPv4 or IPv6 address as bytes, or undefined. */
export function parseIp(text: string): number[] | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** A CIDR such as 10.0.32.0/20, or a bare address (a /32 or /128); host bits must be zero. */
export function validateCidr(text: string): string | undefined {
  const t = text.trim();
  const [addr, prefix, ...more] = t.split('/');
  const bytes = parseIp(addr);
  if (!bytes || more.length > 0) {
    return `\`${t}\` is not a CIDR such as 10.0.32.0/20`;
  }
  if (prefix === undefined) {
    return undefined;
  }
  const bits = bytes.length * 8;
  if (!/^(0|[1-9][0-9]*)$/.test(prefix) || Number(prefix) > bits) {
    return `\`${t}\` has an invalid prefix length; expected 0 to ${bits}`;
  }
  const len = Number(prefix);
  const network = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, len - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  if (network.some((b, i) => b !== bytes[i])) {
    const shown = bytes.length === 4 ? network.join('.') : formatIpv6(network);
    return `\`${t}\` has host bits set; did you mean ${shown}/${len}?`;
  }
  return undefined;
}

function formatIpv6(bytes: number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  }
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** `{label="value", ...}` with =, !=, =~, !~ and double- or backtick-quoted values; empty or `{}` = all streams. */
export function validateStreamSelector(text: string): string | undefined {
  const t = text.trim();
  if (t === '') {
    return undefined;
  }
  if (!t.startsWith('{') || !t.endsWith('}')) {
    return `\`${t}\` must be enclosed in braces, e.g. {logtype="flow"}`;
  }
  let rest = t.slice(1, -1).trimStart();
  while (rest !== '') {
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (!name) {
      return `expected a label name at \`${rest}\``;
    }
    const label = name[0];
    rest = rest.slice(label.length).trimStart();
    const op = ['!=', '=~', '!~', '='].find((o) => rest.startsWith(o));
    if (!op) {
      return `expected =, !=, =~ or !~ after \`${label}\``;
    }
    rest = rest.slice(op.length).trimStart();
    const quoted = /^"(?:[^"\\]|\\.)*"/.exec(rest) ?? /^`[^`]*`/.exec(rest);
    if (!quoted) {
      return `the value of \`${label}\` must be a quoted string, e.g. ${label}="flow"`;
    }
    rest = rest.slice(quoted[0].length).trimStart();
    if (rest.startsWith(',')) {
      rest = rest.slice(1).trimStart();
    } else if (rest !== '') {
      return `expected \`,\` or \`}\` at \`${rest}\``;
    }
  }
  return undefined;
}

export function validateUrl(text: string): string | undefined {
  const t = text.trim();
  if (t === '') {
    return 'the URL is empty; set it to the VictoriaLogs address, e.g. http://localhost:9428';
  }
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    return `the URL \`${t}\` is not valid`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `the URL \`${t}\` must start with http:// or https://`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'the URL must not contain credentials; use basic auth instead';
  }
  return undefined;
}

export function validateTimeout(seconds: number | undefined): string | undefined {
  if (seconds === undefined) {
    return undefined;
  }
  if (Number.isNaN(seconds)) {
    return 'the timeout must be a number of seconds';
  }
  return Number.isFinite(seconds) && seconds > 0 && seconds <= 3600
    ? undefined
    : `timeout ${seconds} must be between 0 and 3600 seconds`;
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `lokiSplitInterval` as settings.rs reads it: `0`, or a duration such as `1h` or `1h30m` of whole seconds from 1m to 7d. */
export function validateSplitInterval(text: string | undefined): string | undefined {
  const value = (text ?? '').trim();
  if (value === '' || value === '0') {
    return undefined;
  }
  if (!/^(\d+\s*(ms|s|m|h|d|w)\s*)+$/.test(value)) {
    return `split interval \`${value}\` is not a duration such as 1h or 30m (0: never split)`;
  }
  const ms = [...value.matchAll(/(\d+)\s*(ms|s|m|h|d|w)/g)].reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS_MS[p[2]], 0);
  if (ms % 1_000 !== 0 || ms < 60_000 || ms > 7 * 86_400_000) {
    return `split interval \`${value}\` must be from 1m to 7d in whole seconds (0: never split)`;
  }
  return undefined;
}

// ---- Rollups (src/rollups/settings.rs): jsonData `rollups`, a Prometheus-compatible rollup store.

/** Default of `rollups.resolution`: the rules' evaluation interval (`flowlens rules --resolution`). */
export const ROLLUPS_DEFAULT_RESOLUTION = '1m';

/** The rollup store's URL, for messages and the placeholder. */
export const ROLLUPS_URL_EXAMPLE = 'http://victoriametrics:8428';

/**
 * A key of the `rollups` section as the backend's `text` reads it: a string
 * trimmed, undefined when absent, null or blank; else an error naming the key.
 */
function rollupsText(key: string, value: unknown): { text?: string; error?: string } {
  if (value === undefined || value === null) {
    return {};
  }
  if (typeof value !== 'string') {
    return { error: `rollups.${key} must be a string, not ${JSON.stringify(value)}` };
  }
  const text = value.trim();
  return text === '' ? {} : { text };
}

/** `rollups.url`: blank = no rollups; else an http(s) URL with a host and no credentials in it. */
export function validateRollupsUrl(value: unknown): string | undefined {
  const { text, error } = rollupsText('url', value);
  if (error || text === undefined) {
    return error;
  }
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    return `rollups.url \`${text}\` must be an http(s) URL such as ${ROLLUPS_URL_EXAMPLE}`;
  }
  if (url.username !== '' || url.password !== '') {
    return 'rollups.url must not hold credentials; set rollups.basicAuthUser and the password';
  }
  return undefined;
}

/**
 * `rollups.resolution` in ms: numbers each with a unit s, m, h or d (`1m`,
 * `90s`, `1h30m`), 1s to 1d; the default (1m) when blank, undefined when
 * invalid. As rollups/settings.rs `resolution_ms` reads it.
 */
export function rollupsResolutionMs(value: unknown): number | undefined {
  const { text, error } = rollupsText('resolution', value);
  if (error) {
    return undefined;
  }
  if (text === undefined) {
    return 60_000;
  }
  if (!/^(\d{1,9}[smhd])+$/.test(text)) {
    return undefined;
  }
  const ms = [...text.matchAll(/(\d+)([smhd])/g)].reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS_MS[p[2]], 0);
  return ms >= 1_000 && ms <= 86_400_000 ? ms : undefined;
}

/**
 * `rollups.resolution`: one or more durations separated by commas (`1m`,
 * `1m,1h`), each whole seconds from 1s to 1d; blank = 1m. As
 * rollups/settings.rs `resolutions_ms` reads it.
 */
export function validateRollupsResolution(value: unknown): string | undefined {
  const { text, error } = rollupsText('resolution', value);
  if (error || text === undefined) {
    return error;
  }
  return text.split(',').some((part) => rollupsResolutionMs(part.trim()) === undefined || part.trim() === '')
    ? `rollups.resolution \`${text}\` must be whole seconds up to a day, such as 1m or 5m, or several separated by commas, such as 1m,1h`
    : undefined;
}

/** `rollups.stamps`: `end` (the default) or `start`. */
export function validateRollupsStamps(value: unknown): string | undefined {
  const { text, error } = rollupsText('stamps', value);
  if (error || text === undefined || text === 'end' || text === 'start') {
    return error;
  }
  return `rollups.stamps \`${text}\` must be \`end\` (vmalert evaluating live, the Loki ruler) or \`start\` (vmalert's replay)`;
}

/** `rollups.basicAuthUser`: a string when set (blank = no basic auth). */
export function validateRollupsBasicAuthUser(value: unknown): string | undefined {
  return rollupsText('basicAuthUser', value).error;
}

/**
 * jsonData's `rollups` section as the backend checks it (RollupSettings::of):
 * its first problem, or undefined. No section, or no url, is no rollups,
 * whatever the other keys hold.
 */
export function validateRollups(section: unknown): string | undefined {
  if (section === undefined || section === null) {
    return undefined;
  }
  if (typeof section !== 'object' || Array.isArray(section)) {
    return 'rollups must be an object such as {"url": "http://vm:8428"}';
  }
  const s = section as Record<string, unknown>;
  const url = rollupsText('url', s.url);
  if (url.error || url.text === undefined) {
    return url.error;
  }
  return (
    validateRollupsUrl(s.url) ??
    validateRollupsResolution(s.resolution) ??
    validateRollupsStamps(s.stamps) ??
    validateRollupsBasicAuthUser(s.basicAuthUser)
  );
}

/** A number of USD per GB as settings.rs reads it: unset, or finite and non-negative. */
function validatePerGb(value: number | undefined, what: string, example: string): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (Number.isNaN(value)) {
    return `${what} must be a number, e.g. ${example}`;
  }
  return Number.isFinite(value) && value >= 0 ? undefined : `${what} ${value} must be a non-negative number`;
}

/** How a price setting is named in messages, and an example (AWS us-east-1). */
const PRICE_NAMES: Readonly<Record<Price, [string, string]>> = {
  nat: ['NAT price per GB', '0.045'],
  egress: ['egress price per GB', '0.09'],
  crossAz: ['cross-AZ price per GB', '0.01'],
};

/** A price setting of `metric: cost` (natPricePerGb, egressPricePerGb, crossAzPricePerGb): USD per GB, non-negative. */
export function validatePricePerGb(price: Price, value: number | undefined): string | undefined {
  const [what, example] = PRICE_NAMES[price];
  return validatePerGb(value, what, example);
}

/** A soft check: AWS interface ids look like `eni-0352f8c82da6aa229`. */
export function validateInterfaceId(id: string): string | undefined {
  const t = id.trim();
  return t === '' || /^eni-[0-9a-f]{8,17}$/.test(t) || hasVariable(t)
    ? undefined
    : `\`${t}\` does not look like an interface id such as eni-0352f8c82da6aa229`;
}

/** Grafana's variable syntaxes: $name, ${name...}, [[name...]]. */
export const VARIABLE_PATTERN = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

export function hasVariable(text: string): boolean {
  return new RegExp(VARIABLE_PATTERN.source).test(text);
}

function validateRange(value: string): string | undefined {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(value);
  if (!m) {
    return `range \`${value}\` must be two numbers such as 1024-65535`;
  }
  return Number(m[1]) <= Number(m[2]) ? undefined : `range \`${value}\` starts after it ends`;
}

/** One filter; `fields` are the fields the records have (all AWS fields when unknown). */
export function validateFilter(f: FlowFilter, fields?: readonly string[]): string | undefined {
  if (typeof f !== 'object' || f === null || Array.isArray(f)) {
    return `filter: ${JSON.stringify(f)} must be an object {field, op, value}`;
  }
  if (!f.field) {
    return 'filter: choose a field';
  }
  if (typeof f.field !== 'string') {
    return `filter: the field ${JSON.stringify(f.field)} must be a field name`;
  }
  const known = fields ? fields.includes(f.field) : isQueryField(f.field);
  if (!known) {
    return `filter: \`${f.field}\` is not a field of the records`;
  }
  if (!FILTER_OPS.includes(f.op)) {
    return `filter on ${f.field}: \`${f.op}\` is not one of ${FILTER_OPS.join(' ')}`;
  }
  if (SET_OPS.includes(f.op)) {
    if (!Array.isArray(f.value) || !f.value.every((v) => typeof v === 'string')) {
      return `filter on ${f.field}: ${f.op} needs a list of values, e.g. ["ACCEPT", "REJECT"]`;
    }
    if (f.value.length === 0) {
      return `filter on ${f.field}: enter the values, separated by commas (until then the filter is not applied)`;
    }
    return f.value.includes('') ? `filter on ${f.field}: a value between commas is empty` : undefined;
  }
  if (typeof f.value !== 'string') {
    return `filter on ${f.field}: the value must be a string`;
  }
  if (f.value === '') {
    return `filter on ${f.field}: enter a value (until then the filter is not applied)`;
  }
  if (hasVariable(f.value)) {
    return undefined; // checked after interpolation, by the backend
  }
  if (COMPARE_OPS.includes(f.op)) {
    if (fieldType(f.field) !== 'number') {
      return `filter on ${f.field}: ${f.op} needs a numeric field such as dstport or bytes`;
    }
    return /^\s*\d+\s*$/.test(f.value) ? undefined : `filter on ${f.field}: \`${f.value}\` must be a whole number`;
  }
  if (f.op === 'cidr' || f.op === '!cidr') {
    if (fieldType(f.field) !== 'ip') {
      return `filter on ${f.field}: ${f.op} needs an address field`;
    }
    const e = validateCidr(f.value);
    return e ? `filter on ${f.field}: ${e}` : undefined;
  }
  if (f.op === 'range') {
    if (fieldType(f.field) !== 'number') {
      return `filter on ${f.field}: range needs a numeric field such as dstport`;
    }
    const e = validateRange(f.value);
    return e ? `filter on ${f.field}: ${e}` : undefined;
  }
  if (REGEX_OPS.includes(f.op)) {
    try {
      new RegExp(f.value);
    } catch {
      return `filter on ${f.field}: \`${f.value}\` is not a valid regular expression`;
    }
  }
  return undefined;
}

/** The datasource settings a query's validity depends on. */
export type QuerySettings = Pick<FlowDataSourceOptions, 'natPricePerGb' | 'egressPricePerGb' | 'crossAzPricePerGb'>;

const isRelative = (name: string) => RELATIVE_FIELDS.some((f) => f.name === name);

/**
 * What the backend checks of `metric` with `distinctField`, `price`, `share`,
 * `other` and `rate`. A hand-written query keeps these fields, but only
 * `price` still applies to it.
 */
function validateMetric(q: FlowQuery, field: (name: string) => boolean, settings?: QuerySettings): string[] {
  const errors: string[] = [];
  const price = q.price ?? 'nat';
  if (!PRICES.includes(price)) {
    errors.push(`price: \`${price}\` must be one of ${PRICES.join(', ')}`);
  } else if (q.metric === 'cost' && price !== 'nat' && settings && settings[PRICE_SETTINGS[price]] === undefined) {
    // natPricePerGb has a default (0.045); the others are asked only when set.
    errors.push(`price: ${price} has no price; set ${PRICE_SETTINGS[price]} in the datasource`);
  }
  if (typeof q.rawQuery === 'string') {
    return errors;
  }
  const distinct = q.metric === 'distinct';
  const d = q.distinctField;
  if (distinct) {
    if (d === undefined || d === null || d === '') {
      errors.push('distinctField: metric distinct counts the distinct values of a field; name it, e.g. dstport');
    } else if (typeof d !== 'string') {
      errors.push(`distinctField: ${JSON.stringify(d)} must be a field name`);
    } else if (isRelative(d) && q.direction !== 'in' && q.direction !== 'out') {
      errors.push(`distinctField: \`${d}\` is relative to the direction; use direction in or out`);
    } else if (!field(d)) {
      errors.push(`distinctField: \`${d}\` is not a field of the records`);
    }
    if (q.other) {
      errors.push('other: distinct counts do not add up; `other` needs bytes, packets, records or cost');
    }
    if (q.share) {
      errors.push('share: distinct counts do not add up to a total; a share needs bytes, packets, records or cost');
    }
  }
  if (q.rate && (distinct || q.metric === 'cost')) {
    errors.push('rate: only bytes, packets and records are rates; turn rate off');
  }
  if (q.format === 'nodegraph' && !q.rawQuery) {
    if (!Array.isArray(q.groupBy) || q.groupBy.length !== 2) {
      errors.push('groupBy: a node graph draws edges between the values of two fields; group by exactly two, such as workload and remote_service');
    }
    if (q.other || q.share) {
      errors.push('format: a node graph shows its top edges; turn other and share off');
    }
  }
  if (q.share) {
    const grouped = Array.isArray(q.groupBy) && q.groupBy.length > 0;
    const format = q.format ?? 'series';
    if (!grouped || (format !== 'table' && format !== 'series')) {
      errors.push("share: a share is each group's part of the total; use format table or series with groupBy");
    }
    if (q.rate) {
      errors.push('share: a share is already per bucket; turn rate off');
    }
  }
  return errors;
}

/**
 * `order`, as the backend checks it: asc or desc; `desc` is the default of
 * every format, `asc` (the oldest records first) only exists for logs.
 */
function validateOrder(q: FlowQuery): string[] {
  const order = q.order as unknown;
  if (order === undefined || order === null) {
    return [];
  }
  if (!LOG_ORDERS.includes(order as LogOrder)) {
    return [`order: ${typeof order === 'string' ? `\`${order}\`` : JSON.stringify(order)} must be asc or desc`];
  }
  if (order === 'asc' && (q.format ?? 'series') !== 'logs') {
    return ['order: only logs have an order (asc: the oldest records first); use format logs'];
  }
  return [];
}

/**
 * Problems of a (migrated) query, each naming the field; empty = valid.
 * `fields`: the fields the datasource's records have, if known; `settings`:
 * the datasource's settings, if known (the prices of `metric: cost`).
 */
export function validateQuery(q: FlowQuery, fields?: readonly string[], settings?: QuerySettings): string[] {
  const errors: string[] = [];
  const field = (name: string) => (fields ? fields.includes(name) : isQueryField(name));
  if (q.version !== undefined && q.version !== 1) {
    errors.push(`version: ${q.version} is not supported; this plugin reads version 1`);
  }
  if (q.rawQuery !== undefined && q.rawQuery !== null) {
    if (typeof q.rawQuery !== 'string') {
      errors.push('rawQuery: must be a string');
    } else if (q.rawQuery.trim() === '') {
      errors.push('rawQuery: is empty; write a query or switch to the builder');
    }
  }
  if (q.format !== undefined && !FORMATS.includes(q.format)) {
    errors.push(`format: \`${q.format}\` must be one of ${FORMATS.join(', ')}`);
  }
  if (q.metric !== undefined && !METRICS.includes(q.metric)) {
    errors.push(`metric: \`${q.metric}\` must be one of ${METRICS.join(', ')}`);
  }
  if (q.direction !== undefined && !DIRECTIONS.includes(q.direction)) {
    errors.push(`direction: \`${q.direction}\` must be one of ${DIRECTIONS.join(', ')}`);
  }
  if (q.groupBy !== undefined) {
    if (!Array.isArray(q.groupBy)) {
      errors.push('groupBy: must be a list of field names');
    } else {
      for (const g of q.groupBy) {
        if (!field(g)) {
          errors.push(`groupBy: \`${g}\` is not a field of the records`);
        }
      }
      if (new Set(q.groupBy).size !== q.groupBy.length) {
        errors.push('groupBy: a field appears twice');
      }
    }
  }
  if (q.limit !== undefined && !(Number.isInteger(q.limit) && q.limit >= 0)) {
    errors.push(`limit: ${q.limit} must be a whole number, 0 for no limit`);
  }
  if (q.rate && q.format !== undefined && q.format !== 'series') {
    errors.push(`rate: only applies to series, not ${q.format}`);
  }
  errors.push(...validateMetric(q, field, settings));
  errors.push(...validateOrder(q));
  if (q.filters !== undefined) {
    if (!Array.isArray(q.filters)) {
      errors.push('filters: must be a list of {field, op, value}');
    } else {
      for (const f of q.filters) {
        const e = validateFilter(f, fields);
        if (e) {
          errors.push(e);
        }
      }
    }
  }
  const id = q.interfaceId;
  const idList = Array.isArray(id) && id.every((v) => typeof v === 'string');
  if (id !== undefined && id !== null && typeof id !== 'string' && !idList) {
    errors.push('interfaceId: must be an interface id or a list of them');
  } else if (idList && (id as string[]).some((v) => v.trim() === '')) {
    errors.push('interfaceId: an interface between commas is empty');
  }
  return errors;
}

/**
 * `names.networks` as text: one `CIDR name` per line (`#` starts a
 * comment); the first problem in the backend's words (src/names/networks.rs).
 */
export function validateNamesNetworks(text: string): string | undefined {
  const seen = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].split('#')[0].trim();
    if (line === '') {
      continue;
    }
    const [cidr, ...rest] = line.split(/\s+/);
    const name = rest.join(' ').trim();
    const bad = validateCidr(cidr);
    if (bad) {
      return `line ${i + 1}: ${bad}`;
    }
    if (name === '') {
      return `line ${i + 1}: ${cidr} has no name`;
    }
    const before = seen.get(cidr);
    if (before !== undefined) {
      return `line ${i + 1}: ${cidr} is named twice (${before} and ${name})`;
    }
    seen.set(cidr, name);
  }
  return undefined;
}

/** `names.kubernetes.url`: empty (the rollup store) or an http(s) URL. */
export function validateNamesKubernetesUrl(text: string | undefined): string | undefined {
  if (!text || text.trim() === '') {
    return undefined;
  }
  let url: URL | undefined;
  try {
    url = new URL(text.trim());
  } catch {
    url = undefined;
  }
  return !url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '' || url.username !== ''
    ? `names.kubernetes.url \`${text.trim()}\` must be an http(s) URL without credentials, such as ${ROLLUPS_URL_EXAMPLE}`
    : undefined;
}
