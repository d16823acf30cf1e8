import React, { useState } from 'react';
import { FieldSet, InlineField, Input } from '@grafana/ui';

import { validateCidr, validateCostPerGb, validateInterfaceId } from '../../validation';
import { NumberInput } from '../NumberInput';
import { CONFIG } from '../selectors';
import { LABEL_WIDTH, SectionProps } from './options';

/** Splits `10.0.32.0/20, 10.0.48.0/20` (commas or spaces) into CIDRs. */
export function splitCidrs(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The inside networks (directions are relative to them), the default interface, and cost. */
export function TrafficSection({ options, onEdit }: SectionProps) {
  const jd = options.jsonData;
  // The text as typed; the list in jsonData is what it parses to.
  const [cidrText, setCidrText] = useState((jd.insideCidrs ?? []).join(', '));
  const cidrError = splitCidrs(cidrText)
    .map(validateCidr)
    .find((e) => e !== undefined);
  const interfaceError = validateInterfaceId(jd.interfaceId ?? '');
  const costError = validateCostPerGb(jd.costPerGb);
  return (
    <FieldSet label="Traffic">
      <InlineField
        label={CONFIG.insideCidrs}
        labelWidth={LABEL_WIDTH}
        invalid={!!cidrError}
        error={cidrError}
        tooltip="The pod subnets. Direction in = pkt_dstaddr inside, out = pkt_srcaddr inside"
      >
        <Input
          aria-label={CONFIG.insideCidrs}
          width={50}
          placeholder="10.0.32.0/20, 10.0.48.0/20"
          value={cidrText}
          onChange={(e) => {
            setCidrText(e.currentTarget.value);
            onEdit({ jsonData: { insideCidrs: splitCidrs(e.currentTarget.value) } });
          }}
        />
      </InlineField>
      <InlineField
        label={CONFIG.interfaceId}
        labelWidth={LABEL_WIDTH}
        invalid={!!interfaceError}
        error={interfaceError}
        tooltip="Default interface-id filter, e.g. the NAT gateway's ENI; a query can override it"
      >
        <Input
          aria-label={CONFIG.interfaceId}
          width={30}
          placeholder="eni-0352f8c82da6aa229"
          value={jd.interfaceId ?? ''}
          onChange={(e) => onEdit({ jsonData: { interfaceId: e.currentTarget.value.trim() || undefined } })}
        />
      </InlineField>
      <InlineField
        label={CONFIG.costPerGb}
        labelWidth={LABEL_WIDTH}
        invalid={!!costError}
        error={costError}
        tooltip="Optional: price per GB processed (e.g. NAT gateway data processing), adds a cost field"
      >
        <NumberInput
          aria-label={CONFIG.costPerGb}
          width={12}
          placeholder="0.045"
          value={jd.costPerGb}
          onChange={(costPerGb) => onEdit({ jsonData: { costPerGb } })}
        />
      </InlineField>
    </FieldSet>
  );
}
