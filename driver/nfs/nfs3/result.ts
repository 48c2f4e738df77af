import type { XdrReader } from '../xdr/xdr-reader.js';
import { Nfs3Status } from './status.js';

/**
 * A decoded `union XXX3res switch (nfsstat3 status)`: the ok arm for NFS3_OK, otherwise the
 * status and the fail arm (which for most procedures still carries attributes or wcc_data).
 */
export type Nfs3Result<Ok, Fail> =
  | { readonly ok: true; readonly value: Ok }
  | { readonly ok: false; readonly status: number; readonly value: Fail };

/** Reads the status, then the ok arm (status 0) or the fail arm (any other status). */
export function readNfs3Result<Ok, Fail>(
  r: XdrReader,
  ok: (r: XdrReader) => Ok,
  fail: (r: XdrReader) => Fail,
): Nfs3Result<Ok, Fail> {
  const status = r.u32();
  return status === Nfs3Status.NFS3_OK ? { ok: true, value: ok(r) } : { ok: false, status, value: fail(r) };
}

/** For unions whose fail arm is `void`. */
export function readVoid(): undefined {
  return undefined;
}
