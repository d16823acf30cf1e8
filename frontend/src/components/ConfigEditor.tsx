import React from 'react';

import { AuthSection } from './config/AuthSection';
import { ConnectionSection } from './config/ConnectionSection';
import { DataLinksSection } from './config/DataLinksSection';
import { NamesSection } from './config/NamesSection';
import { applyEdit, ConfigProps, Edit } from './config/options';
import { RecordSection } from './config/RecordSection';
import { RollupsSection } from './config/RollupsSection';
import { TlsSection } from './config/TlsSection';
import { TrafficSection } from './config/TrafficSection';

/** Datasource settings (docs/query-model.md, "Datasource settings"); "Save & test" asks the backend. */
export function ConfigEditor({ options, onOptionsChange }: ConfigProps) {
  const onEdit = (edit: Edit) => onOptionsChange(applyEdit(options, edit));
  return (
    <div>
      <ConnectionSection options={options} onEdit={onEdit} />
      <AuthSection options={options} onEdit={onEdit} />
      <TlsSection options={options} onEdit={onEdit} />
      <RecordSection options={options} onEdit={onEdit} />
      <TrafficSection options={options} onEdit={onEdit} />
      <RollupsSection options={options} onEdit={onEdit} />
      <NamesSection options={options} onEdit={onEdit} />
      <DataLinksSection options={options} onEdit={onEdit} />
    </div>
  );
}
