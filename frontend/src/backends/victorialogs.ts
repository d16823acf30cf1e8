import { LOGSQL_LANGUAGE, logsqlLanguage } from '../components/query/rawLanguages';
import type { BackendUi } from './types';

/** VictoriaLogs: LogsQL, single node or vlselect; no settings of its own. */
export const victorialogs: BackendUi = {
  kind: 'victorialogs',
  label: 'VictoriaLogs',
  description: 'LogsQL; single node or vlselect',
  urlPlaceholder: 'http://localhost:9428',
  language: { id: LOGSQL_LANGUAGE, name: 'LogsQL', alias: 'LogsQL (VictoriaLogs)', tokens: logsqlLanguage, dialect: 'logsql' },
  rawExample: '{logtype="flow"} ACCEPT | stats count() records',
  valueStart: 'field:',
};
