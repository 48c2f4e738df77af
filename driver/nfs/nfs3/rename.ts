/*
 * RFC 1813 section 3.3.14:
 *   RENAME3res NFSPROC3_RENAME(RENAME3args) = 14;
 *   struct RENAME3args { diropargs3 from; diropargs3 to; };
 *   struct RENAME3resok { wcc_data fromdir_wcc; wcc_data todir_wcc; };
 *   struct RENAME3resfail { wcc_data fromdir_wcc; wcc_data todir_wcc; };
 *   union RENAME3res switch (nfsstat3 status) {
 *     case NFS3_OK: RENAME3resok resok;
 *     default: RENAME3resfail resfail;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import { type DirOpArgs, type WccData, readWccData, writeDirOpArgs } from './structs.js';

export interface RenameArgs {
  readonly from: DirOpArgs;
  readonly to: DirOpArgs;
}
export interface RenameOk {
  readonly fromDirWcc: WccData;
  readonly toDirWcc: WccData;
}
export type RenameFail = RenameOk;
export type RenameRes = Nfs3Result<RenameOk, RenameFail>;

function encodeArgs(w: XdrWriter, a: RenameArgs): void {
  writeDirOpArgs(w, a.from);
  writeDirOpArgs(w, a.to);
}

function readWccs(r: XdrReader): RenameOk {
  const fromDirWcc = readWccData(r);
  const toDirWcc = readWccData(r);
  return { fromDirWcc, toDirWcc };
}

function decodeRes(r: XdrReader): RenameRes {
  return readNfs3Result(r, readWccs, readWccs);
}

export const RENAME: Procedure<RenameArgs, RenameRes> = {
  name: 'RENAME',
  proc: 14,
  idempotent: false,
  encode: encodeArgs,
  decode: decodeRes,
};
