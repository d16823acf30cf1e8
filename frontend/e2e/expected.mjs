// What the browser test (e2e/run.mjs) expects: the LogsQL `flowlens render`
// prints and the query objects the editor emits.

// ---- The expected LogsQL, exactly as `flowlens render` prints it for the same
// query and settings (tests/browser.rs's jsonData, range = the fixture day).
// (No header-line filter: the interface condition rejects S3 header lines.)
export const HEAD =
  '_time:[2026-11-20T00:00:00Z, 2026-11-21T00:00:00Z) {logtype="flow", environment="ops"} "eni-0352f8c82da6aa229"';
export const lines = (...l) => l.join('\n');
// Skipped fields are `<_>`; records holding a quote, apostrophe or backtick
// are read by a second pattern skipping with `<plain:_>`.
export const extract = (named) => {
  const pattern = (skip) =>
    Array.from({ length: 18 }, (_, i) => (named[i] ? `<plain:${named[i]}>` : skip)).join(' ') + ' ';
  const quoted = '_msg:~"[\\"\'`]"';
  return lines(
    `| extract if (!(${quoted})) "${pattern('<_>')}"`,
    `| extract if (${quoted}) "${pattern('<plain:_>')}"`,
  );
};
export const EXTRACT_BOTH = extract({ 5: 'interface_id', 11: 'pkt_srcaddr', 12: 'pkt_dstaddr', 17: 'bytes' });
export const EXTRACT_DST = extract({ 5: 'interface_id', 12: 'pkt_dstaddr', 17: 'bytes' });
export const ENI = 'interface_id:="eni-0352f8c82da6aa229"';
export const ANY = '(pkt_srcaddr:ipv4_range("10.0.32.0/20") or pkt_dstaddr:ipv4_range("10.0.32.0/20"))';
export const IN = 'pkt_dstaddr:ipv4_range("10.0.32.0/20")';
export const EXPECTED = {
  initial: lines(HEAD, EXTRACT_BOTH, `| filter ${ENI} ${ANY}`, '| stats by (_time:60s) sum(bytes) as value'),
  tableAny: lines(HEAD, EXTRACT_BOTH, `| filter ${ENI} ${ANY}`, '| stats sum(bytes) as value'),
  tableIn: lines(HEAD, EXTRACT_DST, `| filter ${ENI} ${IN}`, '| stats sum(bytes) as value'),
  grouped: (limit, filter = '') =>
    lines(
      HEAD,
      EXTRACT_BOTH,
      `| filter ${ENI} ${IN}${filter}`,
      '| replace if (pkt_srcaddr:="-") ("-", "") at pkt_srcaddr',
      '| stats by (pkt_srcaddr) sum(bytes) as value',
      '| math max(value, 0) as value',
      `| sort by (value desc, pkt_srcaddr) limit ${limit}`
    ),
};
export const REGEX_FILTER = ' pkt_dstaddr:~"^(?:10\\\\.0\\\\.3[2-9]\\\\..*)$"';
// `${pod}` (two values) becomes an alternation of the escaped values.
export const POD_FILTER = ' pkt_dstaddr:~"^(?:(10\\\\.0\\\\.32\\\\.7|10\\\\.0\\\\.32\\\\.15))$"';

// ---- The query objects the editor must emit.
export const BASE = {
  refId: 'A',
  version: 1,
  format: 'series',
  metric: 'bytes',
  direction: 'any',
  groupBy: [],
  limit: 0,
  other: false,
  rate: true,
  share: false,
  filters: [],
  interfaceId: null,
  rawQuery: null,
};
