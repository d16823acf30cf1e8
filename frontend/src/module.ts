// Wiring only: the datasource class and its editors.
import { DataSourcePlugin } from '@grafana/data';

import { ConfigEditor } from './components/ConfigEditor';
import { QueryEditor } from './components/QueryEditor';
import { DataSource } from './datasource';
import { FlowDataSourceOptions, FlowQuery, FlowSecureJsonData } from './types';

export const plugin = new DataSourcePlugin<DataSource, FlowQuery, FlowDataSourceOptions, FlowSecureJsonData>(DataSource)
  .setConfigEditor(ConfigEditor)
  .setQueryEditor(QueryEditor);
