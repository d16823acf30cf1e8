import React, { useState } from 'react';
import { FieldSet, InlineField, InlineSwitch, Input } from '@grafana/ui';

import { FlowDataSourceOptions, Price, PRICE_SETTINGS, SETTINGS_DEFAULTS } from '../../types';
import { validateCidr, validateInterfaceId, validatePricePerGb } from '../../validation';
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

/** The prices `metric: cost` can use, as the config editor shows them. */
const PRICE_INPUTS: ReadonlyArray<{ price: Price; label: string; placeholder: string; tooltip: string }> = [
  {
    price: 'nat',
    label: CONFIG.natPricePerGb,
    placeholder: String(SETTINGS_DEFAULTS.natPricePerGb),
    tooltip:
      'Metric cost, price NAT processing, and the cost column: USD per GB (10^9 bytes) of NAT gateway data processing; 0.045 when empty',
  },
  {
    price: 'egress',
    label: CONFIG.egressPricePerGb,
    placeholder: '0.09',
    tooltip: 'Metric cost, price Internet egress: USD per GB of data transfer out to the internet; empty = a query cannot use it',
  },
  {
    price: 'crossAz',
    label: CONFIG.crossAzPricePerGb,
    placeholder: '0.01',
    tooltip: 'Metric cost, price Cross-AZ: USD per GB of data transfer between Availability Zones; empty = a query cannot use it',
  },
];

/**
 * The NAT pricing as one concept: earlier versions' `costPerGb` (the cost
 * column's own price) read as the cost column on and, when `natPricePerGb`
 * is unset, as the NAT price. Editing either writes this form and drops
 * `costPerGb`.
 */
export function natPricing(jd: FlowDataSourceOptions): Pick<FlowDataSourceOptions, 'costColumn' | 'natPricePerGb' | 'costPerGb'> {
  return {
    costColumn: jd.costColumn ?? jd.costPerGb !== undefined,
    natPricePerGb: jd.natPricePerGb ?? jd.costPerGb,
    costPerGb: undefined,
  };
}

/** The inside networks (directions are relative to them), the default interface, cost and prices. */
export function TrafficSection({ options, onEdit }: SectionProps) {
  const jd = options.jsonData;
  // The text as typed; the list in jsonData is what it parses to.
  const [cidrText, setCidrText] = useState((jd.insideCidrs ?? []).join(', '));
  const cidrError = splitCidrs(cidrText)
    .map(validateCidr)
    .find((e) => e !== undefined);
  const interfaceError = validateInterfaceId(jd.interfaceId ?? '');
  const pricing = natPricing(jd);
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
        label={CONFIG.costColumn}
        labelWidth={LABEL_WIDTH}
        tooltip="Adds a cost column to byte stats and tables, priced at the NAT price per GB"
      >
        <InlineSwitch
          aria-label={CONFIG.costColumn}
          value={pricing.costColumn}
          onChange={() => onEdit({ jsonData: { ...pricing, costColumn: !pricing.costColumn } })}
        />
      </InlineField>
      {PRICE_INPUTS.map(({ price, label, placeholder, tooltip }) => {
        const key = PRICE_SETTINGS[price];
        const value = price === 'nat' ? pricing.natPricePerGb : jd[key];
        const error = validatePricePerGb(price, value);
        return (
          <InlineField key={key} label={label} labelWidth={LABEL_WIDTH} invalid={!!error} error={error} tooltip={tooltip}>
            <NumberInput
              aria-label={label}
              width={12}
              placeholder={placeholder}
              value={value}
              onChange={(value) => {
                const jsonData: Partial<FlowDataSourceOptions> = price === 'nat' ? { ...pricing } : {};
                jsonData[key] = value;
                onEdit({ jsonData });
              }}
            />
          </InlineField>
        );
      })}
    </FieldSet>
  );
}
