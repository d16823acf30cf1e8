import { useEffect, useState } from 'react';

import { ALL_FIELDS } from '../../fields';
import { FieldInfo } from '../../types';

/** What can list the record's fields (the datasource). */
export interface FieldSource {
  fields(): Promise<FieldInfo[]>;
}

/** The record's fields from the `fields` resource; every AWS field until (or unless) it answers. */
export function useFields(datasource: FieldSource): FieldInfo[] {
  const [fields, setFields] = useState<FieldInfo[]>([...ALL_FIELDS]);
  useEffect(() => {
    let current = true;
    datasource.fields().then((f) => current && setFields(f));
    return () => {
      current = false;
    };
  }, [datasource]);
  return fields;
}
