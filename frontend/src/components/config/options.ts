import { DataSourcePluginOptionsEditorProps, DataSourceSettings } from '@grafana/data';

import { FlowDataSourceOptions, FlowSecureJsonData } from '../../types';

export type Options = DataSourceSettings<FlowDataSourceOptions, FlowSecureJsonData>;
export type ConfigProps = DataSourcePluginOptionsEditorProps<FlowDataSourceOptions, FlowSecureJsonData>;

export type SecretKey = keyof FlowSecureJsonData & string;

/** The edits one user action makes; applied together so none overwrites another. */
export interface Edit {
  top?: Partial<Pick<Options, 'url' | 'basicAuth' | 'basicAuthUser'>>;
  jsonData?: Partial<FlowDataSourceOptions>;
  secrets?: Partial<Record<SecretKey, string>>;
  /** Secrets to clear (Grafana deletes a stored secret whose field is reset). */
  reset?: SecretKey[];
}

export function applyEdit(options: Options, edit: Edit): Options {
  const secureJsonData = { ...(options.secureJsonData ?? {}), ...(edit.secrets ?? {}) };
  const secureJsonFields = { ...(options.secureJsonFields ?? {}) };
  for (const key of edit.reset ?? []) {
    secureJsonFields[key] = false;
    secureJsonData[key] = '';
  }
  return {
    ...options,
    ...(edit.top ?? {}),
    jsonData: { ...options.jsonData, ...(edit.jsonData ?? {}) },
    secureJsonData,
    secureJsonFields,
  };
}

/** A section's view of the options: read them, and apply one edit. */
export interface SectionProps {
  options: Options;
  onEdit: (edit: Edit) => void;
}

export const LABEL_WIDTH = 22;
