/*
 * RFC 1813 section 5.2.1:
 *   mountres3 MOUNTPROC3_MNT(dirpath) = 1;
 *   struct mountres3_ok { fhandle3 fhandle; int auth_flavors<>; };
 *   union mountres3 switch (mountstat3 fhs_status) {
 *     case MNT3_OK: mountres3_ok mountinfo;
 *     default: void;
 *   };
 */
import { type Nfs3Result, readNfs3Result, readVoid } from '../nfs3/result.js';
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { FHSIZE3, MNTPATHLEN } from './types.js';

/** More flavors than any server offers (AUTH_NONE, AUTH_SYS, RPCSEC_GSS variants...). */
const MAX_AUTH_FLAVORS = 32;

/** The export path on the server. */
export type MntArgs = string;
export interface MntOk {
  /** The root file handle of the export (an nfs_fh3). */
  readonly fhandle: Uint8Array;
  /** RPC auth flavors the export accepts, most preferred first (AUTH_SYS = 1). */
  readonly authFlavors: number[];
}
/** mountstat3 in `status` on failure; see mount3StatusName. */
export type MntRes = Nfs3Result<MntOk, undefined>;

function encodeArgs(w: XdrWriter, dirpath: MntArgs): void {
  w.string(dirpath, MNTPATHLEN);
}

function readOk(r: XdrReader): MntOk {
  const fhandle = new Uint8Array(r.opaque(FHSIZE3, 'fhandle3'));
  const authFlavors = r.array(MAX_AUTH_FLAVORS, 4, (r) => r.i32(), 'auth_flavors');
  return { fhandle, authFlavors };
}

function decodeRes(r: XdrReader): MntRes {
  return readNfs3Result(r, readOk, readVoid);
}

export const MNT: Procedure<MntArgs, MntRes> = {
  name: 'MNT',
  proc: 1,
  idempotent: true,
  encode: encodeArgs,
  decode: decodeRes,
};
