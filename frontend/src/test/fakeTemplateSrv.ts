// A TemplateSrv that follows Grafana's own interpolation rules
// (public/app/features/templating/template_srv.ts and formatRegistry.ts)
// closely enough to test against and to run dashboards with
// (scripts/interpolate-targets.ts): $name, ${name}, ${name:format} and
// [[name]] references; an explicit format wins over the caller's format
// callback; scoped variables win; All without a custom all value hands the
// formatter every option's value; a custom all value is inserted without
// calling the formatter (its own variables interpolated, as Grafana does);
// unknown names are left as written; values are never re-interpolated.
import type { ScopedVars, TimeRange, TypedVariableModel } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';

import { VARIABLE_PATTERN } from '../validation';

export interface FakeVariable {
  name: string;
  type?: 'custom' | 'textbox' | 'query' | 'constant';
  /** Current value: a string, several, or '$__all'. */
  value: string | string[];
  /** The variable's options' values (without '$__all'; it is ignored here). */
  options?: string[];
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

const ALL = '$__all';

type Formatter = (value: unknown, variable: { name?: string; multi?: boolean; includeAll?: boolean }) => string;

/** Grafana's regex escape (kbn.regexEscape). */
function regexEscape(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : [String(value)]);

/** The named formats of Grafana's format registry that dashboards use. */
const FORMATS: Record<string, (value: unknown) => string> = {
  glob: (v) => (Array.isArray(v) && v.length > 1 ? `{${v.join(',')}}` : list(v).join(',')),
  raw: (v) => String(v),
  regex: (v) => {
    if (typeof v === 'string') {
      return regexEscape(v);
    }
    const escaped = list(v).map(regexEscape);
    return escaped.length === 1 ? escaped[0] : `(${escaped.join('|')})`;
  },
  pipe: (v) => list(v).join('|'),
  csv: (v) => list(v).join(','),
  json: (v) => JSON.stringify(v),
  doublequote: (v) => list(v).map((s) => `"${s.replace(/"/g, '\\"')}"`).join(','),
  singlequote: (v) => list(v).map((s) => `'${s.replace(/'/g, "\\'")}'`).join(','),
  text: (v) => list(v).join(' + '),
  percentencode: (v) => list(v).map(encodeURIComponent).join(','),
};

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
    return target.replace(new RegExp(VARIABLE_PATTERN.source, 'g'), (match, n1, n2, f2, n3, _path, f3) => {
      const name: string = n1 ?? n2 ?? n3;
      const fmt: string | Function | undefined = f2 ?? f3 ?? format;
      const v = this.vars.find((x) => x.name === name);
      const scoped = scopedVars?.[name];
      if (scoped && scoped.value !== null && scoped.value !== undefined) {
        return this.format(scoped.value, v ?? {}, fmt);
      }
      if (!v) {
        return match;
      }
      const isAll = v.value === ALL || (Array.isArray(v.value) && v.value[0] === ALL);
      if (isAll) {
        if (v.allValue !== undefined && v.allValue !== '' && fmt !== 'text' && fmt !== 'percentencode') {
          return this.replace(v.allValue);
        }
        return this.format((v.options ?? []).filter((o) => o !== ALL), v, fmt);
      }
      return this.format(v.value, v, fmt);
    });
  }

  private format(value: unknown, variable: Partial<FakeVariable>, format?: string | Function): string {
    if (typeof format === 'function') {
      return (format as Formatter)(value, { name: variable.name, multi: variable.multi, includeAll: variable.includeAll });
    }
    const formatter = FORMATS[(format ?? 'glob').split(':')[0]] ?? FORMATS.glob;
    return formatter(value);
  }

  containsTemplate(target?: string): boolean {
    return !!target && new RegExp(VARIABLE_PATTERN.source).test(target);
  }

  updateTimeRange(_timeRange: TimeRange): void {}
}
