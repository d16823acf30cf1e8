// What differs per backend in the frontend: one module per backend
// (victorialogs.ts, loki.tsx), listed once in index.ts. Components ask the
// registry; none names a backend.
import type React from 'react';
import type { monacoTypes } from '@grafana/ui';

import type { SectionProps } from '../components/config/options';
import type { Dialect } from '../components/query/rawCompletion';
import type { BackendKind } from '../types';

/** One backend as the editors see it. */
export interface BackendUi {
  /** The `backend` setting's value. */
  kind: BackendKind;
  /** Its name in the backend picker, and what it talks to. */
  label: string;
  description: string;
  /** The URL's placeholder: the backend's usual local address. */
  urlPlaceholder: string;
  /** The raw query language: Monaco's id, its name, its tokenizer, how it is completed. */
  language: { id: string; name: string; alias: string; tokens: monacoTypes.languages.IMonarchLanguage; dialect: Dialect };
  /** A raw query to show as an example. */
  rawExample: string;
  /** How a field's value starts in the raw language (where values are completed). */
  valueStart: string;
  /** Settings of this backend only, in the Connection section. */
  ConnectionFields?: React.ComponentType<SectionProps>;
  /** Settings of this backend only for records parsed at ingest (Record section). */
  FieldsModeFields?: React.ComponentType<SectionProps>;
}
