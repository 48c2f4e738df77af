/*
 * RFC 1813 section 3.3.4:
 *   ACCESS3res NFSPROC3_ACCESS(ACCESS3args) = 4;
 *   const ACCESS3_READ = 0x0001; const ACCESS3_LOOKUP = 0x0002; const ACCESS3_MODIFY = 0x0004;
 *   const ACCESS3_EXTEND = 0x0008; const ACCESS3_DELETE = 0x0010; const ACCESS3_EXECUTE = 0x0020;
 *   struct ACCESS3args { nfs_fh3 object; uint32 access; };
 *   struct ACCESS3resok { post_op_attr obj_attributes; uint32 access; };
 *   struct ACCESS3resfail { post_op_attr obj_attributes; };
 *   union ACCESS3res switch (nfsstat3 status) {
 *     case NFS3_OK: ACCESS3resok resok;
 *     default: ACCESS3resfail resfail;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import {
  type Fattr3,
  type Fh,
  type ObjAttrFail,
  readObjAttrFail,
  readPostOpAttr,
  writeFh,
} from './structs.js';

export const ACCESS3_READ = 0x0001;
export const ACCESS3_LOOKUP = 0x0002;
export const ACCESS3_MODIFY = 0x0004;
export const ACCESS3_EXTEND = 0x0008;
export const ACCESS3_DELETE = 0x0010;
export const ACCESS3_EXECUTE = 0x0020;

export interface AccessArgs {
  readonly object: Fh;
  /** ACCESS3_* bits to check. */
  readonly access: number;
}
export interface AccessOk {
  readonly objAttributes?: Fattr3;
  /** The requested bits the server grants. */
  readonly access: number;
}
export type AccessFail = ObjAttrFail;
export type AccessRes = Nfs3Result<AccessOk, AccessFail>;

function encodeArgs(w: XdrWriter, a: AccessArgs): void {
  writeFh(w, a.object);
  w.u32(a.access);
}

function readOk(r: XdrReader): AccessOk {
  const objAttributes = readPostOpAttr(r);
  return { objAttributes, access: r.u32() };
}

function decodeRes(r: XdrReader): AccessRes {
  return readNfs3Result(r, readOk, readObjAttrFail);
}

export const ACCESS: Procedure<AccessArgs, AccessRes> = {
  name: 'ACCESS',
  proc: 4,
  idempotent: true,
  encode: encodeArgs,
  decode: decodeRes,
};
