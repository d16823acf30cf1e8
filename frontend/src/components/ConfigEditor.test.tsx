import React, { useState } from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { NAT_GATEWAY_FORMAT } from '../fields';
import { choose, radio } from '../test/ui';
import { FlowDataSourceOptions } from '../types';
import { ConfigEditor } from './ConfigEditor';
import { Options } from './config/options';
import { CONFIG } from './selectors';

function options(patch: Partial<Options> = {}, jsonData: FlowDataSourceOptions = {}): Options {
  return {
    id: 1,
    uid: 'flowlens',
    orgId: 1,
    name: 'flowlens',
    type: 'flowlens-flowlogs-datasource',
    typeName: 'flowlens',
    typeLogoUrl: '',
    access: 'proxy',
    url: '',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    readOnly: false,
    withCredentials: false,
    jsonData,
    secureJsonFields: {},
    ...patch,
  } as Options;
}

function setup(initial: Options = options()) {
  const onOptionsChange = vi.fn();
  function Harness() {
    const [opts, setOpts] = useState(initial);
    return (
      <ConfigEditor
        options={opts}
        onOptionsChange={(o) => {
          setOpts(o);
          onOptionsChange(o);
        }}
      />
    );
  }
  render(<Harness />);
  const last = (): Options => onOptionsChange.mock.calls[onOptionsChange.mock.calls.length - 1][0];
  return { onOptionsChange, last, user: userEvent.setup() };
}

describe('ConfigEditor', () => {
  it('sets URL, backend and timeout, validating as typed', async () => {
    const { user, last } = setup();
    await user.type(screen.getByLabelText(CONFIG.url), 'ftp://x');
    expect(screen.getByText('the URL `ftp://x` must start with http:// or https://')).toBeInTheDocument();
    await user.clear(screen.getByLabelText(CONFIG.url));
    await user.type(screen.getByLabelText(CONFIG.url), 'http://localhost:3100');
    expect(last().url).toBe('http://localhost:3100');
    expect(screen.queryByText(/must start with/)).not.toBeInTheDocument();
    await user.click(radio(CONFIG.backend, 'Loki'));
    expect(last().jsonData.backend).toBe('loki');
    await user.type(screen.getByLabelText(CONFIG.timeout), '0');
    expect(screen.getByText('timeout 0 must be between 0 and 3600 seconds')).toBeInTheDocument();
    await user.type(screen.getByLabelText(CONFIG.timeout), '30');
    expect(last().jsonData.timeoutSeconds).toBe(30);
  });

  it('keeps secrets in secureJsonData: basic auth password and bearer token', async () => {
    const { user, last } = setup();
    await user.click(radio(CONFIG.authMethod, 'Basic'));
    expect(last()).toMatchObject({ basicAuth: true, jsonData: { bearerAuth: false } });
    await user.type(screen.getByLabelText(CONFIG.basicUser), 'grafana');
    await user.type(screen.getByLabelText(CONFIG.basicPassword), 's3cret');
    expect(last()).toMatchObject({ basicAuthUser: 'grafana', secureJsonData: { basicAuthPassword: 's3cret' } });
    expect(JSON.stringify(last().jsonData)).not.toContain('s3cret');
    await user.click(radio(CONFIG.authMethod, 'Bearer token'));
    expect(last()).toMatchObject({ basicAuth: false, jsonData: { bearerAuth: true } });
    await user.type(screen.getByLabelText(CONFIG.bearerToken), 'tok');
    expect(last().secureJsonData).toMatchObject({ bearerToken: 'tok' });
  });

  it('shows a stored secret as configured and resets it', async () => {
    const { user, last } = setup(options({ secureJsonFields: { bearerToken: true } }, { bearerAuth: true }));
    const token = screen.getByLabelText(CONFIG.bearerToken);
    expect(token).toBeDisabled();
    expect(token).toHaveValue('configured');
    await user.click(screen.getByRole('button', { name: 'Reset' }));
    expect(last().secureJsonFields.bearerToken).toBe(false);
    expect(last().secureJsonData?.bearerToken).toBe('');
    expect(screen.getByLabelText(CONFIG.bearerToken)).toBeEnabled();
  });

  it('adds, names and removes extra headers, values as secrets', async () => {
    const { user, last } = setup(options({ secureJsonFields: { httpHeaderValue1: true } }, { httpHeaderName1: 'X-Scope-OrgID' }));
    expect(screen.getByLabelText(CONFIG.headerName(1))).toHaveValue('X-Scope-OrgID');
    expect(screen.getByLabelText(CONFIG.headerValue(1))).toHaveValue('configured');
    await user.click(screen.getByRole('button', { name: CONFIG.addHeader }));
    await user.type(screen.getByLabelText(CONFIG.headerName(2)), 'Bad Header');
    expect(screen.getByText('`Bad Header` is not a valid header name')).toBeInTheDocument();
    await user.clear(screen.getByLabelText(CONFIG.headerName(2)));
    await user.type(screen.getByLabelText(CONFIG.headerName(2)), 'AccountID');
    await user.type(screen.getByLabelText(CONFIG.headerValue(2)), '42');
    expect(last().jsonData).toMatchObject({ httpHeaderName1: 'X-Scope-OrgID', httpHeaderName2: 'AccountID' });
    expect(last().secureJsonData).toMatchObject({ httpHeaderValue2: '42' });
    // Removing header 1 keeps header 2 paired with its secret.
    await user.click(screen.getByLabelText(CONFIG.removeHeader(1)));
    expect(last().jsonData.httpHeaderName1).toBeUndefined();
    expect(last().secureJsonFields.httpHeaderValue1).toBe(false);
    expect(screen.queryByLabelText(CONFIG.headerName(1))).not.toBeInTheDocument();
    expect(screen.getByLabelText(CONFIG.headerName(2))).toHaveValue('AccountID');
  });

  it('sets TLS options', async () => {
    const { user, last } = setup();
    await user.click(screen.getByLabelText(CONFIG.tlsSkipVerify));
    expect(last().jsonData.tlsSkipVerify).toBe(true);
    await user.click(screen.getByLabelText(CONFIG.tlsSkipVerify));
    await user.type(screen.getByLabelText(CONFIG.tlsCaCert), '-----BEGIN');
    expect(last().secureJsonData?.tlsCACert).toBe('-----BEGIN');
  });

  it('validates the stream selector', async () => {
    const { user, last } = setup();
    await user.type(screen.getByLabelText(CONFIG.streamSelector), 'logtype=flow');
    expect(screen.getByText(/must be enclosed in braces/)).toBeInTheDocument();
    await user.clear(screen.getByLabelText(CONFIG.streamSelector));
    // user-event reads { and [ as key descriptors; doubled they are typed literally.
    await user.type(screen.getByLabelText(CONFIG.streamSelector), '{{logtype="flow"}');
    expect(last().jsonData.streamSelector).toBe('{logtype="flow"}');
    expect(screen.queryByText(/must be enclosed in braces/)).not.toBeInTheDocument();
  });

  it('picks a record format preset and validates a custom format as typed', async () => {
    const { user, last } = setup();
    await choose(user, CONFIG.formatPreset, 'NAT gateway');
    expect(last().jsonData.recordFormat).toBe(NAT_GATEWAY_FORMAT);
    expect(screen.getByLabelText(CONFIG.recordFormat)).toHaveValue(NAT_GATEWAY_FORMAT);
    const format = screen.getByLabelText(CONFIG.recordFormat);
    await user.clear(format);
    await user.type(format, '${{srcaddr}  ${{bytes}');
    expect(screen.getByText('fields must be separated by single spaces')).toBeInTheDocument();
    await user.clear(format);
    await user.type(format, '${{srcaddr} ${{pkt_dstaddr}');
    expect(screen.getByText(/`pkt_dstaddr` is not an AWS flow-log field \(AWS writes it `pkt-dstaddr`\)/)).toBeInTheDocument();
    await user.clear(format);
    await user.type(format, '${{srcaddr} ${{bytes}');
    expect(last().jsonData.recordFormat).toBe('${srcaddr} ${bytes}');
    expect(screen.queryByText(/not an AWS flow-log field/)).not.toBeInTheDocument();
  });

  it('maps fields parsed at ingest', async () => {
    const { user, last } = setup();
    await user.click(radio(CONFIG.recordMode, 'Fields parsed at ingest'));
    expect(last().jsonData.recordMode).toBe('fields');
    expect(screen.queryByLabelText(CONFIG.recordFormat)).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: CONFIG.addMapping }));
    expect(screen.getByText('`version` maps to an empty field name')).toBeInTheDocument();
    await choose(user, CONFIG.mappingField(0), 'pkt_srcaddr');
    await user.type(screen.getByLabelText(CONFIG.mappingLogField(0)), 'pkt_src_addr');
    expect(last().jsonData.fieldMapping).toEqual({ pkt_srcaddr: 'pkt_src_addr' });
    await user.click(screen.getByLabelText(CONFIG.removeMapping(0)));
    expect(last().jsonData.fieldMapping).toEqual({});
  });

  it('offers Loki, and where Loki holds fields parsed at ingest', async () => {
    const { user, last } = setup();
    expect(screen.queryByText(/not in this build/)).not.toBeInTheDocument();
    await user.click(radio(CONFIG.recordMode, 'Fields parsed at ingest'));
    // VictoriaLogs has one way to hold fields: no choice offered.
    expect(screen.queryByLabelText(CONFIG.lokiFields)).not.toBeInTheDocument();
    await user.click(radio(CONFIG.backend, 'Loki'));
    expect(last().jsonData).toMatchObject({ backend: 'loki', recordMode: 'fields' });
    expect(radio(CONFIG.lokiFields, 'Structured metadata')).toBeChecked();
    expect(last().jsonData.loki?.fields).toBeUndefined();
    await user.click(radio(CONFIG.lokiFields, 'JSON lines'));
    expect(last().jsonData.loki?.fields).toBe('json');
    await user.click(radio(CONFIG.lokiFields, 'logfmt lines'));
    expect(last().jsonData.loki?.fields).toBe('logfmt');
    // Long ranges: the split interval, checked as the backend checks it.
    const split = screen.getByLabelText(CONFIG.lokiSplitInterval);
    expect(split).toHaveAttribute('placeholder', '1h');
    await user.type(split, '30s');
    expect(screen.getByText(/must be from 1m to 7d/)).toBeInTheDocument();
    await user.clear(split);
    await user.type(split, '30m');
    expect(last().jsonData.loki?.splitInterval).toBe('30m');
    // Timestamp precision: whole milliseconds unless set.
    expect(radio(CONFIG.lokiTimestamps, 'Whole milliseconds')).toBeChecked();
    await user.click(radio(CONFIG.lokiTimestamps, 'Nanoseconds'));
    expect(last().jsonData.loki).toEqual({ fields: 'logfmt', splitInterval: '30m', timestamps: 'nanoseconds' });
    // The field mapping stays beside it.
    expect(screen.getByRole('button', { name: CONFIG.addMapping })).toBeInTheDocument();
    // Raw records: no parsed fields to place.
    await user.click(radio(CONFIG.recordMode, 'Raw text'));
    expect(screen.queryByLabelText(CONFIG.lokiFields)).not.toBeInTheDocument();
    expect(screen.getByLabelText(CONFIG.recordFormat)).toBeInTheDocument();
  });

  it("shows a saved datasource's flat Loki keys and moves them into the loki section when one is edited", async () => {
    const saved = { backend: 'loki' as const, recordMode: 'fields' as const, lokiFields: 'json' as const, lokiSplitInterval: '2h' };
    const { user, last } = setup(options({}, saved));
    expect(radio(CONFIG.lokiFields, 'JSON lines')).toBeChecked();
    expect(screen.getByLabelText(CONFIG.lokiSplitInterval)).toHaveValue('2h');
    await user.click(radio(CONFIG.lokiTimestamps, 'Nanoseconds'));
    const jsonData = last().jsonData;
    expect(jsonData.loki).toEqual({ fields: 'json', splitInterval: '2h', timestamps: 'nanoseconds' });
    expect(JSON.parse(JSON.stringify(jsonData))).not.toHaveProperty('lokiFields');
    expect(JSON.parse(JSON.stringify(jsonData))).not.toHaveProperty('lokiSplitInterval');
  });

  it('validates inside CIDRs and sets interface id and cost', async () => {
    const { user, last } = setup(options({}, { insideCidrs: ['10.0.32.0/20'] }));
    const cidrs = screen.getByLabelText(CONFIG.insideCidrs);
    expect(cidrs).toHaveValue('10.0.32.0/20');
    await user.type(cidrs, ', 10.0.48.1/20');
    expect(screen.getByText('`10.0.48.1/20` has host bits set; did you mean 10.0.48.0/20?')).toBeInTheDocument();
    await user.clear(cidrs);
    await user.type(cidrs, '10.0.32.0/20, 10.0.48.0/20');
    expect(last().jsonData.insideCidrs).toEqual(['10.0.32.0/20', '10.0.48.0/20']);
    await user.type(screen.getByLabelText(CONFIG.interfaceId), 'eni-0352f8c82da6aa229');
    expect(last().jsonData.interfaceId).toBe('eni-0352f8c82da6aa229');
    const column = screen.getByLabelText(CONFIG.costColumn);
    expect(column).not.toBeChecked();
    await user.click(column);
    expect(last().jsonData.costColumn).toBe(true);
    await user.click(column);
    expect(last().jsonData.costColumn).toBe(false);
  });

  it("shows a saved costPerGb as the cost column at that NAT price, and writes the new form when edited", async () => {
    const { user, last } = setup(options({}, { costPerGb: 0.05 }));
    expect(screen.getByLabelText(CONFIG.costColumn)).toBeChecked();
    expect(screen.getByLabelText(CONFIG.natPricePerGb)).toHaveValue('0.05');
    await user.click(screen.getByLabelText(CONFIG.costColumn));
    const jsonData = JSON.parse(JSON.stringify(last().jsonData));
    expect(jsonData).toMatchObject({ costColumn: false, natPricePerGb: 0.05 });
    expect(jsonData).not.toHaveProperty('costPerGb');
  });

  it('prices the cost column at natPricePerGb when a saved costPerGb differs, and drops costPerGb when the price is edited', async () => {
    const { user, last } = setup(options({}, { costPerGb: 0.05, natPricePerGb: 0.048 }));
    expect(screen.getByLabelText(CONFIG.costColumn)).toBeChecked();
    const nat = screen.getByLabelText(CONFIG.natPricePerGb);
    expect(nat).toHaveValue('0.048');
    await user.type(nat, '1');
    const jsonData = JSON.parse(JSON.stringify(last().jsonData));
    expect(jsonData).toMatchObject({ costColumn: true, natPricePerGb: 0.0481 });
    expect(jsonData).not.toHaveProperty('costPerGb');
  });

  it('sets and validates the prices of metric cost; clearing one removes it', async () => {
    const { user, last } = setup(options({}, { egressPricePerGb: 0.09 }));
    const nat = screen.getByLabelText(CONFIG.natPricePerGb);
    // Unset, the NAT price is its default.
    expect(nat).toHaveAttribute('placeholder', '0.045');
    expect(screen.getByLabelText(CONFIG.egressPricePerGb)).toHaveValue('0.09');
    await user.type(nat, '0.048');
    expect(last().jsonData.natPricePerGb).toBe(0.048);
    expect(nat).toHaveValue('0.048');
    await user.type(nat, 'x');
    expect(screen.getByText('NAT price per GB must be a number, e.g. 0.045')).toBeInTheDocument();
    await user.clear(nat);
    expect(last().jsonData.natPricePerGb).toBeUndefined();
    expect(screen.queryByText(/NAT price per GB must/)).not.toBeInTheDocument();
    const egress = screen.getByLabelText(CONFIG.egressPricePerGb);
    await user.clear(egress);
    await user.type(egress, '-1');
    expect(screen.getByText('egress price per GB -1 must be a non-negative number')).toBeInTheDocument();
    await user.clear(egress);
    expect(last().jsonData.egressPricePerGb).toBeUndefined();
    const crossAz = screen.getByLabelText(CONFIG.crossAzPricePerGb);
    await user.type(crossAz, '0.01');
    expect(last().jsonData).toMatchObject({ crossAzPricePerGb: 0.01 });
    await user.type(crossAz, '.');
    expect(screen.getByText('cross-AZ price per GB must be a number, e.g. 0.01')).toBeInTheDocument();
    await user.clear(crossAz);
    expect(last().jsonData.crossAzPricePerGb).toBeUndefined();
    // No saved costPerGb: the NAT price's edits leave the cost column off.
    expect(last().jsonData.costPerGb).toBeUndefined();
    expect(last().jsonData.costColumn).toBe(false);
  });

  it('has a Rollups section for every backend, writing jsonData.rollups beside the other settings', async () => {
    const { user, last } = setup(options({}, { insideCidrs: ['10.0.32.0/20'] }));
    expect(screen.getByRole('group', { name: 'Rollups' })).toBeInTheDocument();
    await user.type(screen.getByLabelText(CONFIG.rollupsUrl), 'http://victoriametrics:8428');
    expect(last().jsonData).toMatchObject({ insideCidrs: ['10.0.32.0/20'], rollups: { url: 'http://victoriametrics:8428' } });
    await user.click(radio(CONFIG.backend, 'Loki'));
    expect(screen.getByLabelText(CONFIG.rollupsUrl)).toHaveValue('http://victoriametrics:8428');
    expect(last().jsonData).toMatchObject({ backend: 'loki', rollups: { url: 'http://victoriametrics:8428' } });
  });

  it('edits data links on fields of the record format', async () => {
    const { user, last } = setup(options({}, { recordFormat: NAT_GATEWAY_FORMAT }));
    await user.click(screen.getByRole('button', { name: CONFIG.addLink }));
    expect(last().jsonData.dataLinks).toEqual([{ field: 'pkt_srcaddr', title: '', url: '' }]);
    await user.type(screen.getByLabelText(CONFIG.linkTitle(0)), 'Who is this');
    await user.type(screen.getByLabelText(CONFIG.linkUrl(0)), 'https://example.com/ip/${{__value.raw}');
    await choose(user, CONFIG.linkField(0), 'pkt_dstaddr');
    expect(last().jsonData.dataLinks).toEqual([
      { field: 'pkt_dstaddr', title: 'Who is this', url: 'https://example.com/ip/${__value.raw}' },
    ]);
    await user.click(screen.getByLabelText(CONFIG.removeLink(0)));
    expect(last().jsonData.dataLinks).toEqual([]);
  });

  it('flags a data link on a field the format lacks', () => {
    setup(options({}, { dataLinks: [{ field: 'pkt_srcaddr', title: 't', url: 'u' }] }));
    // The default v2 format has no pkt_srcaddr; the backend rejects this too.
    expect(screen.getByText('`pkt_srcaddr` is not a field of the records')).toBeInTheDocument();
  });
});
