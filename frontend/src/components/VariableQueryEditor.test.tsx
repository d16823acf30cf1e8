import React, { useState } from 'react';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { DataSource } from '../datasource';
import { makeDataSource } from '../test/datasource';
import { choose, radio } from '../test/ui';
import { FlowVariableQuery } from '../types';
import { QUERY, VARIABLE } from './selectors';
import { VariableQueryEditor } from './VariableQueryEditor';

function setup(initial: FlowVariableQuery | string) {
  const ds = makeDataSource();
  vi.spyOn(ds, 'fields').mockResolvedValue([
    { name: 'pkt_srcaddr', type: 'ip' },
    { name: 'pkt_dstaddr', type: 'ip' },
    { name: 'dstport', type: 'number' },
  ]);
  const onChange = vi.fn();
  function Harness() {
    const [query, setQuery] = useState(initial as FlowVariableQuery);
    return (
      <VariableQueryEditor
        datasource={ds as DataSource}
        query={query}
        onChange={(q) => {
          setQuery(q);
          onChange(q);
        }}
        onRunQuery={() => {}}
      />
    );
  }
  render(<Harness />);
  const last = (): FlowVariableQuery => onChange.mock.calls[onChange.mock.calls.length - 1][0];
  return { ds, onChange, last, user: userEvent.setup() };
}

describe('VariableQueryEditor', () => {
  it('picks the field, direction and limit of the values', async () => {
    const { user, last } = setup({ refId: 'V', field: '' });
    await waitFor(() => expect(screen.getByLabelText(VARIABLE.field)).toBeInTheDocument());
    await choose(user, VARIABLE.field, 'pkt_dstaddr');
    expect(last()).toMatchObject({ field: 'pkt_dstaddr' });
    await user.click(radio(VARIABLE.direction, 'In'));
    expect(last()).toMatchObject({ field: 'pkt_dstaddr', direction: 'in' });
    const limit = screen.getByLabelText(VARIABLE.limit);
    await user.clear(limit);
    await user.type(limit, '20');
    await user.tab();
    expect(last().limit).toBe(20);
  });

  it('shows a legacy string query as its field', async () => {
    const { ds } = setup('values(pkt_srcaddr)');
    await waitFor(() => expect(ds.fields).toHaveBeenCalled());
    expect(await screen.findByText('pkt_srcaddr')).toBeInTheDocument();
  });

  it('narrows values with filters, committed on blur rather than per key', async () => {
    const { user, last, onChange } = setup({ refId: 'V', field: 'pkt_dstaddr' });
    await user.click(screen.getByRole('button', { name: QUERY.addFilter }));
    expect(onChange).not.toHaveBeenCalled();
    await user.type(screen.getByLabelText(QUERY.filterValue(0)), '10\\.0\\.32\\..*');
    expect(onChange).not.toHaveBeenCalled();
    await user.tab();
    expect(last().filters).toEqual([{ field: 'pkt_srcaddr', op: '=~', value: '10\\.0\\.32\\..*' }]);
  });
});
