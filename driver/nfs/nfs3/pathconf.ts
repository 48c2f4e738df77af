/*
 * RFC 1813 section 3.3.20:
 *   PATHCONF3res NFSPROC3_PATHCONF(PATHCONF3args) = 20;
 *   struct PATHCONF3args { nfs_fh3 object; };
 *   struct PATHCONF3resok {
 *     post_op_attr obj_attributes;
 *     uint32 linkmax; uint32 name_max;
 *     bool no_trunc; bool chown_restricted; bool case_insensitive; bool case_preserving;
 *   };
 *   struct PATHCONF3resfail { post_op_attr obj_attributes; };
 *   union PATHCONF3res switch (nfsstat3 status) {
 *     case NFS3_OK: PATHCONF3resok resok;
 *     default: PATHCONF3resfail resfail;
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

export interface PathconfArgs {
  readonly object: Fh;
}
export interface PathconfOk {
  readonly objAttributes?: Fattr3;
  readonly linkmax: number;
  readonly nameMax: number;
  readonly noTrunc: boolean;
  readonly chownRestricted: boolean;
  readonly caseInsensitive: boolean;
  readonly casePreserving: boolean;
}
export type PathconfFail = ObjAttrFail;
export type PathconfRes = Nfs3Result<PathconfOk, PathconfFail>;

function encodeArgs(w: XdrWriter, a: PathconfArgs): void {
  writeFh(w, a.object);
}

function readOk(r: XdrReader): PathconfOk {
  const objAttributes = readPostOpAttr(r);
  const linkmax = r.u32();
  const nameMax = r.u32();
  const noTrunc = r.bool();
  const chownRestricted = r.bool();
  const caseInsensitive = r.bool();
  const casePreserving = r.bool();
  return { objAttributes, linkmax, nameMax, noTrunc, chownRestricted, caseInsensitive, casePreserving };
}

function decodeRes(r: XdrReader): PathconfRes {
  return readNfs3Result(r, readOk, readObjAttrFail);
}

export const PATHCONF: Procedure<PathconfArgs, PathconfRes> = {
  name: 'PATHCONF',
  proc: 20,
  idempotent: true,
  encode: encodeArgs,
  decode: decodeRes,
};
