import React from 'react';
import { SelectableValue } from '@grafana/data';
import { FieldSet, InlineField, Input, RadioButtonGroup, SecretInput } from '@grafana/ui';

import { CONFIG } from '../selectors';
import { HeadersList } from './HeadersList';
import { LABEL_WIDTH, SectionProps } from './options';

type Method = 'none' | 'basic' | 'bearer';

const METHODS: Array<SelectableValue<Method>> = [
  { label: 'None', value: 'none' },
  { label: 'Basic', value: 'basic', description: 'user and password' },
  { label: 'Bearer token', value: 'bearer', description: 'Authorization: Bearer <token>' },
];

/** Basic auth, bearer token and extra headers; secrets go to secureJsonData only. */
export function AuthSection({ options, onEdit }: SectionProps) {
  const method: Method = options.basicAuth ? 'basic' : options.jsonData.bearerAuth ? 'bearer' : 'none';
  const fields = options.secureJsonFields ?? {};
  const secrets = options.secureJsonData ?? {};
  return (
    <FieldSet label="Authentication">
      <InlineField label={CONFIG.authMethod} labelWidth={LABEL_WIDTH}>
        <RadioButtonGroup
          aria-label={CONFIG.authMethod}
          options={METHODS}
          value={method}
          onChange={(m) => onEdit({ top: { basicAuth: m === 'basic' }, jsonData: { bearerAuth: m === 'bearer' } })}
        />
      </InlineField>
      {method === 'basic' && (
        <>
          <InlineField label={CONFIG.basicUser} labelWidth={LABEL_WIDTH} required>
            <Input
              aria-label={CONFIG.basicUser}
              width={40}
              value={options.basicAuthUser ?? ''}
              onChange={(e) => onEdit({ top: { basicAuthUser: e.currentTarget.value } })}
            />
          </InlineField>
          <InlineField label={CONFIG.basicPassword} labelWidth={LABEL_WIDTH}>
            <SecretInput
              aria-label={CONFIG.basicPassword}
              width={40}
              isConfigured={Boolean(fields.basicAuthPassword)}
              value={secrets.basicAuthPassword ?? ''}
              onChange={(e) => onEdit({ secrets: { basicAuthPassword: e.currentTarget.value } })}
              onReset={() => onEdit({ reset: ['basicAuthPassword'] })}
            />
          </InlineField>
        </>
      )}
      {method === 'bearer' && (
        <InlineField label={CONFIG.bearerToken} labelWidth={LABEL_WIDTH} required>
          <SecretInput
            aria-label={CONFIG.bearerToken}
            width={40}
            isConfigured={Boolean(fields.bearerToken)}
            value={secrets.bearerToken ?? ''}
            onChange={(e) => onEdit({ secrets: { bearerToken: e.currentTarget.value } })}
            onReset={() => onEdit({ reset: ['bearerToken'] })}
          />
        </InlineField>
      )}
      <HeadersList options={options} onEdit={onEdit} />
    </FieldSet>
  );
}
