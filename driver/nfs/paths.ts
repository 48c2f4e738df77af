import { ValidationError } from '../common/errors.js';

/**
 * Splits an export-relative path into its components. `/a//b/` and `a/b` are the same path;
 * `.` is dropped; `..` is refused (paths never climb, so a volume name can never reach outside).
 */
export function splitPath(path: string): string[] {
  if (path.includes('\0')) throw new ValidationError('path', 'must not contain NUL');
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ValidationError('path', `must not contain "..": "${path}"`);
  for (const p of parts) {
    if (Buffer.byteLength(p) > 255)
      throw new ValidationError('path', `component longer than 255 bytes in "${path}"`);
  }
  return parts;
}

export function joinPath(parts: readonly string[]): string {
  return parts.join('/');
}
