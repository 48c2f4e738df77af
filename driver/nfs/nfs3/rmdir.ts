/*
 * RFC 1813 section 3.3.13:
 *   RMDIR3res NFSPROC3_RMDIR(RMDIR3args) = 13;
 *   struct RMDIR3args { diropargs3 object; };
 *   struct RMDIR3resok { wcc_data dir_wcc; };
 *   struct RMDIR3resfail { wcc_data dir_wcc; };
 *   union RMDIR3res switch (nfsstat3 status) {
 *     case NFS3_OK: RMDIR3resok resok;
 *     default: RMDIR3resfail resfail;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import { type DirOpArgs, type DirWcc, readDirWcc, writeDirOpArgs } from './structs.js';

export type RmdirArgs = DirOpArgs;
export type RmdirOk = DirWcc;
export type RmdirFail = DirWcc;
export type RmdirRes = Nfs3Result<RmdirOk, RmdirFail>;

function decodeRes(r: XdrReader): RmdirRes {
  return readNfs3Result(r, readDirWcc, readDirWcc);
}

export const RMDIR: Procedure<RmdirArgs, RmdirRes> = {
  name: 'RMDIR',
  proc: 13,
  idempotent: false,
  encode: writeDirOpArgs,
  decode: decodeRes,
};
