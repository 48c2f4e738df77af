import { NfsError } from '../nfs/nfs-error.js';

/** The NFS status name (`NFS3ERR_EXIST`, `NFS3ERR_NOENT`, ...) of an error an `NfsFs` raised, if any. */
export function nfsStatus(err: unknown): string | undefined {
  return err instanceof NfsError ? err.status : undefined;
}

/** True when `err` carries an NFS status ending in one of `names` (e.g. 'EXIST' matches NFS3ERR_EXIST and NFS4ERR_EXIST). */
export function hasNfsStatus(err: unknown, ...names: readonly string[]): boolean {
  const status = nfsStatus(err);
  return status !== undefined && names.some((n) => status.endsWith(`ERR_${n}`));
}
