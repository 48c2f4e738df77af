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

/** A value short enough to quote in an error message. */
export function describe(value: string): string {
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
