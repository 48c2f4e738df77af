import { ValidationError } from '../common/errors.js';

/**
 * Docker's rule for volume names as the daemon enforces it (moby `volume/local`:
 * `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, so at least two characters; a one-character name is refused
 * by `docker volume create` with "volume name is too short").
 */
const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * Longest accepted name in bytes. The name becomes a file name on the export (NAME_MAX 255) and
 * `<NAME>.json` / `NAME-<time>` in the registry, so a margin is kept.
 */
export const MAX_NAME_BYTES = 128;

/** Label keys follow Docker's reverse-DNS convention loosely; values are free text without NUL/newlines. */
const LABEL_KEY_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.\-/]*$/;
const MAX_LABEL_BYTES = 1024;

function describe(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}

/**
 * Validates a volume or host name; returns it unchanged or throws a `ValidationError` naming
 * `field`. Runs before anything touches the export or a host, so a refused name has no effect.
 */
export function validateName(name: unknown, field = 'name'): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ValidationError(field, 'must be a non-empty string');
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES) {
    throw new ValidationError(
      field,
      `${describe(name)} is ${bytes} bytes long; the limit is ${MAX_NAME_BYTES}`,
    );
  }
  if (!NAME_PATTERN.test(name)) {
    throw new ValidationError(
      field,
      `${describe(name)} is not a valid name: use at least 2 of letters, digits, '_', '.', '-', starting with a letter or digit`,
    );
  }
  // '.' and '..' cannot match the pattern (first char must be alphanumeric), but a name that
  // contains '..' is refused too so that no path built from it can look like a traversal.
  if (name.includes('..')) {
    throw new ValidationError(field, `${describe(name)} must not contain '..'`);
  }
  return name;
}

/** Validates many names at once; throws on the first bad one, so nothing runs for any of them. */
export function validateNames(names: readonly unknown[], field = 'name'): string[] {
  if (names.length === 0) throw new ValidationError(field, 'at least one name is required');
  const seen = new Set<string>();
  const out: string[] = [];
  for (const n of names) {
    const name = validateName(n, field);
    if (!seen.has(name)) {
      seen.add(name);
      out.push(name);
    }
  }
  return out;
}

/**
 * Parses `K=V` labels (repeatable `--label`). The value may contain `=`; only the first `=`
 * splits. Keys are restricted; values may be any text without NUL or line breaks.
 */
export function parseLabels(items: readonly string[], field = 'label'): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ValidationError(field, `${describe(item)} must look like KEY=VALUE`);
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (!LABEL_KEY_PATTERN.test(key) || Buffer.byteLength(key) > 255) {
      throw new ValidationError(
        field,
        `key ${describe(key)} is not valid: use letters, digits, '_', '.', '-', '/'`,
      );
    }
    if (key.startsWith('nfsvol.')) {
      throw new ValidationError(field, `key ${describe(key)} is reserved for nfsvol`);
    }
    if (/[\0\r\n]/.test(value) || Buffer.byteLength(value) > MAX_LABEL_BYTES) {
      throw new ValidationError(
        field,
        `value of ${describe(key)} must be at most ${MAX_LABEL_BYTES} bytes, without NUL or line breaks`,
      );
    }
    labels[key] = value;
  }
  return labels;
}

/** Parses an octal mode string like `0755`, `755` or `0o2775`. */
export function parseMode(value: string | number, field = 'mode'): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > 0o7777) {
      throw new ValidationError(field, `${value} is not a permission mode (0..07777)`);
    }
    return value;
  }
  const m = /^(?:0o)?([0-7]{1,4})$/.exec(value.trim());
  if (!m?.[1]) throw new ValidationError(field, `${describe(value)} is not an octal mode like 0755`);
  return Number.parseInt(m[1], 8);
}

/** Validates a uid/gid. */
export function parseId(value: string | number, field: string): number {
  const n = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_fffe) {
    throw new ValidationError(field, `${describe(String(value))} is not a numeric id`);
  }
  return n;
}
