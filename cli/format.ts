import { jsonReplacer, UsageError } from './context.js';

/**
 * `--format` and `--filter` as Docker's CLI has them, for the commands that print records
 * (`volume ls`, `volume inspect`, `host ls`):
 *
 * - `--format json`: one JSON object a line (JSON lines), as `docker volume ls --format json`.
 * - `--format TEMPLATE`: text with `{{.Field}}` substituted for each record, one record a line.
 *   The subset of Go templates Docker's users write: `{{.Field}}`, `{{.Label "key"}}`,
 *   `{{json .}}` and `{{json .Field}}`; `\t` and `\n` in the template stand for tab and newline.
 *   Anything else is refused before the command runs, naming the fields there are.
 */

/** A record's fields as a template sees them: `Name`, `Labels`, ... */
export type Fields<T> = Readonly<Record<string, (item: T) => unknown>>;

type Part =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'field'; readonly field: string; readonly json: boolean }
  | { readonly kind: 'label'; readonly key: string }
  | { readonly kind: 'self' };

/** How records are printed: Docker's `json`, or a template. */
export type OutputFormat<T> =
  { readonly kind: 'json' } | { readonly kind: 'template'; readonly render: (item: T) => string };

/**
 * Parses a `--format` value for records with `fields`. `labels` names the field that holds the
 * record's labels, for `{{.Label "key"}}`.
 */
export function parseFormat<T>(spec: string, fields: Fields<T>, labels?: string): OutputFormat<T> {
  if (spec.trim() === 'json') return { kind: 'json' };
  if (/^\s*table\b/.test(spec)) {
    throw new UsageError(
      `--format: table templates are not supported; give json or a template such as '{{.Name}}'`,
    );
  }
  const parts = parseTemplate(spec, fields, labels);
  const render = (item: T): string =>
    parts
      .map((p) => {
        switch (p.kind) {
          case 'text':
            return p.text;
          case 'self':
            return JSON.stringify(item, jsonReplacer);
          case 'label': {
            const all = labels === undefined ? undefined : fields[labels]?.(item);
            const v = (all as Readonly<Record<string, string>> | undefined)?.[p.key];
            return v ?? '';
          }
          case 'field': {
            const v = fields[p.field]?.(item);
            return p.json ? (JSON.stringify(v, jsonReplacer) ?? 'null') : fieldText(v);
          }
        }
      })
      .join('');
  return { kind: 'template', render };
}

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/g;

function parseTemplate<T>(spec: string, fields: Fields<T>, labels: string | undefined): Part[] {
  const parts: Part[] = [];
  const known = Object.keys(fields);
  const unknown = (what: string): UsageError =>
    new UsageError(
      `--format: ${what}; use {{.Field}}, {{json .}}, {{json .Field}}${labels ? ', {{.Label "key"}}' : ''} with a field of ${known.join(', ')}`,
    );
  let at = 0;
  for (const m of spec.matchAll(ACTION)) {
    if (m.index > at) parts.push({ kind: 'text', text: unescape(spec.slice(at, m.index)) });
    at = m.index + m[0].length;
    const action = m[1] ?? '';
    let a: RegExpExecArray | null;
    if (/^(json\s+)?\.$/.test(action)) {
      if (!action.startsWith('json')) throw unknown(`'{{.}}' is not supported`);
      parts.push({ kind: 'self' });
    } else if ((a = /^(json\s+)?\.([A-Za-z][A-Za-z0-9]*)$/.exec(action))) {
      const field = a[2] ?? '';
      if (!(field in fields)) throw unknown(`no field '${field}'`);
      parts.push({ kind: 'field', field, json: a[1] !== undefined });
    } else if (labels && (a = /^\.Label\s+"([^"]*)"$/.exec(action))) {
      parts.push({ kind: 'label', key: a[1] ?? '' });
    } else {
      throw unknown(`'${m[0]}' is not a template action nfsvol knows`);
    }
  }
  if (at < spec.length) parts.push({ kind: 'text', text: unescape(spec.slice(at)) });
  if (spec.slice(at).includes('{{')) throw unknown(`unclosed '{{'`);
  return parts;
}

/** `\t` and `\n` as shells pass them (two characters), as Docker reads them. */
function unescape(text: string): string {
  return text.replace(/\\([tn\\])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : '\\'));
}

/** A field as text: scalars as they are, lists joined with `, `, a string map as `k=v,k=v`. */
export function fieldText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => fieldText(x)).join(', ');
  if (typeof v === 'object' && Object.values(v).every((x) => typeof x === 'string')) {
    return Object.entries(v as Record<string, string>)
      .map(([k, x]) => `${k}=${x}`)
      .join(',');
  }
  return JSON.stringify(v, jsonReplacer);
}

/** Prints one record as `format` says: a JSON line, or the template's text and a newline. */
export function formatRecord<T>(format: OutputFormat<T>, item: T): string {
  return format.kind === 'json' ? `${JSON.stringify(item, jsonReplacer)}\n` : `${format.render(item)}\n`;
}

/**
 * `--filter KEY=VALUE`, as Docker's: `name=SUBSTR` (any of several), `label=KEY` or
 * `label=KEY=VALUE` (every one).
 */
export interface Filters {
  readonly names: readonly string[];
  readonly labels: readonly { readonly key: string; readonly value?: string }[];
}

export function parseFilters(specs: readonly string[], allowed: readonly ('name' | 'label')[]): Filters {
  const names: string[] = [];
  const labels: { key: string; value?: string }[] = [];
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const key = eq < 0 ? spec : spec.slice(0, eq);
    const value = eq < 0 ? undefined : spec.slice(eq + 1);
    if (!(allowed as readonly string[]).includes(key)) {
      throw new UsageError(
        `--filter: unknown filter '${key}' (known: ${allowed.map((k) => `${k}=`).join(', ')})`,
      );
    }
    if (value === undefined || value === '') {
      throw new UsageError(`--filter: '${spec}' needs a value (${key}=...)`);
    }
    if (key === 'name') {
      names.push(value);
    } else {
      const e = value.indexOf('=');
      labels.push(e < 0 ? { key: value } : { key: value.slice(0, e), value: value.slice(e + 1) });
    }
  }
  return { names, labels };
}

/** Whether a record with this name and these labels passes every filter. */
export function matches(
  filters: Filters,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): boolean {
  if (filters.names.length > 0 && !filters.names.some((n) => name.includes(n))) return false;
  return filters.labels.every((l) =>
    l.value === undefined ? Object.hasOwn(labels, l.key) : labels[l.key] === l.value,
  );
}
