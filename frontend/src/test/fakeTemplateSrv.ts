// A TemplateSrv that follows Grafana's own interpolation rules closely enough
// to test against: ${name}, $name and [[name]] references; scoped variables
// win; All without a custom all value hands the formatter every option's
// value; a custom all value is inserted without calling the formatter;
// unknown names are left as written; values are never re-interpolated.
import { ScopedVars, TimeRange, TypedVariableModel } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

import { VARIABLE_PATTERN } from '../validation';

export interface FakeVariable {
  name: string;
  type?: 'custom' | 'textbox' | 'query';
  /** Current value: a string, several, or '$__all'. */
  value: string | string[];
  options?: string[];
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

const ALL = '$__all';

export class FakeTemplateSrv implements TemplateSrv {
  constructor(private readonly vars: FakeVariable[] = []) {}

  getVariables(): TypedVariableModel[] {
    return this.vars.map(
      (v) =>
        ({
          name: v.name,
          type: v.type ?? 'custom',
          multi: v.multi ?? false,
          includeAll: v.includeAll ?? false,
          allValue: v.allValue ?? null,
          current: { value: v.value, text: v.value },
          options: (v.options ?? []).map((o) => ({ value: o, text: o, selected: false })),
        }) as unknown as TypedVariableModel
    );
  }

  replace(target?: string, scopedVars?: ScopedVars, format?: string | Function): string {
    if (!target) {
      return target ?? '';
    }
    return target.replace(new RegExp(VARIABLE_PATTERN.source, 'g'), (match, n1, n2, _f2, n3) => {
      const name: string = n1 ?? n2 ?? n3;
      const scoped = scopedVars?.[name];
      if (scoped) {
        return this.format(scoped.value, { name }, format);
      }
      const v = this.vars.find((x) => x.name === name);
      if (!v) {
        return match;
      }
      const isAll = v.value === ALL || (Array.isArray(v.value) && v.value.includes(ALL));
      if (isAll) {
        if (v.allValue !== undefined && typeof format === 'function') {
          return v.allValue;
        }
        return this.format((v.options ?? []).filter((o) => o !== ALL), v, format);
      }
      return this.format(v.value, v, format);
    });
  }

  private format(value: unknown, variable: Partial<FakeVariable>, format?: string | Function): string {
    if (typeof format === 'function') {
      return format(value, { name: variable.name, multi: variable.multi, includeAll: variable.includeAll });
    }
    return Array.isArray(value) ? `{${value.join(',')}}` : String(value);
  }

  containsTemplate(target?: string): boolean {
    return !!target && new RegExp(VARIABLE_PATTERN.source).test(target);
  }

  updateTimeRange(_timeRange: TimeRange): void {}
}
