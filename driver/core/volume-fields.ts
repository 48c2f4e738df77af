import { ValidationError } from '../common/errors.js';
import { describe } from './names.js';

/* The other fields a user gives a volume: labels, a mode, owner ids. */

/** Label keys follow Docker's reverse-DNS convention loosely; values are free text without NUL/newlines. */
const LABEL_KEY_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.\-/]*$/;
const MAX_LABEL_BYTES = 1024;

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
