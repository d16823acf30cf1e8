import { DataSourceInstanceSettings, PluginType } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

import { DataSource } from '../datasource';
import { FlowDataSourceOptions } from '../types';
import { FakeTemplateSrv } from './fakeTemplateSrv';

export function instanceSettings(jsonData: FlowDataSourceOptions = {}): DataSourceInstanceSettings<FlowDataSourceOptions> {
  return {
    id: 1,
    uid: 'flowlens',
    type: 'flowlens-flowlogs-datasource',
    name: 'flowlens',
    access: 'proxy',
    readOnly: false,
    jsonData,
    meta: {
      id: 'flowlens-flowlogs-datasource',
      name: 'flowlens',
      type: PluginType.datasource,
      module: '',
      baseUrl: '',
      info: {
        author: { name: 'flowlens' },
        description: '',
        links: [],
        logos: { small: '', large: '' },
        screenshots: [],
        updated: '',
        version: '',
      },
    },
  };
}

export function makeDataSource(
  jsonData: FlowDataSourceOptions = { insideCidrs: ['10.0.32.0/20'] },
  templateSrv: TemplateSrv = new FakeTemplateSrv()
): DataSource {
  return new DataSource(instanceSettings(jsonData), templateSrv);
}
