/*
 * RFC 1813 section 3.3.2:
 *   SETATTR3res NFSPROC3_SETATTR(SETATTR3args) = 2;
 *   union sattrguard3 switch (bool check) {
 *     case TRUE: nfstime3 obj_ctime;
 *     case FALSE: void;
 *   };
 *   struct SETATTR3args { nfs_fh3 object; sattr3 new_attributes; sattrguard3 guard; };
 *   struct SETATTR3resok { wcc_data obj_wcc; };
 *   struct SETATTR3resfail { wcc_data obj_wcc; };
 *   union SETATTR3res switch (nfsstat3 status) {
 *     case NFS3_OK: SETATTR3resok resok;
 *     default: SETATTR3resfail resfail;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import {
  type Fh,
  type Sattr3,
  type WccData,
  readWccData,
  writeFh,
  writeNfstime3,
  writeSattr3,
} from './structs.js';

export interface SetattrArgs {
  readonly object: Fh;
  readonly attributes: Sattr3;
  /** Apply only if the object's ctime still equals this (guarded SETATTR; NFS3ERR_NOT_SYNC otherwise). */
  readonly guardCtime?: Date;
}
export interface SetattrOk {
  readonly objWcc: WccData;
}
export type SetattrFail = SetattrOk;
export type SetattrRes = Nfs3Result<SetattrOk, SetattrFail>;

function encodeArgs(w: XdrWriter, a: SetattrArgs): void {
  writeFh(w, a.object);
  writeSattr3(w, a.attributes);
  w.bool(a.guardCtime !== undefined);
  if (a.guardCtime !== undefined) writeNfstime3(w, a.guardCtime);
}

function readObjWcc(r: XdrReader): SetattrOk {
  return { objWcc: readWccData(r) };
}

function decodeRes(r: XdrReader): SetattrRes {
  return readNfs3Result(r, readObjWcc, readObjWcc);
}

/** Marked idempotent: setting the same attributes twice gives the same result (a guarded retry may see NOT_SYNC). */
export const SETATTR: Procedure<SetattrArgs, SetattrRes> = {
  name: 'SETATTR',
  proc: 2,
  idempotent: true,
  encode: encodeArgs,
  decode: decodeRes,
};
