/*
 * RFC 1813 section 3.3.9:
 *   MKDIR3res NFSPROC3_MKDIR(MKDIR3args) = 9;
 *   struct MKDIR3args { diropargs3 where; sattr3 attributes; };
 *   struct MKDIR3resok { post_op_fh3 obj; post_op_attr obj_attributes; wcc_data dir_wcc; };
 *   struct MKDIR3resfail { wcc_data dir_wcc; };
 *   union MKDIR3res switch (nfsstat3 status) {
 *     case NFS3_OK: MKDIR3resok resok;
 *     default: MKDIR3resfail resfail;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import {
  type DirOpArgs,
  type DirWcc,
  type NewObjectOk,
  type Sattr3,
  readDirWcc,
  readNewObjectOk,
  writeDirOpArgs,
  writeSattr3,
} from './structs.js';

export interface MkdirArgs {
  readonly where: DirOpArgs;
  readonly attributes: Sattr3;
}
export type MkdirOk = NewObjectOk;
export type MkdirFail = DirWcc;
export type MkdirRes = Nfs3Result<MkdirOk, MkdirFail>;

function encodeArgs(w: XdrWriter, a: MkdirArgs): void {
  writeDirOpArgs(w, a.where);
  writeSattr3(w, a.attributes);
}

function decodeRes(r: XdrReader): MkdirRes {
  return readNfs3Result(r, readNewObjectOk, readDirWcc);
}

export const MKDIR: Procedure<MkdirArgs, MkdirRes> = {
  name: 'MKDIR',
  proc: 9,
  idempotent: false,
  encode: encodeArgs,
  decode: decodeRes,
};
