/*
 * RFC 1813 section 3.3.10:
 *   SYMLINK3res NFSPROC3_SYMLINK(SYMLINK3args) = 10;
 *   struct symlinkdata3 { sattr3 symlink_attributes; nfspath3 symlink_data; };
 *   struct SYMLINK3args { diropargs3 where; symlinkdata3 symlink; };
 *   struct SYMLINK3resok { post_op_fh3 obj; post_op_attr obj_attributes; wcc_data dir_wcc; };
 *   struct SYMLINK3resfail { wcc_data dir_wcc; };
 *   union SYMLINK3res switch (nfsstat3 status) {
 *     case NFS3_OK: SYMLINK3resok resok;
 *     default: SYMLINK3resfail resfail;
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
  NFS3_PATH_MAX,
  type Sattr3,
  readDirWcc,
  readNewObjectOk,
  writeDirOpArgs,
  writeSattr3,
} from './structs.js';

export interface SymlinkArgs {
  readonly where: DirOpArgs;
  readonly attributes: Sattr3;
  /** The link's contents (symlink_data). */
  readonly target: string;
}
export type SymlinkOk = NewObjectOk;
export type SymlinkFail = DirWcc;
export type SymlinkRes = Nfs3Result<SymlinkOk, SymlinkFail>;

function encodeArgs(w: XdrWriter, a: SymlinkArgs): void {
  writeDirOpArgs(w, a.where);
  writeSattr3(w, a.attributes);
  w.string(a.target, NFS3_PATH_MAX);
}

function decodeRes(r: XdrReader): SymlinkRes {
  return readNfs3Result(r, readNewObjectOk, readDirWcc);
}

export const SYMLINK: Procedure<SymlinkArgs, SymlinkRes> = {
  name: 'SYMLINK',
  proc: 10,
  idempotent: false,
  encode: encodeArgs,
  decode: decodeRes,
};
