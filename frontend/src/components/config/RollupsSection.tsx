import React, { useState } from 'react';
import { SelectableValue } from '@grafana/data';
import { FieldSet, InlineField, Input, RadioButtonGroup, SecretInput, Text } from '@grafana/ui';

import { FlowDataSourceOptions, RollupSettings, RollupStamps } from '../../types';
import {
  ROLLUPS_DEFAULT_RESOLUTION,
  ROLLUPS_URL_EXAMPLE,
  validateRollups,
  validateRollupsBasicAuthUser,
  validateRollupsResolution,
  validateRollupsStamps,
  validateRollupsUrl,
} from '../../validation';
import { CONFIG } from '../selectors';
import { Edit, LABEL_WIDTH, Options, SecretKey, SectionProps } from './options';

type Method = 'none' | 'basic' | 'bearer';

const METHODS: Array<SelectableValue<Method>> = [
  { label: 'None', value: 'none' },
  { label: 'Basic', value: 'basic', description: 'user and password' },
  { label: 'Bearer token', value: 'bearer', description: 'Authorization: Bearer <token>' },
];

const STAMPS: Array<SelectableValue<RollupStamps>> = [
  {
    label: 'Interval end (live evaluation, Loki ruler)',
    value: 'end',
    description: "vmalert evaluating live and the Loki ruler stamp an interval's sum at its end",
  },
  {
    label: 'Interval start (vmalert replay)',
    value: 'start',
    description: "vmalert's -replay.timeFrom backfill stamps an interval's sum at its start",
  },
];

/** The secrets each method keeps; picking a method clears the others'. */
const METHOD_SECRETS: Readonly<Record<Method, SecretKey[]>> = {
  none: [],
  basic: ['rollupsBasicAuthPassword'],
  bearer: ['rollupsBearerToken'],
};

const isSection = (v: unknown): v is RollupSettings => typeof v === 'object' && v !== null && !Array.isArray(v);

/** jsonData's `rollups` section; anything but an object reads as empty (validateRollups names it). */
export function rollupsSection(jsonData: FlowDataSourceOptions): RollupSettings {
  return isSection(jsonData.rollups) ? jsonData.rollups : {};
}

/**
 * The edit that changes rollup settings: the whole section written, keys
 * without a value dropped, and no section at all when none is left (no url
 * is no rollups to the backend, whatever else the section holds).
 */
export function rollupsEdit(jsonData: FlowDataSourceOptions, change: Partial<RollupSettings>): Edit {
  const merged: Record<string, unknown> = { ...rollupsSection(jsonData), ...change };
  const kept = Object.entries(merged).filter(([, v]) => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === ''));
  return { jsonData: { rollups: kept.length ? (Object.fromEntries(kept) as RollupSettings) : undefined } };
}

/**
 * The method the backend uses: basic when `rollups.basicAuthUser` is set,
 * else bearer when a token is; a stored password without a user shows as
 * basic, so it can be completed or reset.
 */
export function rollupsMethod(options: Options): Method {
  const user = rollupsSection(options.jsonData).basicAuthUser;
  const fields = options.secureJsonFields ?? {};
  const secrets = options.secureJsonData ?? {};
  if (typeof user === 'string' && user.trim() !== '') {
    return 'basic';
  }
  if (fields.rollupsBearerToken || secrets.rollupsBearerToken) {
    return 'bearer';
  }
  return fields.rollupsBasicAuthPassword || secrets.rollupsBasicAuthPassword ? 'basic' : 'none';
}

/** A setting as typed, or as provisioned when it is not a string (its error says so). */
const shown = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

/**
 * The rollup store (README "Rollups: weeks in a second"): a Prometheus-compatible
 * API holding the recording rules' sums per interval, with its own auth; the
 * TLS settings are the datasource's. Secrets go to secureJsonData only.
 */
export function RollupsSection({ options, onEdit }: SectionProps) {
  const jd = options.jsonData;
  const section = rollupsSection(jd);
  const fields = options.secureJsonFields ?? {};
  const secrets = options.secureJsonData ?? {};
  // The stored method when the page opens, then the one picked here: neither
  // a user not typed yet nor a secret just reset flips it.
  const [method, setMethod] = useState<Method>(() => rollupsMethod(options));
  const urlError = (isSection(jd.rollups) ? undefined : validateRollups(jd.rollups)) ?? validateRollupsUrl(section.url);
  const resolutionError = validateRollupsResolution(section.resolution);
  const stampsError = validateRollupsStamps(section.stamps);
  const userError = validateRollupsBasicAuthUser(section.basicAuthUser);
  const edit = (change: Partial<RollupSettings>) => onEdit(rollupsEdit(jd, change));
  const pick = (m: Method) => {
    setMethod(m);
    // Only one method's credentials are kept: the backend prefers a user to a token.
    const reset = (Object.keys(METHOD_SECRETS) as Method[])
      .filter((other) => other !== m)
      .flatMap((other) => METHOD_SECRETS[other])
      .filter((key) => fields[key] || secrets[key]);
    onEdit({ ...(m === 'basic' ? {} : rollupsEdit(jd, { basicAuthUser: undefined })), reset });
  };
  return (
    <FieldSet label="Rollups">
      <Text element="p" color="secondary">
        Read settled parts of a range from recording-rule rollups (generate the rules with <code>flowlens rules</code>)
      </Text>
      <InlineField
        label={CONFIG.rollupsUrl}
        labelWidth={LABEL_WIDTH}
        invalid={!!urlError}
        error={urlError}
        tooltip="A Prometheus-compatible API holding the rollups (VictoriaMetrics, Prometheus, Mimir); empty: no rollups, every query reads the log store (rollups.url)"
      >
        <Input
          aria-label={CONFIG.rollupsUrl}
          width={40}
          placeholder={ROLLUPS_URL_EXAMPLE}
          value={shown(section.url)}
          onChange={(e) => edit({ url: e.currentTarget.value.trim() || undefined })}
        />
      </InlineField>
      <InlineField
        label={CONFIG.rollupsResolution}
        labelWidth={LABEL_WIDTH}
        invalid={!!resolutionError}
        error={resolutionError}
        tooltip="The rules' evaluation intervals as deployed (flowlens rules --resolution): whole seconds from 1s to 1d, such as 1m, 5m, 90s or 1h, or several separated by commas, such as 1m,1h (rollups.resolution)"
      >
        <Input
          aria-label={CONFIG.rollupsResolution}
          width={12}
          placeholder={ROLLUPS_DEFAULT_RESOLUTION}
          value={shown(section.resolution)}
          onChange={(e) => edit({ resolution: e.currentTarget.value || undefined })}
        />
      </InlineField>
      <InlineField
        label={CONFIG.rollupsStamps}
        labelWidth={LABEL_WIDTH}
        invalid={!!stampsError}
        error={stampsError}
        tooltip="How the rule engine stamps an interval's sum; one store holds one kind (rollups.stamps)"
      >
        <RadioButtonGroup
          aria-label={CONFIG.rollupsStamps}
          options={STAMPS}
          value={section.stamps ?? 'end'}
          onChange={(stamps) => edit({ stamps })}
        />
      </InlineField>
      <InlineField
        label={CONFIG.rollupsAuth}
        labelWidth={LABEL_WIDTH}
        tooltip="The rollup store's own authentication (its TLS settings are the datasource's); picking a method clears the other's secret"
      >
        <RadioButtonGroup aria-label={CONFIG.rollupsAuth} options={METHODS} value={method} onChange={pick} />
      </InlineField>
      {method === 'basic' && (
        <>
          <InlineField label={CONFIG.rollupsUser} labelWidth={LABEL_WIDTH} invalid={!!userError} error={userError} required>
            <Input
              aria-label={CONFIG.rollupsUser}
              width={40}
              value={shown(section.basicAuthUser)}
              onChange={(e) => edit({ basicAuthUser: e.currentTarget.value || undefined })}
            />
          </InlineField>
          <InlineField label={CONFIG.rollupsPassword} labelWidth={LABEL_WIDTH}>
            <SecretInput
              aria-label={CONFIG.rollupsPassword}
              width={40}
              isConfigured={Boolean(fields.rollupsBasicAuthPassword)}
              value={secrets.rollupsBasicAuthPassword ?? ''}
              onChange={(e) => onEdit({ secrets: { rollupsBasicAuthPassword: e.currentTarget.value } })}
              onReset={() => onEdit({ reset: ['rollupsBasicAuthPassword'] })}
            />
          </InlineField>
        </>
      )}
      {method === 'bearer' && (
        <InlineField label={CONFIG.rollupsToken} labelWidth={LABEL_WIDTH} required>
          <SecretInput
            aria-label={CONFIG.rollupsToken}
            width={40}
            isConfigured={Boolean(fields.rollupsBearerToken)}
            value={secrets.rollupsBearerToken ?? ''}
            onChange={(e) => onEdit({ secrets: { rollupsBearerToken: e.currentTarget.value } })}
            onReset={() => onEdit({ reset: ['rollupsBearerToken'] })}
          />
        </InlineField>
      )}
    </FieldSet>
  );
}
