/*
 * RFC 1813 section 3.3.18:
 *   FSSTAT3res NFSPROC3_FSSTAT(FSSTAT3args) = 18;
 *   struct FSSTAT3args { nfs_fh3 fsroot; };
 *   struct FSSTAT3resok {
 *     post_op_attr obj_attributes;
 *     size3 tbytes; size3 fbytes; size3 abytes; size3 tfiles; size3 ffiles; size3 afiles;
 *     uint32 invarsec;
 *   };
 *   struct FSSTAT3resfail { post_op_attr obj_attributes; };
 *   union FSSTAT3res switch (nfsstat3 status) {
 *     case NFS3_OK: FSSTAT3resok resok;
 *     default: FSSTAT3resfail resfail;
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

export interface FsstatArgs {
  readonly fsroot: Fh;
}
/** Sizes in bytes and file slots; exact up to 2^53. */
export interface FsstatOk {
  readonly objAttributes?: Fattr3;
  readonly tbytes: number;
  readonly fbytes: number;
  /** Free bytes available to this user. */
  readonly abytes: number;
  readonly tfiles: number;
  readonly ffiles: number;
  readonly afiles: number;
  /** Seconds the values are not expected to change (0: volatile). */
  readonly invarsec: number;
}
export type FsstatFail = ObjAttrFail;
export type FsstatRes = Nfs3Result<FsstatOk, FsstatFail>;

function encodeArgs(w: XdrWriter, a: FsstatArgs): void {
  writeFh(w, a.fsroot);
}

function readOk(r: XdrReader): FsstatOk {
  const objAttributes = readPostOpAttr(r);
  const tbytes = r.u64n();
  const fbytes = r.u64n();
  const abytes = r.u64n();
  const tfiles = r.u64n();
  const ffiles = r.u64n();
  const afiles = r.u64n();
  const invarsec = r.u32();
  return { objAttributes, tbytes, fbytes, abytes, tfiles, ffiles, afiles, invarsec };
}

function decodeRes(r: XdrReader): FsstatRes {
  return readNfs3Result(r, readOk, readObjAttrFail);
}

export const FSSTAT: Procedure<FsstatArgs, FsstatRes> = {
  name: 'FSSTAT',
  proc: 18,
  idempotent: true,
  encode: encodeArgs,
  decode: decodeRes,
};
