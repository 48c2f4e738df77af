/*
 * RFC 1813 section 3.3.19:
 *   FSINFO3res NFSPROC3_FSINFO(FSINFO3args) = 19;
 *   const FSF3_LINK = 0x0001; const FSF3_SYMLINK = 0x0002;
 *   const FSF3_HOMOGENEOUS = 0x0008; const FSF3_CANSETTIME = 0x0010;
 *   struct FSINFO3args { nfs_fh3 fsroot; };
 *   struct FSINFO3resok {
 *     post_op_attr obj_attributes;
 *     uint32 rtmax; uint32 rtpref; uint32 rtmult;
 *     uint32 wtmax; uint32 wtpref; uint32 wtmult;
 *     uint32 dtpref;
 *     size3 maxfilesize; nfstime3 time_delta; uint32 properties;
 *   };
 *   struct FSINFO3resfail { post_op_attr obj_attributes; };
 *   union FSINFO3res switch (nfsstat3 status) {
 *     case NFS3_OK: FSINFO3resok resok;
 *     default: FSINFO3resfail resfail;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import {
  type Fattr3,
  type Fh,
  type Nfstime3,
  type ObjAttrFail,
  readObjAttrFail,
  readPostOpAttr,
  writeFh,
} from './structs.js';

export const FSF3_LINK = 0x0001;
export const FSF3_SYMLINK = 0x0002;
export const FSF3_HOMOGENEOUS = 0x0008;
export const FSF3_CANSETTIME = 0x0010;

export interface FsinfoArgs {
  readonly fsroot: Fh;
}
export interface FsinfoOk {
  readonly objAttributes?: Fattr3;
  /** Largest READ the server accepts, preferred size, and the multiple it prefers. */
  readonly rtmax: number;
  readonly rtpref: number;
  readonly rtmult: number;
  readonly wtmax: number;
  readonly wtpref: number;
  readonly wtmult: number;
  /** Preferred READDIR(PLUS) request size. */
  readonly dtpref: number;
  /** Approximate above 2^53 (servers commonly send 2^63 - 1). */
  readonly maxfilesize: number;
  readonly timeDelta: Nfstime3;
  /** FSF3_* bits. */
  readonly properties: number;
}
export type FsinfoFail = ObjAttrFail;
export type FsinfoRes = Nfs3Result<FsinfoOk, FsinfoFail>;

function encodeArgs(w: XdrWriter, a: FsinfoArgs): void {
  writeFh(w, a.fsroot);
}

function readOk(r: XdrReader): FsinfoOk {
  const objAttributes = readPostOpAttr(r);
  const rtmax = r.u32();
  const rtpref = r.u32();
  const rtmult = r.u32();
  const wtmax = r.u32();
  const wtpref = r.u32();
  const wtmult = r.u32();
  const dtpref = r.u32();
  const maxfilesize = r.u64n();
  const seconds = r.u32();
  const nseconds = r.u32();
  const properties = r.u32();
  return {
    objAttributes,
    rtmax,
    rtpref,
    rtmult,
    wtmax,
    wtpref,
    wtmult,
    dtpref,
    maxfilesize,
    timeDelta: { seconds, nseconds },
    properties,
  };
}

function decodeRes(r: XdrReader): FsinfoRes {
  return readNfs3Result(r, readOk, readObjAttrFail);
}

export const FSINFO: Procedure<FsinfoArgs, FsinfoRes> = {
  name: 'FSINFO',
  proc: 19,
  idempotent: true,
  encode: encodeArgs,
  decode: decodeRes,
};
