import React from 'react';
import { SelectableValue } from '@grafana/data';
import { Button, FieldSet, IconButton, InlineField, InlineFieldRow, Input, Select } from '@grafana/ui';

import { ALL_FIELDS, formatFields } from '../../fields';
import { DataLinkSetting } from '../../types';
import { CONFIG } from '../selectors';
import { SectionProps } from './options';

/**
 * Links on table cells and series of a field, e.g. to a pod lookup:
 * `https://example.com/ip/${__value.raw}`. Grafana expands the variables.
 */
export function DataLinksSection({ options, onEdit }: SectionProps) {
  const jd = options.jsonData;
  const links = jd.dataLinks ?? [];
  // Links must be on fields the records have (the backend checks the same).
  const fields = jd.recordMode === 'fields' ? [...ALL_FIELDS] : (formatFields(jd.recordFormat) ?? [...ALL_FIELDS]);
  const fieldOptions: Array<SelectableValue<string>> = fields.map((f) => ({ label: f.name, value: f.name }));
  const set = (next: DataLinkSetting[]) => onEdit({ jsonData: { dataLinks: next } });
  const update = (i: number, patch: Partial<DataLinkSetting>) => set(links.map((l, j) => (j === i ? { ...l, ...patch } : l)));
  return (
    <FieldSet label="Data links">
      {links.map((link, i) => {
        const error = !fields.some((f) => f.name === link.field)
          ? `\`${link.field}\` is not a field of the records`
          : link.url.trim() === ''
            ? 'the URL is empty'
            : undefined;
        return (
          <InlineFieldRow key={i}>
            <InlineField label="Field" invalid={!!error} error={error}>
              <Select
                aria-label={CONFIG.linkField(i)}
                inputId={`flowlens-link-${i}-field`}
                width={22}
                options={fieldOptions}
                value={link.field}
                onChange={(v) => update(i, { field: v?.value ?? '' })}
              />
            </InlineField>
            <InlineField label="Title">
              <Input
                aria-label={CONFIG.linkTitle(i)}
                width={20}
                value={link.title}
                placeholder="Look up address"
                onChange={(e) => update(i, { title: e.currentTarget.value })}
              />
            </InlineField>
            <InlineField label="URL" grow>
              <Input
                aria-label={CONFIG.linkUrl(i)}
                value={link.url}
                placeholder="https://example.com/ip/${__value.raw}"
                onChange={(e) => update(i, { url: e.currentTarget.value })}
              />
            </InlineField>
            <IconButton
              name="trash-alt"
              tooltip={CONFIG.removeLink(i)}
              onClick={() => set(links.filter((_, j) => j !== i))}
            />
          </InlineFieldRow>
        );
      })}
      <Button
        variant="secondary"
        size="sm"
        icon="plus"
        onClick={() => {
          const field = fields.find((f) => f.name === 'pkt_srcaddr') ?? fields.find((f) => f.type === 'ip') ?? fields[0];
          set([...links, { field: field?.name ?? '', title: '', url: '' }]);
        }}
      >
        {CONFIG.addLink}
      </Button>
    </FieldSet>
  );
}
