// Log rows and logs frames as the backend answers them (explore/*.test.ts, datasource.test.ts).
import { DataFrame, FieldType, LogLevel, LogRowModel } from '@grafana/data';

export const T = 1_700_000_000_123;
export const BODY = 'eu-west-1 vpc-1 euw1-az1 subnet-1 - eni-0352f8c82da6aa229 egress 10.0.32.7 1.2.3.4 40000 443';

export function logsFrame(rows: Array<[number, string]>, refId = 'log-context-backward'): DataFrame {
  return {
    refId,
    name: 'flow records',
    length: rows.length,
    fields: [
      { name: 'labels', type: FieldType.other, config: {}, values: rows.map(() => ({ logtype: 'flow' })) },
      { name: 'timestamp', type: FieldType.time, config: {}, values: rows.map(([t]) => t), nanos: rows.map(() => 0) },
      { name: 'body', type: FieldType.string, config: {}, values: rows.map(([, b]) => b) },
      { name: 'id', type: FieldType.string, config: {}, values: rows.map((_, i) => `id-${i}`) },
    ],
  };
}

export function logRow(labels: Record<string, string>, timeEpochMs = T, entry = BODY): LogRowModel {
  const dataFrame = logsFrame([[timeEpochMs, entry]], 'A');
  return {
    entryFieldIndex: 2,
    rowIndex: 0,
    dataFrame,
    entry,
    raw: entry,
    hasAnsi: false,
    hasUnescapedContent: false,
    labels,
    logLevel: LogLevel.unknown,
    timeEpochMs,
    timeEpochNs: `${timeEpochMs}000000`,
    timeFromNow: '',
    timeLocal: '',
    timeUtc: '',
    uid: 'A_0',
  };
}
