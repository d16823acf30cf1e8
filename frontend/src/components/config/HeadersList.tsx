import React from 'react';
import { Button, IconButton, InlineField, InlineFieldRow, Input, SecretInput } from '@grafana/ui';

import { FlowDataSourceOptions } from '../../types';
import { CONFIG } from '../selectors';
import { LABEL_WIDTH, SecretKey, SectionProps } from './options';

/** The header numbers in use: `httpHeaderName<n>` keys of jsonData, ascending. */
export function headerNumbers(jsonData: FlowDataSourceOptions): number[] {
  return Object.keys(jsonData)
    .map((k) => /^httpHeaderName(\d+)$/.exec(k))
    .filter((m): m is RegExpExecArray => m !== null && jsonData[m[0] as `httpHeaderName${number}`] !== undefined)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

const VALID_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Extra headers (e.g. X-Scope-OrgID, AccountID) by Grafana's convention:
 * names in jsonData `httpHeaderName<n>`, values as secrets `httpHeaderValue<n>`.
 * Rows keep their number when others are removed, so stored secrets stay paired.
 */
export function HeadersList({ options, onEdit }: SectionProps) {
  const numbers = headerNumbers(options.jsonData);
  const fields = options.secureJsonFields ?? {};
  const secrets = (options.secureJsonData ?? {}) as Record<string, string | undefined>;
  return (
    <div>
      {numbers.map((n) => {
        const nameKey = `httpHeaderName${n}` as const;
        const valueKey = `httpHeaderValue${n}` as SecretKey;
        const name = options.jsonData[nameKey] ?? '';
        const error = name !== '' && !VALID_NAME.test(name) ? `\`${name}\` is not a valid header name` : undefined;
        return (
          <InlineFieldRow key={n}>
            <InlineField label={`Header ${n}`} labelWidth={LABEL_WIDTH} invalid={!!error} error={error}>
              <Input
                aria-label={CONFIG.headerName(n)}
                width={24}
                placeholder="X-Scope-OrgID"
                value={name}
                onChange={(e) => onEdit({ jsonData: { [nameKey]: e.currentTarget.value } })}
              />
            </InlineField>
            <InlineField>
              <SecretInput
                aria-label={CONFIG.headerValue(n)}
                width={30}
                placeholder="value"
                isConfigured={Boolean(fields[valueKey])}
                value={secrets[valueKey] ?? ''}
                onChange={(e) => onEdit({ secrets: { [valueKey]: e.currentTarget.value } })}
                onReset={() => onEdit({ reset: [valueKey] })}
              />
            </InlineField>
            <IconButton
              name="trash-alt"
              tooltip={CONFIG.removeHeader(n)}
              onClick={() => onEdit({ jsonData: { [nameKey]: undefined }, reset: [valueKey] })}
            />
          </InlineFieldRow>
        );
      })}
      <Button
        variant="secondary"
        size="sm"
        icon="plus"
        onClick={() => {
          const n = numbers.length ? numbers[numbers.length - 1] + 1 : 1;
          onEdit({ jsonData: { [`httpHeaderName${n}`]: '' } });
        }}
      >
        {CONFIG.addHeader}
      </Button>
    </div>
  );
}
