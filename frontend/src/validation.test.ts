import { AWS_DEFAULT_FORMAT, formatFields, NAT_GATEWAY_FORMAT, presetOf } from './fields';
import { FlowQuery } from './types';
import {
  rollupsResolutionMs,
  validateCidr,
  validateFilter,
  validateInterfaceId,
  validatePricePerGb,
  validateQuery,
  validateRecordFormat,
  validateRollups,
  validateRollupsBasicAuthUser,
  validateRollupsResolution,
  validateRollupsStamps,
  validateRollupsUrl,
  validateStreamSelector,
  validateSplitInterval,
  validateTimeout,
  validateUrl,
} from './validation';

describe('validateRecordFormat', () => {
  it('accepts the presets', () => {
    expect(validateRecordFormat(AWS_DEFAULT_FORMAT)).toBeUndefined();
    expect(validateRecordFormat(NAT_GATEWAY_FORMAT)).toBeUndefined();
    expect(formatFields(NAT_GATEWAY_FORMAT)).toHaveLength(19);
    expect(formatFields('')).toHaveLength(14);
  });

  it('names what is wrong, like the backend', () => {
    expect(validateRecordFormat('${srcaddr}  ${bytes}')).toContain('single spaces');
    expect(validateRecordFormat('${srcaddr} ${pkt_srcaddr}')).toContain('`pkt_srcaddr` is not an AWS flow-log field (AWS writes it `pkt-srcaddr`)');
    expect(validateRecordFormat('${srcaddr} ${nope}')).toContain('`nope` is not an AWS flow-log field; known fields: version, account-id');
    expect(validateRecordFormat('${bytes} ${bytes}')).toBe('`bytes` appears twice');
    expect(validateRecordFormat('srcaddr bytes')).toContain('`srcaddr` is not a ${field} token');
    expect(validateRecordFormat('  ')).toContain('empty');
    expect(formatFields('${bytes} ${nope}')).toBeUndefined();
  });

  it('knows the presets', () => {
    expect(presetOf(undefined)).toBe('aws-default');
    expect(presetOf(` ${NAT_GATEWAY_FORMAT} `)).toBe('nat-gateway');
    expect(presetOf('${srcaddr} ${bytes}')).toBe('custom');
  });
});

describe('validateCidr', () => {
  it('accepts networks and bare addresses', () => {
    for (const c of ['10.0.32.0/20', '10.0.48.7', '0.0.0.0/0', '2001:db8::/32', '::1', 'fd00::/8', '::ffff:10.0.0.1']) {
      expect(validateCidr(c)).toBeUndefined();
    }
  });

  it('rejects host bits, bad prefixes and non-addresses', () => {
    expect(validateCidr('10.0.32.1/20')).toBe('`10.0.32.1/20` has host bits set; did you mean 10.0.32.0/20?');
    expect(validateCidr('2001:db8::1/32')).toContain('did you mean 2001:db8::/32');
    expect(validateCidr('10.0.32.0/33')).toContain('prefix');
    expect(validateCidr('pods')).toContain('is not a CIDR');
    expect(validateCidr('10.0.256.0/24')).toContain('is not a CIDR');
    expect(validateCidr('1:2:3:4:5:6:7:8:9')).toContain('is not a CIDR');
    expect(validateCidr('10.0.0.0/8/8')).toContain('is not a CIDR');
  });
});

describe('validateStreamSelector', () => {
  it('accepts what the backend accepts', () => {
    for (const s of ['', '{}', '{logtype="flow", environment="ops"}', '{a=~"ops|prod" ,x!=`a"b`, y!~"\\\\d+"}']) {
      expect(validateStreamSelector(s)).toBeUndefined();
    }
  });

  it('rejects with the reason', () => {
    expect(validateStreamSelector('logtype="flow"')).toContain('braces');
    expect(validateStreamSelector('{logtype=flow}')).toContain('quoted string');
    expect(validateStreamSelector('{"a"="b"}')).toContain('label name');
    expect(validateStreamSelector('{a="b" c="d"}')).toContain('expected `,`');
    expect(validateStreamSelector('{a="unterminated}')).toContain('quoted string');
  });
});

describe('settings checks', () => {
  it('checks URL, timeout and interface id', () => {
    expect(validateUrl('http://localhost:9428')).toBeUndefined();
    expect(validateUrl('')).toContain('empty');
    expect(validateUrl('ftp://x')).toContain('http://');
    expect(validateUrl('http://u:p@x')).toContain('credentials');
    expect(validateTimeout(0)).toContain('between');
    expect(validateTimeout(30)).toBeUndefined();
  });

  it('validates the Loki split interval as the backend does', () => {
    for (const ok of [undefined, '', '0', '1h', '30m', '1h30m', '1d', '7d', '90s']) {
      expect(validateSplitInterval(ok)).toBeUndefined();
    }
    expect(validateSplitInterval('30s')).toContain('from 1m to 7d');
    expect(validateSplitInterval('8d')).toContain('from 1m to 7d');
    expect(validateSplitInterval('1500ms')).toContain('whole seconds');
    expect(validateSplitInterval('soon')).toContain('is not a duration');
    expect(validateSplitInterval('3600')).toContain('is not a duration');
    expect(validateInterfaceId('eni-0352f8c82da6aa229')).toBeUndefined();
    expect(validateInterfaceId('nat-1')).toContain('does not look like');
  });

  it('checks prices per GB: unset, or a non-negative number', () => {
    expect(validatePricePerGb('nat', 0.045)).toBeUndefined();
    expect(validatePricePerGb('nat', NaN)).toBe('NAT price per GB must be a number, e.g. 0.045');
    expect(validatePricePerGb('nat', -1)).toBe('NAT price per GB -1 must be a non-negative number');
    for (const price of ['nat', 'egress', 'crossAz'] as const) {
      expect(validatePricePerGb(price, undefined)).toBeUndefined();
      expect(validatePricePerGb(price, 0)).toBeUndefined();
      expect(validatePricePerGb(price, 0.02)).toBeUndefined();
    }
    expect(validatePricePerGb('nat', NaN)).toBe('NAT price per GB must be a number, e.g. 0.045');
    expect(validatePricePerGb('egress', -0.09)).toBe('egress price per GB -0.09 must be a non-negative number');
    expect(validatePricePerGb('crossAz', Infinity)).toBe('cross-AZ price per GB Infinity must be a non-negative number');
    expect(validatePricePerGb('crossAz', NaN)).toBe('cross-AZ price per GB must be a number, e.g. 0.01');
  });
});

describe('validateQuery and validateFilter', () => {
  it('names the field of each problem', () => {
    expect(
      validateQuery({
        refId: 'A',
        format: 'table',
        groupBy: ['pkt_srcaddr', 'pod'],
        limit: -1,
        rate: true,
        filters: [
          { field: 'pkt_srcaddr', op: 'cidr', value: '10.0.32.1/20' },
          { field: 'dstport', op: 'range', value: '65535-1024' },
          { field: 'action', op: 'like' as never, value: 'x' },
          { field: 'pkt_srcaddr', op: '=~', value: '(' },
        ],
      })
    ).toEqual([
      'groupBy: `pod` is not a field of the records',
      'limit: -1 must be a whole number, 0 for no limit',
      'rate: only applies to series, not table',
      'filter on pkt_srcaddr: `10.0.32.1/20` has host bits set; did you mean 10.0.32.0/20?',
      'filter on dstport: range `65535-1024` starts after it ends',
      'filter on action: `like` is not one of = != =~ !~ =| !=| cidr !cidr range < <= > >=',
      'filter on pkt_srcaddr: `(` is not a valid regular expression',
    ]);
  });

  it('checks filters against the fields the records have', () => {
    expect(validateFilter({ field: 'pkt_srcaddr', op: '=', value: 'x' }, ['srcaddr'])).toContain('not a field of the records');
    expect(validateFilter({ field: 'action', op: 'cidr', value: '10.0.0.0/8' })).toContain('needs an address field');
    expect(validateFilter({ field: 'srcaddr', op: 'range', value: '1-2' })).toContain('numeric field');
    expect(validateFilter({ field: 'srcaddr', op: '=~', value: '' })).toContain('enter a value');
    // Variables are checked after interpolation.
    expect(validateFilter({ field: 'pkt_srcaddr', op: 'cidr', value: '${net}' })).toBeUndefined();
  });

  it('checks set matches and numeric comparisons', () => {
    expect(validateFilter({ field: 'action', op: '=|', value: ['ACCEPT', 'REJECT'] })).toBeUndefined();
    expect(validateFilter({ field: 'action', op: '!=|', value: 'ACCEPT' })).toContain('needs a list of values');
    expect(validateFilter({ field: 'action', op: '=|', value: [] })).toContain('until then the filter is not applied');
    expect(validateFilter({ field: 'action', op: '=|', value: ['ACCEPT', ''] })).toContain('between commas is empty');
    expect(validateFilter({ field: 'dstport', op: '>=', value: '1024' })).toBeUndefined();
    expect(validateFilter({ field: 'dstport', op: '<', value: '$port' })).toBeUndefined();
    expect(validateFilter({ field: 'dstport', op: '<', value: '10k' })).toContain('must be a whole number');
    expect(validateFilter({ field: 'action', op: '>', value: '1' })).toContain('needs a numeric field');
    expect(validateFilter({ field: 'action', op: '=', value: ['x'] })).toContain('must be a string');
    expect(validateQuery({ refId: 'A', interfaceId: ['eni-a', 7] as unknown as string[] })).toEqual([
      'interfaceId: must be an interface id or a list of them',
    ]);
    expect(validateQuery({ refId: 'A', interfaceId: ['eni-a', ''] })).toEqual([
      'interfaceId: an interface between commas is empty',
    ]);
  });

  it('rejects an empty raw query', () => {
    expect(validateQuery({ refId: 'A', rawQuery: ' ' })).toEqual(['rawQuery: is empty; write a query or switch to the builder']);
  });
});

describe('validateQuery: distinct, cost and share', () => {
  const q = (patch: Partial<FlowQuery>): FlowQuery => ({ refId: 'A', format: 'table', direction: 'any', ...patch });

  it('accepts both new metrics', () => {
    expect(validateQuery(q({ metric: 'distinct', distinctField: 'dstport', groupBy: ['pkt_srcaddr'] }))).toEqual([]);
    expect(validateQuery(q({ metric: 'distinct', distinctField: 'outside_addr', direction: 'in' }))).toEqual([]);
    expect(validateQuery(q({ metric: 'cost' }))).toEqual([]);
    const costShare = q({ metric: 'cost', price: 'crossAz', format: 'series', groupBy: ['pkt_dstaddr'], share: true });
    expect(validateQuery(costShare)).toEqual([]);
    expect(validateQuery(q({ metric: 'bits' as never }))).toEqual([
      'metric: `bits` must be one of bytes, packets, records, distinct, cost',
    ]);
  });

  it('needs distinctField, a field of the records, for metric distinct', () => {
    expect(validateQuery(q({ metric: 'distinct' }))).toEqual([
      'distinctField: metric distinct counts the distinct values of a field; name it, e.g. dstport',
    ]);
    expect(validateQuery(q({ metric: 'distinct', distinctField: '' }))).toEqual([
      'distinctField: metric distinct counts the distinct values of a field; name it, e.g. dstport',
    ]);
    expect(validateQuery(q({ metric: 'distinct', distinctField: 'pod' }))).toEqual([
      'distinctField: `pod` is not a field of the records',
    ]);
    expect(validateQuery(q({ metric: 'distinct', distinctField: 'pkt_dstaddr' }), ['srcaddr', 'dstaddr'])).toEqual([
      'distinctField: `pkt_dstaddr` is not a field of the records',
    ]);
    expect(validateQuery(q({ metric: 'distinct', distinctField: 7 as never }))).toEqual(['distinctField: 7 must be a field name']);
    // The direction-relative addresses count with direction in or out only.
    for (const direction of ['any', 'all'] as const) {
      expect(validateQuery(q({ metric: 'distinct', distinctField: 'inside_addr', direction }))).toEqual([
        'distinctField: `inside_addr` is relative to the direction; use direction in or out',
      ]);
    }
    expect(validateQuery(q({ metric: 'distinct', distinctField: 'inside_addr', direction: 'out' }), ['inside_addr'])).toEqual([]);
    // Kept by an editor that switched metric, or under a raw query: not asked.
    expect(validateQuery(q({ metric: 'bytes', distinctField: 'pod' }))).toEqual([]);
    expect(validateQuery(q({ metric: 'distinct', rawQuery: '* | stats count() records' }))).toEqual([]);
  });

  it('rejects other, share and rate where distinct counts and costs cannot have them', () => {
    expect(
      validateQuery(q({ metric: 'distinct', distinctField: 'dstport', groupBy: ['pkt_srcaddr'], limit: 5, other: true }))
    ).toEqual(['other: distinct counts do not add up; `other` needs bytes, packets, records or cost']);
    expect(validateQuery(q({ metric: 'distinct', distinctField: 'dstport', groupBy: ['pkt_srcaddr'], share: true }))).toEqual([
      'share: distinct counts do not add up to a total; a share needs bytes, packets, records or cost',
    ]);
    for (const metric of ['distinct', 'cost'] as const) {
      expect(validateQuery(q({ metric, distinctField: 'dstport', format: 'series', rate: true }))).toEqual([
        'rate: only bytes, packets and records are rates; turn rate off',
      ]);
    }
    expect(validateQuery(q({ metric: 'records', format: 'series', rate: true }))).toEqual([]);
  });

  it('takes a share of grouped tables and series, never of a rate', () => {
    const why = "share: a share is each group's part of the total; use format table or series with groupBy";
    expect(validateQuery(q({ share: true, groupBy: ['pkt_srcaddr'] }))).toEqual([]);
    expect(validateQuery(q({ share: true, format: 'series', groupBy: ['pkt_srcaddr'] }))).toEqual([]);
    expect(validateQuery(q({ share: true }))).toEqual([why]);
    expect(validateQuery(q({ share: true, groupBy: [] }))).toEqual([why]);
    expect(validateQuery(q({ share: true, format: 'stat', groupBy: ['pkt_srcaddr'] }))).toEqual([why]);
    expect(validateQuery(q({ share: true, format: 'logs', groupBy: ['pkt_srcaddr'] }))).toEqual([why]);
    expect(validateQuery(q({ share: true, format: 'series', groupBy: ['pkt_srcaddr'], rate: true }))).toEqual([
      'share: a share is already per bucket; turn rate off',
    ]);
    expect(validateQuery(q({ share: true, rawQuery: 'x' }))).toEqual([]);
  });

  it('checks price, and that the datasource has it', () => {
    expect(validateQuery(q({ metric: 'cost', price: 'retail' as never }))).toEqual([
      'price: `retail` must be one of nat, egress, crossAz',
    ]);
    // Read whatever the metric, as the backend does.
    expect(validateQuery(q({ metric: 'bytes', price: 'retail' as never }))).toEqual([
      'price: `retail` must be one of nat, egress, crossAz',
    ]);
    const unset = {};
    expect(validateQuery(q({ metric: 'cost' }), undefined, unset)).toEqual([]);
    expect(validateQuery(q({ metric: 'cost', price: 'nat' }), undefined, unset)).toEqual([]);
    expect(validateQuery(q({ metric: 'cost', price: 'egress' }), undefined, unset)).toEqual([
      'price: egress has no price; set egressPricePerGb in the datasource',
    ]);
    expect(validateQuery(q({ metric: 'cost', price: 'crossAz' }), undefined, { egressPricePerGb: 0.09 })).toEqual([
      'price: crossAz has no price; set crossAzPricePerGb in the datasource',
    ]);
    expect(validateQuery(q({ metric: 'cost', price: 'egress' }), undefined, { egressPricePerGb: 0 })).toEqual([]);
    // Another metric asks no price; unknown settings are left to the backend.
    expect(validateQuery(q({ metric: 'bytes', price: 'egress' }), undefined, unset)).toEqual([]);
    expect(validateQuery(q({ metric: 'cost', price: 'egress' }))).toEqual([]);
  });

  it('checks order as the backend does: asc or desc, asc only for logs', () => {
    expect(validateQuery(q({ format: 'logs', order: 'asc' }))).toEqual([]);
    expect(validateQuery(q({ format: 'logs', order: 'desc' }))).toEqual([]);
    // desc is what every format does anyway.
    expect(validateQuery(q({ format: 'stat', order: 'desc' }))).toEqual([]);
    expect(validateQuery(q({ format: 'table', order: 'asc' }))).toEqual([
      'order: only logs have an order (asc: the oldest records first); use format logs',
    ]);
    expect(validateQuery(q({ format: 'logs', order: 'up' as never }))).toEqual(['order: `up` must be asc or desc']);
    expect(validateQuery(q({ format: 'logs', order: 1 as never }))).toEqual(['order: 1 must be asc or desc']);
  });
});

describe('rollups settings (src/rollups/settings.rs)', () => {
  it('reads no section, no url or a blank url as no rollups, whatever else the section holds', () => {
    expect(validateRollups(undefined)).toBeUndefined();
    expect(validateRollups(null)).toBeUndefined();
    expect(validateRollups({})).toBeUndefined();
    expect(validateRollups({ url: ' ' })).toBeUndefined();
    expect(validateRollups({ url: null, resolution: 'bogus', stamps: 'middle' })).toBeUndefined();
    expect(validateRollupsUrl(undefined)).toBeUndefined();
    expect(validateRollupsUrl('')).toBeUndefined();
  });

  it('accepts a store with defaults and with every setting', () => {
    expect(validateRollups({ url: 'http://vm:8428/' })).toBeUndefined();
    expect(validateRollups({ url: 'https://vm', resolution: '5m', stamps: 'start', basicAuthUser: 'u' })).toBeUndefined();
    expect(validateRollups({ url: ' http://victoriametrics:8428 ', resolution: ' 1m ', stamps: 'end' })).toBeUndefined();
  });

  it('names the key of each problem, as the backend does', () => {
    expect(validateRollups('http://vm')).toBe('rollups must be an object such as {"url": "http://vm:8428"}');
    expect(validateRollups(['http://vm'])).toMatch(/^rollups must be an object/);
    expect(validateRollups({ url: 'vm:8428' })).toBe('rollups.url `vm:8428` must be an http(s) URL such as http://victoriametrics:8428');
    expect(validateRollups({ url: 'http://a:b@vm' })).toBe('rollups.url must not hold credentials; set rollups.basicAuthUser and the password');
    expect(validateRollups({ url: 'http://vm', resolution: '90ms' })).toBe('rollups.resolution `90ms` must be whole seconds up to a day, such as 1m or 5m, or several separated by commas, such as 1m,1h');
    expect(validateRollups({ url: 'http://vm', stamps: 'middle' })).toBe(
      "rollups.stamps `middle` must be `end` (vmalert evaluating live, the Loki ruler) or `start` (vmalert's replay)"
    );
    expect(validateRollups({ url: 7 })).toBe('rollups.url must be a string, not 7');
    expect(validateRollups({ url: 'http://vm', resolution: 60 })).toBe('rollups.resolution must be a string, not 60');
    expect(validateRollups({ url: 'http://vm', basicAuthUser: true })).toBe('rollups.basicAuthUser must be a string, not true');
    // The first problem in the backend's order: url, resolution, stamps, user.
    expect(validateRollups({ url: 'http://vm', resolution: 'x', stamps: 'y' })).toMatch(/^rollups\.resolution/);
  });

  it('checks the url: http(s) with a host and no credentials', () => {
    for (const ok of ['http://victoriametrics:8428', 'https://vm.example.com/select/0/prometheus', 'http://[::1]:8428', 'HTTP://VM']) {
      expect(validateRollupsUrl(ok)).toBeUndefined();
    }
    for (const bad of ['vm:8428', 'localhost:8428', 'ftp://vm', 'ws://vm', 'http://', 'http://vm:99999', 'http://v m']) {
      expect(validateRollupsUrl(bad)).toBe(`rollups.url \`${bad}\` must be an http(s) URL such as http://victoriametrics:8428`);
    }
    expect(validateRollupsUrl('http://reader@vm')).toMatch(/must not hold credentials/);
    expect(validateRollupsUrl('https://:pw@vm')).toMatch(/must not hold credentials/);
  });

  it('checks the resolution: whole seconds from 1s to 1d, 1m when blank', () => {
    for (const [text, ms] of [
      ['1s', 1_000],
      ['1m', 60_000],
      ['5m', 300_000],
      ['90s', 90_000],
      ['1m30s', 90_000],
      ['1h', 3_600_000],
      ['1d', 86_400_000],
      ['24h', 86_400_000],
      ['1h30m', 5_400_000],
      ['0d1s', 1_000],
    ] as const) {
      expect(validateRollupsResolution(text)).toBeUndefined();
      expect(rollupsResolutionMs(text)).toBe(ms);
    }
    expect(validateRollupsResolution(undefined)).toBeUndefined();
    expect(validateRollupsResolution('  ')).toBeUndefined();
    expect(rollupsResolutionMs(undefined)).toBe(60_000);
    for (const bad of ['999ms', '1000ms', '1.5m', '1h 30m', '2 min', '1.5s', '0', '0s', '25h', '86401s', '1d1s', '2d', '1w', 'm', '1', '5 x', '-1m', '1e3s', '1M', '9999999999s']) {
      expect(validateRollupsResolution(bad)).toBe(
        `rollups.resolution \`${bad}\` must be whole seconds up to a day, such as 1m or 5m, or several separated by commas, such as 1m,1h`
      );
      expect(rollupsResolutionMs(bad)).toBeUndefined();
    }
    // Several, a group each.
    expect(validateRollupsResolution('1m,1h')).toBeUndefined();
    expect(validateRollupsResolution(' 1h , 30m ')).toBeUndefined();
    for (const bad of ['1m,', ',1h', '1m,,1h', '1m,1w']) {
      expect(validateRollupsResolution(bad)).toMatch(/must be whole seconds up to a day, such as 1m or 5m, or several/);
    }
  });

  it('checks stamps and the basic auth user', () => {
    expect(validateRollupsStamps(undefined)).toBeUndefined();
    expect(validateRollupsStamps('end')).toBeUndefined();
    expect(validateRollupsStamps('start')).toBeUndefined();
    expect(validateRollupsStamps(' start ')).toBeUndefined();
    expect(validateRollupsStamps('End')).toMatch(/^rollups\.stamps `End` must be `end`/);
    expect(validateRollupsBasicAuthUser('reader')).toBeUndefined();
    expect(validateRollupsBasicAuthUser(undefined)).toBeUndefined();
    expect(validateRollupsBasicAuthUser(1)).toBe('rollups.basicAuthUser must be a string, not 1');
  });
});
