import { useEffect, useState } from 'react';

import type { DataSource } from '../../datasource';
import { ALL_FIELDS } from '../../fields';
import { FieldInfo } from '../../types';

/** The record's fields from the `fields` resource; every AWS field until (or unless) it answers. */
export function useFields(datasource: Pick<DataSource, 'fields'>): FieldInfo[] {
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
