import React, { useEffect, useState } from 'react';
import { TimeRange } from '@grafana/data';
import { useTheme2 } from '@grafana/ui';

import type { DataSource } from '../../datasource';
import { FlowQuery } from '../../types';
import { QUERY } from '../selectors';

export const RENDER_DEBOUNCE_MS = 400;

interface Props {
  datasource: Pick<DataSource, 'renderQuery'>;
  query: FlowQuery;
  range: TimeRange;
  intervalMs: number;
  maxDataPoints: number;
  /** Told the rendered text, so raw mode can start from it. */
  onRendered?: (queries: string[]) => void;
}

/** The backend query text(s) that will run, from the `render` resource, fetched after typing settles. */
export function RenderedQuery({ datasource, query, range, intervalMs, maxDataPoints, onRendered }: Props) {
  const theme = useTheme2();
  const [queries, setQueries] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  const key = JSON.stringify([query, range.from.valueOf(), range.to.valueOf(), intervalMs, maxDataPoints]);

  useEffect(() => {
    let current = true;
    const timer = setTimeout(() => {
      datasource
        .renderQuery(query, range, intervalMs, maxDataPoints)
        .then((q) => {
          if (current) {
            setQueries(q);
            setError(undefined);
            onRendered?.(q);
          }
        })
        .catch((e: Error) => {
          if (current) {
            setQueries([]);
            setError(e.message);
          }
        });
    }, RENDER_DEBOUNCE_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
    // `key` captures every input; the objects themselves change identity on each render.
  }, [key, datasource]);

  const box: React.CSSProperties = {
    margin: theme.spacing(1, 0, 0, 0),
    padding: theme.spacing(1),
    fontFamily: theme.typography.fontFamilyMonospace,
    fontSize: theme.typography.bodySmall.fontSize,
    background: theme.colors.background.secondary,
    whiteSpace: 'pre-wrap',
    wordBreak: 'break-all',
  };
  if (error) {
    return (
      <div data-testid={QUERY.renderError} style={{ ...box, color: theme.colors.error.text }}>
        {error}
      </div>
    );
  }
  if (queries.length === 0) {
    return null;
  }
  return (
    <pre data-testid={QUERY.rendered} style={box} title="The backend query this target runs">
      {queries.join('\n\n')}
    </pre>
  );
}
