import React from 'react';
import { Button } from '@grafana/ui';

import { FieldInfo, FlowFilter } from '../../types';
import { validateFilter } from '../../validation';
import { QUERY } from '../selectors';
import { FilterRow } from './FilterRow';

interface Props {
  filters: FlowFilter[];
  fields: FieldInfo[];
  onChange: (filters: FlowFilter[], run: boolean) => void;
  onBlur: () => void;
}

/** A new filter starts on pkt_srcaddr (the field most filters use), else the first address field. */
function firstAddress(fields: FieldInfo[]): string {
  return (fields.find((f) => f.name === 'pkt_srcaddr') ?? fields.find((f) => f.type === 'ip') ?? fields[0])?.name ?? '';
}

/** The ANDed filter rows and the button that adds one. */
export function FiltersSection({ filters, fields, onChange, onBlur }: Props) {
  const names = fields.map((f) => f.name);
  const replace = (i: number, f: FlowFilter) => {
    const next = filters.slice();
    const before = next[i];
    next[i] = f;
    // Field and operator choices run the query; typing a value runs it on blur.
    onChange(next, f.field !== before.field || f.op !== before.op);
  };
  return (
    <div>
      {filters.map((f, i) =>
        // A saved entry that is not an object has no row; the query's errors name it.
        typeof f !== 'object' || f === null ? null : (
        <FilterRow
          key={i}
          index={i}
          filter={f}
          fields={fields}
          error={validateFilter(f, names)}
          onChange={(nf) => replace(i, nf)}
          onRemove={() => onChange(filters.filter((_, j) => j !== i), true)}
          onBlur={onBlur}
        />
        )
      )}
      <Button
        variant="secondary"
        size="sm"
        icon="plus"
        aria-label={QUERY.addFilter}
        onClick={() => onChange([...filters, { field: firstAddress(fields), op: '=~', value: '' }], false)}
      >
        {QUERY.addFilter}
      </Button>
    </div>
  );
}
