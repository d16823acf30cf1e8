import React from 'react';
import { FieldSet, InlineField, InlineSwitch, Input, Text, TextArea } from '@grafana/ui';

import { FlowDataSourceOptions, NamesSettings } from '../../types';
import { validateNamesKubernetesUrl, validateNamesNetworks } from '../../validation';
import { CONFIG } from '../selectors';
import { Edit, LABEL_WIDTH, SectionProps } from './options';

type Kube = Exclude<NamesSettings['kubernetes'], boolean | undefined>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** jsonData's `names` section; anything but an object reads as empty. */
export function namesSection(jsonData: FlowDataSourceOptions): NamesSettings {
  return isObject(jsonData.names) ? jsonData.names : {};
}

/** The edit that changes names settings: keys without a value dropped, no section when none is left. */
export function namesEdit(jsonData: FlowDataSourceOptions, change: Partial<NamesSettings>): Edit {
  const merged: Record<string, unknown> = { ...namesSection(jsonData), ...change };
  const kept = Object.entries(merged).filter(
    ([, v]) => v !== undefined && v !== null && v !== false && !(typeof v === 'string' && v.trim() === '')
  );
  return { jsonData: { names: kept.length ? (Object.fromEntries(kept) as NamesSettings) : undefined } };
}

/**
 * Names instead of addresses (README "Names"): the company's networks, AWS's
 * ip-ranges.json, MMDB files, and kube_pod_info for pods as of each flow's
 * time. Each is optional; Save & test reads each one.
 */
export function NamesSection({ options, onEdit }: SectionProps) {
  const jd = options.jsonData;
  const names = namesSection(jd);
  // A provisioned object shows as the lines it stands for.
  const networks =
    typeof names.networks === 'string'
      ? names.networks
      : isObject(names.networks)
        ? Object.entries(names.networks)
            .map(([cidr, name]) => `${cidr} ${name}`)
            .join('\n')
        : '';
  const networksError = typeof names.networks === 'string' ? validateNamesNetworks(names.networks) : undefined;
  const kube: Kube | undefined = isObject(names.kubernetes) ? (names.kubernetes as Kube) : undefined;
  const kubeOn = names.kubernetes === true || kube !== undefined;
  const kubeUrlError = validateNamesKubernetesUrl(kube?.url);
  const edit = (change: Partial<NamesSettings>) => onEdit(namesEdit(jd, change));
  return (
    <FieldSet label="Names">
      <Text element="p" color="secondary">
        Group and filter by workload, AWS service, network or organisation instead of addresses
      </Text>
      <InlineField
        label={CONFIG.namesNetworks}
        labelWidth={LABEL_WIDTH}
        invalid={!!networksError}
        error={networksError}
        tooltip="One `CIDR name` per line, # for comments; the longest network holding an address names it (local_name, remote_name)"
      >
        <TextArea
          aria-label={CONFIG.namesNetworks}
          cols={50}
          rows={4}
          placeholder={'10.20.0.0/16 office\n192.168.0.0/16 partner-vpn'}
          value={networks}
          onChange={(e) => edit({ networks: e.currentTarget.value || undefined })}
        />
      </InlineField>
      <InlineField
        label={CONFIG.namesAwsIpRanges}
        labelWidth={LABEL_WIDTH}
        tooltip="AWS's published ip-ranges.json: a path on the Grafana server, or a URL fetched hourly (remote_service, remote_region)"
      >
        <Input
          aria-label={CONFIG.namesAwsIpRanges}
          width={50}
          placeholder="https://ip-ranges.amazonaws.com/ip-ranges.json"
          value={names.awsIpRanges ?? ''}
          onChange={(e) => edit({ awsIpRanges: e.currentTarget.value.trim() || undefined })}
        />
      </InlineField>
      <InlineField
        label={CONFIG.namesMmdb}
        labelWidth={LABEL_WIDTH}
        tooltip="MMDB files on the Grafana server, comma-separated (GeoLite2 ASN and Country, IPinfo Lite): remote_asn, remote_org, remote_country"
      >
        <Input
          aria-label={CONFIG.namesMmdb}
          width={50}
          placeholder="/var/lib/flowlens/GeoLite2-ASN.mmdb"
          value={names.mmdb ?? ''}
          onChange={(e) => edit({ mmdb: e.currentTarget.value || undefined })}
        />
      </InlineField>
      <InlineField
        label={CONFIG.namesKubernetes}
        labelWidth={LABEL_WIDTH}
        tooltip="Pods, namespaces, workloads and nodes as of each flow's time, from kube-state-metrics' kube_pod_info"
      >
        <InlineSwitch
          aria-label={CONFIG.namesKubernetes}
          value={kubeOn}
          onChange={(e) => edit({ kubernetes: e.currentTarget.checked ? (kube ?? true) : undefined })}
        />
      </InlineField>
      {kubeOn && (
        <InlineField
          label={CONFIG.namesKubernetesUrl}
          labelWidth={LABEL_WIDTH}
          invalid={!!kubeUrlError}
          error={kubeUrlError}
          tooltip="A Prometheus-compatible API holding kube_pod_info; empty: the rollup store (credentials: provision names.kubernetes.basicAuthUser with namesBasicAuthPassword, or namesBearerToken)"
        >
          <Input
            aria-label={CONFIG.namesKubernetesUrl}
            width={40}
            placeholder="the rollup store"
            value={kube?.url ?? ''}
            onChange={(e) => {
              const url = e.currentTarget.value.trim();
              const rest = { ...(kube ?? {}), url: url || undefined };
              edit({ kubernetes: Object.values(rest).some((v) => v !== undefined) ? rest : true });
            }}
          />
        </InlineField>
      )}
    </FieldSet>
  );
}
