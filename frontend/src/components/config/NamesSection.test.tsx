import React, { useState } from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { FlowDataSourceOptions } from '../../types';
import { validateNamesNetworks } from '../../validation';
import { CONFIG } from '../selectors';
import { applyEdit, Edit, Options } from './options';
import { NamesSection } from './NamesSection';

function options(jsonData: FlowDataSourceOptions = {}): Options {
  return { id: 1, uid: 'flowlens', name: 'flowlens', type: 'flowlens-flowlogs-datasource', url: '', jsonData, secureJsonFields: {} } as unknown as Options;
}

function setup(initial: Options = options()) {
  let current = initial;
  function Harness() {
    const [opts, setOpts] = useState(initial);
    return (
      <NamesSection
        options={opts}
        onEdit={(edit: Edit) => {
          current = applyEdit(current, edit);
          setOpts(current);
        }}
      />
    );
  }
  render(<Harness />);
  const saved = (): Options => JSON.parse(JSON.stringify(current));
  return { saved, user: userEvent.setup() };
}

describe('NamesSection', () => {
  it('writes each source into the names section, and none when all are cleared', async () => {
    const { saved, user } = setup();
    await user.type(screen.getByLabelText(CONFIG.namesNetworks), '10.20.0.0/16 office');
    await user.type(screen.getByLabelText(CONFIG.namesAwsIpRanges), '/var/lib/ip-ranges.json');
    await user.type(screen.getByLabelText(CONFIG.namesMmdb), '/a.mmdb');
    expect(saved().jsonData.names).toEqual({ networks: '10.20.0.0/16 office', awsIpRanges: '/var/lib/ip-ranges.json', mmdb: '/a.mmdb' });
    await user.click(screen.getByLabelText(CONFIG.namesKubernetes));
    expect(saved().jsonData.names?.kubernetes).toBe(true);
    await user.type(screen.getByLabelText(CONFIG.namesKubernetesUrl), 'http://vm:8428');
    expect(saved().jsonData.names?.kubernetes).toEqual({ url: 'http://vm:8428' });
    await user.click(screen.getByLabelText(CONFIG.namesKubernetes));
    for (const label of [CONFIG.namesNetworks, CONFIG.namesAwsIpRanges, CONFIG.namesMmdb]) {
      await user.clear(screen.getByLabelText(label));
    }
    expect(saved().jsonData.names).toBeUndefined();
  });

  it('says what is wrong with the network map, in the backend words', async () => {
    const { user } = setup();
    await user.type(screen.getByLabelText(CONFIG.namesNetworks), '10.0.0.1/8 corp');
    expect(screen.getByText('line 1: `10.0.0.1/8` has host bits set; did you mean 10.0.0.0/8?')).toBeInTheDocument();
    expect(validateNamesNetworks('10.0.0.0/8 a\n10.0.0.0/8 b')).toBe('line 2: 10.0.0.0/8 is named twice (a and b)');
    expect(validateNamesNetworks('# comment\n\n10.0.0.0/8')).toBe('line 3: 10.0.0.0/8 has no name');
    expect(validateNamesNetworks('10.0.0.0/8 corp # HQ\n2001:db8::/32 v6')).toBeUndefined();
  });

  it('shows a provisioned object map as lines', () => {
    setup(options({ names: { networks: { '10.20.0.0/16': 'office' } } }));
    expect(screen.getByLabelText(CONFIG.namesNetworks)).toHaveValue('10.20.0.0/16 office');
  });
});
