import React, { useState } from 'react';
import { dateTime, TimeRange } from '@grafana/data';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { DataSource } from '../datasource';
import { FakeCodeEditor } from '../test/codeEditor';
import { makeDataSource } from '../test/datasource';
import { choose, radio } from '../test/ui';
import { FieldInfo, FlowQuery } from '../types';
import { QueryEditor } from './QueryEditor';
import { QUERY } from './selectors';

// Monaco cannot run in jsdom: the raw query editor is a textarea here.
vi.mock('@grafana/ui', async (original) => ({ ...(await original<typeof import('@grafana/ui')>()), CodeEditor: FakeCodeEditor }));

const range: TimeRange = { from: dateTime(1_700_000_000_000), to: dateTime(1_700_003_600_000), raw: { from: 'now-1h', to: 'now' } };

const FIELDS: FieldInfo[] = [
  { name: 'interface_id', type: 'string' },
  { name: 'srcport', type: 'number' },
  { name: 'dstport', type: 'number' },
  { name: 'pkt_srcaddr', type: 'ip' },
  { name: 'pkt_dstaddr', type: 'ip' },
  { name: 'bytes', type: 'number' },
  { name: 'action', type: 'string' },
];

function setup(
  initial: FlowQuery,
  render_: (q: FlowQuery) => Promise<string[]> = async () => ['RENDERED QUERY'],
  panelRange: TimeRange = range
) {
  const ds = makeDataSource({ insideCidrs: ['10.0.32.0/20'], interfaceId: 'eni-0352f8c82da6aa229' });
  vi.spyOn(ds, 'fields').mockResolvedValue(FIELDS);
  const renderQuery = vi.spyOn(ds, 'renderQuery').mockImplementation((q) => render_(q));
  const onChange = vi.fn();
  const onRunQuery = vi.fn();
  function Harness() {
    const [query, setQuery] = useState(initial);
    return (
      <QueryEditor
        datasource={ds as DataSource}
        query={query}
        range={panelRange}
        onChange={(q) => {
          setQuery(q);
          onChange(q);
        }}
        onRunQuery={onRunQuery}
      />
    );
  }
  render(<Harness />);
  const last = (): FlowQuery => onChange.mock.calls[onChange.mock.calls.length - 1][0];
  return { ds, renderQuery, onChange, onRunQuery, last, user: userEvent.setup() };
}

describe('QueryEditor', () => {
  it('shows the backend query the target will run, from the render resource', async () => {
    const { renderQuery } = setup({ refId: 'A', format: 'stat', direction: 'in' });
    expect(await screen.findByTestId(QUERY.rendered)).toHaveTextContent('RENDERED QUERY');
    expect(renderQuery).toHaveBeenCalledWith(expect.objectContaining({ format: 'stat', direction: 'in', version: 1 }), range, 60_000, 1000);
  });

  it('debounces render calls while typing', async () => {
    const { renderQuery, user } = setup({ refId: 'A', filters: [{ field: 'action', op: '=', value: '' }] });
    await screen.findByTestId(QUERY.rendered);
    renderQuery.mockClear();
    await user.type(screen.getByLabelText(QUERY.filterValue(0)), 'ACCEPT');
    await waitFor(() => expect(renderQuery).toHaveBeenCalled());
    await new Promise((r) => setTimeout(r, 500));
    expect(renderQuery).toHaveBeenCalledTimes(1);
    expect(renderQuery.mock.calls[0][0].filters).toEqual([{ field: 'action', op: '=', value: 'ACCEPT' }]);
  });

  it('shows the backend error when the query cannot be rendered', async () => {
    setup({ refId: 'A' }, async () => {
      throw new Error('direction: in needs insideCidrs in the datasource settings');
    });
    expect(await screen.findByTestId(QUERY.renderError)).toHaveTextContent('needs insideCidrs');
  });

  it('changes format, metric and direction and runs the query', async () => {
    const { user, last, onRunQuery } = setup({ refId: 'A', format: 'series', rate: true });
    await user.click(radio(QUERY.format, 'Table'));
    expect(last()).toMatchObject({ format: 'table', rate: false, limit: 0 });
    await user.click(radio(QUERY.metric, 'Packets'));
    expect(last().metric).toBe('packets');
    await user.click(radio(QUERY.direction, 'Out'));
    expect(last().direction).toBe('out');
    expect(onRunQuery).toHaveBeenCalledTimes(3);
  });

  it('groups by fields from the fields resource, with top 10 for series', async () => {
    const { user, last } = setup({ refId: 'A', format: 'series' });
    await waitFor(() => expect(screen.getByLabelText(QUERY.groupBy)).toBeInTheDocument());
    await choose(user, QUERY.groupBy, 'pkt_srcaddr');
    expect(last()).toMatchObject({ groupBy: ['pkt_srcaddr'], limit: 10 });
    await choose(user, QUERY.groupBy, 'srcport');
    expect(last().groupBy).toEqual(['pkt_srcaddr', 'srcport']);
    const limit = screen.getByLabelText(QUERY.limit);
    await user.clear(limit);
    await user.type(limit, '5');
    expect(last().limit).toBe(5);
    await user.click(screen.getByLabelText(QUERY.other));
    expect(last().other).toBe(true);
    await user.click(screen.getByLabelText(QUERY.rate));
    expect(last().rate).toBe(true);
  });

  it('counts distinct values of a field chosen from the fields resource', async () => {
    const { user, last } = setup({ refId: 'A', format: 'series', rate: true });
    await waitFor(() => expect(screen.getByLabelText(QUERY.groupBy)).toBeInTheDocument());
    expect(screen.queryByLabelText(QUERY.distinctField)).not.toBeInTheDocument();
    await user.click(radio(QUERY.metric, 'Distinct'));
    // Distinct counts are not rates.
    expect(last()).toMatchObject({ metric: 'distinct', rate: false });
    expect(screen.queryByLabelText(QUERY.rate)).not.toBeInTheDocument();
    expect(await screen.findByTestId(QUERY.errors)).toHaveTextContent(
      'distinctField: metric distinct counts the distinct values of a field; name it, e.g. dstport'
    );
    await choose(user, QUERY.distinctField, 'dstport');
    expect(last()).toMatchObject({ metric: 'distinct', distinctField: 'dstport' });
    expect(screen.queryByTestId(QUERY.errors)).not.toBeInTheDocument();
    // Grouped: no `other` and no share, which distinct counts cannot have.
    await choose(user, QUERY.groupBy, 'pkt_srcaddr');
    expect(screen.getByLabelText(QUERY.limit)).toBeInTheDocument();
    expect(screen.queryByLabelText(QUERY.other)).not.toBeInTheDocument();
    expect(screen.queryByLabelText(QUERY.share)).not.toBeInTheDocument();
    // Another metric keeps the field (the backend ignores it) and hides the select.
    await user.click(radio(QUERY.metric, 'Records'));
    expect(last()).toMatchObject({ metric: 'records', distinctField: 'dstport' });
    expect(screen.queryByLabelText(QUERY.distinctField)).not.toBeInTheDocument();
  });

  it('flags a distinct field the records do not have', async () => {
    setup({ refId: 'A', format: 'table', metric: 'distinct', distinctField: 'tcp_flags' });
    expect(await screen.findByTestId(QUERY.errors)).toHaveTextContent('distinctField: `tcp_flags` is not a field of the records');
  });

  it('prices bytes at the price chosen, and says when the datasource lacks it', async () => {
    const { user, last } = setup({ refId: 'A', format: 'series', rate: true });
    expect(screen.queryByRole('radiogroup', { name: QUERY.price })).not.toBeInTheDocument();
    await user.click(radio(QUERY.metric, 'Cost'));
    // Costs are not rates.
    expect(last()).toMatchObject({ metric: 'cost', rate: false });
    expect(radio(QUERY.price, 'NAT processing')).toBeChecked();
    expect(screen.queryByTestId(QUERY.errors)).not.toBeInTheDocument();
    await user.click(radio(QUERY.price, 'Internet egress'));
    expect(last().price).toBe('egress');
    // The test datasource sets no egressPricePerGb.
    expect(await screen.findByTestId(QUERY.errors)).toHaveTextContent(
      'price: egress has no price; set egressPricePerGb in the datasource'
    );
    await user.click(radio(QUERY.price, 'Cross-AZ'));
    expect(last().price).toBe('crossAz');
    await user.click(radio(QUERY.price, 'NAT processing'));
    expect(last().price).toBe('nat');
    expect(screen.queryByTestId(QUERY.errors)).not.toBeInTheDocument();
  });

  it('shows each group as a share of the total, for grouped tables and series', async () => {
    const { user, last, onRunQuery } = setup({ refId: 'A', format: 'series', rate: true });
    await waitFor(() => expect(screen.getByLabelText(QUERY.groupBy)).toBeInTheDocument());
    expect(screen.queryByLabelText(QUERY.share)).not.toBeInTheDocument();
    await choose(user, QUERY.groupBy, 'pkt_srcaddr');
    const runs = onRunQuery.mock.calls.length;
    await user.click(screen.getByLabelText(QUERY.share));
    // A share is already per bucket: rate goes off, and its switch away.
    expect(last()).toMatchObject({ share: true, rate: false, groupBy: ['pkt_srcaddr'] });
    expect(onRunQuery).toHaveBeenCalledTimes(runs + 1);
    expect(screen.queryByLabelText(QUERY.rate)).not.toBeInTheDocument();
    await user.click(radio(QUERY.format, 'Table'));
    expect(last()).toMatchObject({ format: 'table', share: true });
    await user.click(screen.getByLabelText(QUERY.share));
    expect(last().share).toBe(false);
    await user.click(screen.getByLabelText(QUERY.share));
    // Stat has no groups to share.
    await user.click(radio(QUERY.format, 'Stat'));
    expect(last()).toMatchObject({ format: 'stat', share: false });
    expect(screen.queryByTestId(QUERY.errors)).not.toBeInTheDocument();
  });

  it('keeps a switch that no longer applies visible while it is on, to turn it off', async () => {
    const { user, last } = setup({ refId: 'A', format: 'series', metric: 'cost', rate: true });
    expect(await screen.findByTestId(QUERY.errors)).toHaveTextContent(
      'rate: only bytes, packets and records are rates; turn rate off'
    );
    await user.click(screen.getByLabelText(QUERY.rate));
    expect(last().rate).toBe(false);
    expect(screen.queryByLabelText(QUERY.rate)).not.toBeInTheDocument();
    expect(screen.queryByTestId(QUERY.errors)).not.toBeInTheDocument();
  });

  it('turns share off with the last group', async () => {
    const { user, last } = setup({ refId: 'A', format: 'table', groupBy: ['pkt_srcaddr'], share: true });
    expect(screen.getByLabelText(QUERY.share)).toBeChecked();
    // Backspace in the empty input removes the last group.
    await user.click(screen.getByLabelText(QUERY.groupBy));
    await user.keyboard('{Backspace}');
    expect(last()).toMatchObject({ groupBy: [], share: false });
    expect(screen.queryByLabelText(QUERY.share)).not.toBeInTheDocument();
  });

  it('hides group by for stat and shows a record limit for logs', async () => {
    const { user } = setup({ refId: 'A', format: 'stat' });
    expect(screen.queryByLabelText(QUERY.groupBy)).not.toBeInTheDocument();
    await user.click(radio(QUERY.format, 'Logs'));
    expect(screen.queryByLabelText(QUERY.groupBy)).not.toBeInTheDocument();
    expect(screen.getByLabelText(QUERY.limit)).toHaveValue('100');
  });

  it('adds, edits and removes filters; typing runs the query on blur', async () => {
    const { user, last, onRunQuery } = setup({ refId: 'A', format: 'stat' });
    await user.click(screen.getByRole('button', { name: QUERY.addFilter }));
    expect(last().filters).toEqual([{ field: 'pkt_srcaddr', op: '=~', value: '' }]);
    expect(onRunQuery).not.toHaveBeenCalled();
    await choose(user, QUERY.filterField(0), 'pkt_dstaddr');
    await choose(user, QUERY.filterOp(0), 'cidr');
    await user.type(screen.getByLabelText(QUERY.filterValue(0)), '10.0.32.0/20');
    expect(last().filters).toEqual([{ field: 'pkt_dstaddr', op: 'cidr', value: '10.0.32.0/20' }]);
    const runs = onRunQuery.mock.calls.length;
    await user.tab();
    expect(onRunQuery).toHaveBeenCalledTimes(runs + 1);
    await user.click(screen.getByLabelText(QUERY.removeFilter(0)));
    expect(last().filters).toEqual([]);
  });

  it('offers numeric comparisons, and edits a set filter as comma-separated values', async () => {
    const { user, last } = setup({
      refId: 'A',
      format: 'stat',
      filters: [
        { field: 'dstport', op: '=', value: '' },
        { field: 'action', op: '=|', value: [] },
      ],
    });
    await choose(user, QUERY.filterOp(0), '>=');
    await user.type(screen.getByLabelText(QUERY.filterValue(0)), '1024');
    expect(last().filters![0]).toEqual({ field: 'dstport', op: '>=', value: '1024' });
    await user.type(screen.getByLabelText(QUERY.filterValue(1)), 'ACCEPT, REJECT');
    expect(last().filters![1]).toEqual({ field: 'action', op: '=|', value: ['ACCEPT', 'REJECT'] });
    expect(screen.getByLabelText(QUERY.filterValue(1))).toHaveValue('ACCEPT, REJECT');
    expect(screen.queryByTestId(QUERY.errors)).not.toBeInTheDocument();
  });

  it('edits several interfaces as comma-separated ids', async () => {
    const { user, last } = setup({ refId: 'A', format: 'stat', interfaceId: ['eni-a', 'eni-b'] });
    const input = screen.getByLabelText(`${QUERY.interfaceId} id`);
    expect(input).toHaveValue('eni-a, eni-b');
    await user.type(input, ', eni-c');
    expect(last().interfaceId).toEqual(['eni-a', 'eni-b', 'eni-c']);
  });

  it('accepts dashboard variables in filter values and flags invalid values', async () => {
    const { user } = setup({
      refId: 'A',
      filters: [
        { field: 'pkt_srcaddr', op: '=~', value: '${kubernetes_pod_ip}' },
        { field: 'pkt_dstaddr', op: 'cidr', value: '10.0.32.1/20' },
      ],
    });
    const errors = await screen.findByTestId(QUERY.errors);
    expect(errors).toHaveTextContent('filter on pkt_dstaddr: `10.0.32.1/20` has host bits set; did you mean 10.0.32.0/20?');
    expect(errors).not.toHaveTextContent('pkt_srcaddr');
    const value = screen.getByLabelText(QUERY.filterValue(1));
    await user.clear(value);
    await user.type(value, '10.0.32.0/20');
    expect(screen.queryByTestId(QUERY.errors)).not.toBeInTheDocument();
  });

  it('flags group-by fields the records do not have', async () => {
    setup({ refId: 'A', format: 'table', groupBy: ['tcp_flags'] });
    expect(await screen.findByTestId(QUERY.errors)).toHaveTextContent('groupBy: `tcp_flags` is not a field of the records');
  });

  it('overrides the interface filter per query', async () => {
    const { user, last } = setup({ refId: 'A' });
    expect(radio(QUERY.interfaceId, /Default \(eni-0352f8c82da6aa229\)/)).toBeChecked();
    await user.click(radio(QUERY.interfaceId, 'Off'));
    expect(last().interfaceId).toBe('');
    await user.click(radio(QUERY.interfaceId, 'Custom'));
    const input = screen.getByLabelText(`${QUERY.interfaceId} id`);
    await user.clear(input);
    await user.type(input, 'eni-1');
    expect(last().interfaceId).toBe('eni-1');
    await user.click(radio(QUERY.interfaceId, /Default/));
    expect(last().interfaceId).toBeNull();
  });

  it('switches to raw mode starting from the rendered query, and back', async () => {
    const { user, last, onChange, onRunQuery } = setup({ refId: 'A', format: 'stat' });
    await screen.findByTestId(QUERY.rendered);
    await user.click(radio(QUERY.mode, 'Raw'));
    expect(last().rawQuery).toBe('RENDERED QUERY');
    const text = screen.getByLabelText(QUERY.rawQuery);
    expect(text).toHaveValue('RENDERED QUERY');
    expect(text).toHaveAttribute('data-language', 'flowlens-logsql');
    const changes = onChange.mock.calls.length;
    await user.clear(text);
    await user.type(text, '* | stats count() records');
    // The text is emitted when the editor loses focus, and the query runs then.
    expect(onChange.mock.calls.length).toBe(changes);
    expect(onRunQuery).not.toHaveBeenCalled();
    await user.tab();
    expect(last().rawQuery).toBe('* | stats count() records');
    expect(onRunQuery).toHaveBeenCalledTimes(1);
    await user.click(radio(QUERY.mode, 'Builder'));
    expect(last().rawQuery).toBeNull();
    expect(screen.getByRole('radiogroup', { name: QUERY.format })).toBeInTheDocument();
  });

  it('opens a saved raw query in raw mode and says when it is empty', async () => {
    const { user } = setup({ refId: 'A', rawQuery: 'x' });
    const text = screen.getByLabelText(QUERY.rawQuery);
    expect(text).toHaveValue('x');
    await user.clear(text);
    await user.tab();
    expect(await screen.findByTestId(QUERY.errors)).toHaveTextContent('rawQuery: is empty');
    expect(screen.getByLabelText(QUERY.rawQuery)).toBeInTheDocument();
  });
  it('edits a raw query in LogQL for a Loki datasource', async () => {
    const ds = makeDataSource({ backend: 'loki' });
    vi.spyOn(ds, 'fields').mockResolvedValue(FIELDS);
    vi.spyOn(ds, 'renderQuery').mockResolvedValue(['{a="b"}']);
    render(<QueryEditor datasource={ds} query={{ refId: 'A', rawQuery: '{a="b"}' }} range={range} onChange={vi.fn()} onRunQuery={vi.fn()} />);
    expect(screen.getByLabelText(QUERY.rawQuery)).toHaveAttribute('data-language', 'flowlens-logql');
    expect(screen.getByTestId(QUERY.rawQueryEditor)).toContainElement(screen.getByLabelText(QUERY.rawQuery));
    await screen.findByTestId(QUERY.rendered);
  });

  it('hints at records parsed at ingest for a raw-text metric query over more than a day', async () => {
    const week: TimeRange = { from: dateTime(1_700_000_000_000), to: dateTime(1_700_604_800_000), raw: { from: 'now-7d', to: 'now' } };
    setup({ refId: 'A', format: 'stat', direction: 'in' }, undefined, week);
    expect(await screen.findByTestId(QUERY.hint)).toHaveTextContent('Hint: 7 days of records are parsed from raw text');
  });

  it('gives no hint for the same query over an hour', async () => {
    setup({ refId: 'A', format: 'stat', direction: 'in' });
    await screen.findByText('RENDERED QUERY');
    expect(screen.queryByTestId(QUERY.hint)).toBeNull();
  });
});
