/*
 * RFC 1813 section 3.3.12:
 *   REMOVE3res NFSPROC3_REMOVE(REMOVE3args) = 12;
 *   struct REMOVE3args { diropargs3 object; };
 *   struct REMOVE3resok { wcc_data dir_wcc; };
 *   struct REMOVE3resfail { wcc_data dir_wcc; };
 *   union REMOVE3res switch (nfsstat3 status) {
 *     case NFS3_OK: REMOVE3resok resok;
 *     default: REMOVE3resfail resfail;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import { type DirOpArgs, type DirWcc, readDirWcc, writeDirOpArgs } from './structs.js';

export type RemoveArgs = DirOpArgs;
export type RemoveOk = DirWcc;
export type RemoveFail = DirWcc;
export type RemoveRes = Nfs3Result<RemoveOk, RemoveFail>;

function decodeRes(r: XdrReader): RemoveRes {
  return readNfs3Result(r, readDirWcc, readDirWcc);
}

export const REMOVE: Procedure<RemoveArgs, RemoveRes> = {
  name: 'REMOVE',
  proc: 12,
  idempotent: false,
  encode: writeDirOpArgs,
  decode: decodeRes,
};
