import { randomBytes } from 'node:crypto';

/** A random lowercase hex id: operation ids, lease owners, temporary file names. */
export function randomId(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}
