import React from 'react';
import { FieldSet, InlineField, InlineSwitch, SecretTextArea } from '@grafana/ui';

import { CONFIG } from '../selectors';
import { LABEL_WIDTH, SectionProps } from './options';

/** TLS: skip verification, or trust an extra CA certificate (a secret). */
export function TlsSection({ options, onEdit }: SectionProps) {
  const skip = options.jsonData.tlsSkipVerify ?? false;
  return (
    <FieldSet label="TLS">
      <InlineField label={CONFIG.tlsSkipVerify} labelWidth={LABEL_WIDTH} tooltip="Do not verify the server's certificate">
        <InlineSwitch aria-label={CONFIG.tlsSkipVerify} value={skip} onChange={() => onEdit({ jsonData: { tlsSkipVerify: !skip } })} />
      </InlineField>
      <InlineField label={CONFIG.tlsCaCert} labelWidth={LABEL_WIDTH} tooltip="PEM certificate of a private CA" disabled={skip}>
        <SecretTextArea
          aria-label={CONFIG.tlsCaCert}
          cols={45}
          rows={5}
          placeholder="-----BEGIN CERTIFICATE-----"
          isConfigured={Boolean(options.secureJsonFields?.tlsCACert)}
          value={options.secureJsonData?.tlsCACert ?? ''}
          onChange={(e) => onEdit({ secrets: { tlsCACert: e.currentTarget.value } })}
          onReset={() => onEdit({ reset: ['tlsCACert'] })}
        />
      </InlineField>
    </FieldSet>
  );
}
