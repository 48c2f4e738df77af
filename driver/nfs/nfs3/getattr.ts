/*
 * RFC 1813 section 3.3.1:
 *   GETATTR3res NFSPROC3_GETATTR(GETATTR3args) = 1;
 *   struct GETATTR3args { nfs_fh3 object; };
 *   struct GETATTR3resok { fattr3 obj_attributes; };
 *   union GETATTR3res switch (nfsstat3 status) {
 *     case NFS3_OK: GETATTR3resok resok;
 *     default: void;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { type Nfs3Result, readNfs3Result, readVoid } from './result.js';
import { type Fattr3, type Fh, readFattr3, writeFh } from './structs.js';

export interface GetattrArgs {
  readonly object: Fh;
}
export interface GetattrOk {
  readonly objAttributes: Fattr3;
}
export type GetattrFail = undefined;
export type GetattrRes = Nfs3Result<GetattrOk, GetattrFail>;

function encodeArgs(w: XdrWriter, a: GetattrArgs): void {
  writeFh(w, a.object);
}

function decodeRes(r: XdrReader): GetattrRes {
  return readNfs3Result(r, (r) => ({ objAttributes: readFattr3(r) }), readVoid);
}

export const GETATTR: Procedure<GetattrArgs, GetattrRes> = {
  name: 'GETATTR',
  proc: 1,
  idempotent: true,
  encode: encodeArgs,
  decode: decodeRes,
};
