/**
 * Reads the NFS status name (`NFS3ERR_EXIST`, `NFS3ERR_NOENT`, ...) from an error raised by an
 * `NfsFs`. Kept in one place so it can become `err instanceof NfsError` once that class exists.
 */
export function nfsStatus(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const status = (err as { status?: unknown }).status;
  return typeof status === 'string' ? status : undefined;
}

/** True when `err` carries an NFS status ending in one of `names` (e.g. 'EXIST' matches NFS3ERR_EXIST and NFS4ERR_EXIST). */
export function hasNfsStatus(err: unknown, ...names: readonly string[]): boolean {
  const status = nfsStatus(err);
  return status !== undefined && names.some((n) => status.endsWith(`ERR_${n}`));
}
