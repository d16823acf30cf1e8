import { AWS_DEFAULT_FORMAT, formatFields, NAT_GATEWAY_FORMAT, presetOf } from './fields';
import {
  validateCidr,
  validateFilter,
  validateInterfaceId,
  validateQuery,
  validateRecordFormat,
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
