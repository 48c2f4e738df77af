/*
 * RFC 1813 section 3.3.3:
 *   LOOKUP3res NFSPROC3_LOOKUP(LOOKUP3args) = 3;
 *   struct LOOKUP3args { diropargs3 what; };
 *   struct LOOKUP3resok { nfs_fh3 object; post_op_attr obj_attributes; post_op_attr dir_attributes; };
 *   struct LOOKUP3resfail { post_op_attr dir_attributes; };
 *   union LOOKUP3res switch (nfsstat3 status) {
 *     case NFS3_OK: LOOKUP3resok resok;
 *     default: LOOKUP3resfail resfail;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import { type DirOpArgs, type Fattr3, type Fh, readFh, readPostOpAttr, writeDirOpArgs } from './structs.js';

export type LookupArgs = DirOpArgs;
export interface LookupOk {
  readonly object: Fh;
  readonly objAttributes?: Fattr3;
  readonly dirAttributes?: Fattr3;
}
export interface LookupFail {
  readonly dirAttributes?: Fattr3;
}
export type LookupRes = Nfs3Result<LookupOk, LookupFail>;

function readOk(r: XdrReader): LookupOk {
  const object = readFh(r);
  const objAttributes = readPostOpAttr(r);
  const dirAttributes = readPostOpAttr(r);
  return { object, objAttributes, dirAttributes };
}

function decodeRes(r: XdrReader): LookupRes {
  return readNfs3Result(r, readOk, (r) => ({ dirAttributes: readPostOpAttr(r) }));
}

export const LOOKUP: Procedure<LookupArgs, LookupRes> = {
  name: 'LOOKUP',
  proc: 3,
  idempotent: true,
  encode: writeDirOpArgs,
  decode: decodeRes,
};
