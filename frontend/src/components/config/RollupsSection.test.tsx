import React, { useState } from 'react';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

import { radio } from '../../test/ui';
import { FlowDataSourceOptions } from '../../types';
import { CONFIG } from '../selectors';
import { applyEdit, Edit, Options } from './options';
import { rollupsEdit, RollupsSection } from './RollupsSection';

function options(jsonData: FlowDataSourceOptions = {}, secureJsonFields: Record<string, boolean> = {}): Options {
  return {
    id: 1,
    uid: 'flowlens',
    orgId: 1,
    name: 'flowlens',
    type: 'flowlens-flowlogs-datasource',
    typeName: 'flowlens',
    typeLogoUrl: '',
    access: 'proxy',
    url: 'http://localhost:9428',
    user: '',
    database: '',
    basicAuth: false,
    basicAuthUser: '',
    isDefault: false,
    readOnly: false,
    withCredentials: false,
    jsonData,
    secureJsonFields,
  } as Options;
}

/** The section as the config editor holds it: each edit applied to the options. */
function setup(initial: Options = options()) {
  const onEdit = vi.fn();
  let current = initial;
  function Harness() {
    const [opts, setOpts] = useState(initial);
    return (
      <RollupsSection
        options={opts}
        onEdit={(edit: Edit) => {
          current = applyEdit(current, edit);
          setOpts(current);
          onEdit(edit);
        }}
      />
    );
  }
  render(<Harness />);
  /** The options as they would be saved (JSON drops undefined keys). */
  const saved = (): Options => JSON.parse(JSON.stringify(current));
  return { saved, onEdit, user: userEvent.setup() };
}

describe('RollupsSection', () => {
  it('shows the idea and the defaults, with no rollups set', () => {
    setup();
    expect(screen.getByText(/Read settled parts of a range from recording-rule rollups/)).toBeInTheDocument();
    expect(screen.getByText('flowlens rules')).toBeInTheDocument();
    expect(screen.getByLabelText(CONFIG.rollupsUrl)).toHaveAttribute('placeholder', 'http://victoriametrics:8428');
    expect(screen.getByLabelText(CONFIG.rollupsResolution)).toHaveAttribute('placeholder', '1m');
    expect(radio(CONFIG.rollupsStamps, 'Interval end (live evaluation, Loki ruler)')).toBeChecked();
    expect(radio(CONFIG.rollupsAuth, 'None')).toBeChecked();
    expect(screen.queryByLabelText(CONFIG.rollupsUser)).not.toBeInTheDocument();
    expect(screen.queryByLabelText(CONFIG.rollupsToken)).not.toBeInTheDocument();
  });

  it('writes the url, resolution and stamps into jsonData.rollups', async () => {
    const { user, saved } = setup();
    await user.type(screen.getByLabelText(CONFIG.rollupsUrl), 'http://victoriametrics:8428');
    expect(saved().jsonData.rollups).toEqual({ url: 'http://victoriametrics:8428' });
    await user.type(screen.getByLabelText(CONFIG.rollupsResolution), '5m');
    await user.click(radio(CONFIG.rollupsStamps, 'Interval start (vmalert replay)'));
    expect(saved().jsonData.rollups).toEqual({ url: 'http://victoriametrics:8428', resolution: '5m', stamps: 'start' });
    await user.click(radio(CONFIG.rollupsStamps, 'Interval end (live evaluation, Loki ruler)'));
    expect(saved().jsonData.rollups?.stamps).toBe('end');
    expect(screen.queryByText(/^rollups\./)).not.toBeInTheDocument();
  });

  it('shows an invalid url or resolution as the backend names it, and clears the error when fixed', async () => {
    const { user, saved } = setup();
    const url = screen.getByLabelText(CONFIG.rollupsUrl);
    await user.type(url, 'vm:8428');
    expect(screen.getByText('rollups.url `vm:8428` must be an http(s) URL such as http://victoriametrics:8428')).toBeInTheDocument();
    await user.clear(url);
    await user.type(url, 'http://reader:pw@vm:8428');
    expect(screen.getByText('rollups.url must not hold credentials; set rollups.basicAuthUser and the password')).toBeInTheDocument();
    await user.clear(url);
    await user.type(url, 'http://vm:8428');
    expect(screen.queryByText(/^rollups\.url/)).not.toBeInTheDocument();
    const resolution = screen.getByLabelText(CONFIG.rollupsResolution);
    await user.type(resolution, '999ms');
    expect(screen.getByText('rollups.resolution `999ms` must be whole seconds up to a day, such as 1m or 5m, or several separated by commas, such as 1m,1h')).toBeInTheDocument();
    await user.clear(resolution);
    await user.type(resolution, '1m30s');
    expect(screen.queryByText(/^rollups\.resolution/)).not.toBeInTheDocument();
    expect(saved().jsonData.rollups).toEqual({ url: 'http://vm:8428', resolution: '1m30s' });
  });

  it('leaves no section behind when the url is cleared, and keeps the other settings', async () => {
    const { user, saved } = setup();
    const url = screen.getByLabelText(CONFIG.rollupsUrl);
    await user.type(url, 'http://vm:8428');
    await user.clear(url);
    expect(saved().jsonData).not.toHaveProperty('rollups');
    expect(screen.queryByText(/^rollups\./)).not.toBeInTheDocument();
    await user.type(url, 'http://vm:8428');
    await user.type(screen.getByLabelText(CONFIG.rollupsResolution), '5m');
    await user.clear(url);
    // No url is no rollups to the backend; the resolution waits for one.
    expect(saved().jsonData.rollups).toEqual({ resolution: '5m' });
    await user.clear(screen.getByLabelText(CONFIG.rollupsResolution));
    expect(saved().jsonData).not.toHaveProperty('rollups');
    expect(saved().url).toBe('http://localhost:9428');
  });

  it('keeps the basic auth password in secureJsonData rollupsBasicAuthPassword', async () => {
    const { user, saved } = setup(options({ rollups: { url: 'http://vm:8428' } }));
    await user.click(radio(CONFIG.rollupsAuth, 'Basic'));
    await user.type(screen.getByLabelText(CONFIG.rollupsUser), 'reader');
    await user.type(screen.getByLabelText(CONFIG.rollupsPassword), 's3cret');
    const s = saved();
    expect(s.jsonData.rollups).toEqual({ url: 'http://vm:8428', basicAuthUser: 'reader' });
    expect(s.secureJsonData).toEqual({ rollupsBasicAuthPassword: 's3cret' });
    expect(JSON.stringify(s.jsonData)).not.toContain('s3cret');
    // The datasource's own basic auth is untouched.
    expect(s).toMatchObject({ basicAuth: false, basicAuthUser: '' });
  });

  it('shows a stored password as configured and resets it', async () => {
    const { user, saved } = setup(
      options({ rollups: { url: 'http://vm:8428', basicAuthUser: 'reader' } }, { rollupsBasicAuthPassword: true })
    );
    expect(radio(CONFIG.rollupsAuth, 'Basic')).toBeChecked();
    expect(screen.getByLabelText(CONFIG.rollupsUser)).toHaveValue('reader');
    const password = screen.getByLabelText(CONFIG.rollupsPassword);
    expect(password).toBeDisabled();
    expect(password).toHaveValue('configured');
    await user.click(screen.getByRole('button', { name: 'Reset' }));
    expect(saved().secureJsonFields.rollupsBasicAuthPassword).toBe(false);
    expect(saved().secureJsonData?.rollupsBasicAuthPassword).toBe('');
    expect(screen.getByLabelText(CONFIG.rollupsPassword)).toBeEnabled();
    await user.type(screen.getByLabelText(CONFIG.rollupsPassword), 'new');
    expect(saved().secureJsonData?.rollupsBasicAuthPassword).toBe('new');
  });

  it('keeps a bearer token in secureJsonData rollupsBearerToken, and resets it', async () => {
    const { user, saved } = setup(options({ rollups: { url: 'http://vm:8428' } }, { rollupsBearerToken: true }));
    expect(radio(CONFIG.rollupsAuth, 'Bearer token')).toBeChecked();
    expect(screen.getByLabelText(CONFIG.rollupsToken)).toHaveValue('configured');
    await user.click(screen.getByRole('button', { name: 'Reset' }));
    expect(saved().secureJsonFields.rollupsBearerToken).toBe(false);
    await user.type(screen.getByLabelText(CONFIG.rollupsToken), 'tok');
    expect(saved().secureJsonData).toEqual({ rollupsBearerToken: 'tok' });
    expect(saved().jsonData.rollups).toEqual({ url: 'http://vm:8428' });
  });

  it("picking a method clears the other methods' credentials, as the backend prefers a user to a token", async () => {
    const { user, saved } = setup(
      options({ rollups: { url: 'http://vm:8428', basicAuthUser: 'reader' } }, { rollupsBasicAuthPassword: true })
    );
    await user.click(radio(CONFIG.rollupsAuth, 'Bearer token'));
    expect(saved().jsonData.rollups).toEqual({ url: 'http://vm:8428' });
    expect(saved().secureJsonFields.rollupsBasicAuthPassword).toBe(false);
    await user.type(screen.getByLabelText(CONFIG.rollupsToken), 'tok');
    expect(saved().secureJsonData?.rollupsBearerToken).toBe('tok');
    // Basic picked before the user is typed stays picked.
    await user.click(radio(CONFIG.rollupsAuth, 'Basic'));
    expect(radio(CONFIG.rollupsAuth, 'Basic')).toBeChecked();
    expect(saved().secureJsonData?.rollupsBearerToken).toBe('');
    await user.type(screen.getByLabelText(CONFIG.rollupsUser), 'u');
    await user.click(radio(CONFIG.rollupsAuth, 'None'));
    expect(saved().jsonData.rollups).toEqual({ url: 'http://vm:8428' });
    expect(screen.queryByLabelText(CONFIG.rollupsUser)).not.toBeInTheDocument();
    expect(screen.queryByLabelText(CONFIG.rollupsToken)).not.toBeInTheDocument();
  });

  it('names a section that is not an object, and replaces it when edited', async () => {
    const { user, saved } = setup(options({ rollups: 'http://vm:8428' as unknown as FlowDataSourceOptions['rollups'] }));
    expect(screen.getByText('rollups must be an object such as {"url": "http://vm:8428"}')).toBeInTheDocument();
    await user.type(screen.getByLabelText(CONFIG.rollupsUrl), 'http://vm:8428');
    expect(saved().jsonData.rollups).toEqual({ url: 'http://vm:8428' });
    expect(screen.queryByText(/must be an object/)).not.toBeInTheDocument();
  });

  it('shows provisioned values that are not strings with the backend message', () => {
    setup(options({ rollups: { url: 7 as unknown as string, stamps: 'middle' as unknown as 'end' } }));
    expect(screen.getByLabelText(CONFIG.rollupsUrl)).toHaveValue('7');
    expect(screen.getByText('rollups.url must be a string, not 7')).toBeInTheDocument();
    expect(screen.getByText(/^rollups\.stamps `middle` must be `end`/)).toBeInTheDocument();
  });
});

describe('rollupsEdit', () => {
  it('writes the whole section, drops keys without a value and the section when none is left', () => {
    const jd: FlowDataSourceOptions = { rollups: { url: 'http://vm', resolution: '5m' } };
    expect(rollupsEdit(jd, { stamps: 'start' }).jsonData).toEqual({ rollups: { url: 'http://vm', resolution: '5m', stamps: 'start' } });
    expect(rollupsEdit(jd, { resolution: ' ' }).jsonData).toEqual({ rollups: { url: 'http://vm' } });
    expect(rollupsEdit({ rollups: { url: 'http://vm' } }, { url: undefined }).jsonData).toEqual({ rollups: undefined });
  });
});
