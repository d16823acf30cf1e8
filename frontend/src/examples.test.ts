// examples/queries.json is shared with the Rust tests: both sides must read
// every example as a valid query of model version 1.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { migrateQuery } from './migrate';
import { FlowQuery } from './types';
import { validateQuery } from './validation';

interface Example {
  name: string;
  query: FlowQuery;
}

const file = path.resolve(__dirname, '../../examples/queries.json');
const examples: Example[] = JSON.parse(readFileSync(file, 'utf8'));

describe('examples/queries.json', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThan(0);
  });

  it.each(examples.map((e) => [e.name, e.query] as const))('%s is a valid FlowQuery', (_name, query) => {
    expect(typeof query.refId).toBe('string');
    const q = migrateQuery(query);
    expect(validateQuery(q)).toEqual([]);
    // Migration only fills defaults: what the example says is kept.
    for (const [key, value] of Object.entries(query)) {
      expect(q[key as keyof FlowQuery]).toEqual(value);
    }
  });
});
