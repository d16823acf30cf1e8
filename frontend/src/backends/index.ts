// The registry: every backend the frontend knows, in picker order. Adding a
// backend is a module beside this one and a line here.
import { BackendKind, SETTINGS_DEFAULTS } from '../types';
import { loki } from './loki';
import type { BackendUi } from './types';
import { victorialogs } from './victorialogs';

export type { BackendUi } from './types';

export const BACKENDS: readonly BackendUi[] = [victorialogs, loki];

/** The backend a datasource names (the default when it names none). */
export function backendUi(kind: BackendKind | undefined): BackendUi {
  const wanted = kind ?? SETTINGS_DEFAULTS.backend;
  return BACKENDS.find((b) => b.kind === wanted) ?? BACKENDS[0];
}

/** The backend whose raw language has Monaco id `languageId`. */
export function backendOfLanguage(languageId: string): BackendUi | undefined {
  return BACKENDS.find((b) => b.language.id === languageId);
}
