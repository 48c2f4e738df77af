/*
 * RFC 1813 section 3.3.6:
 *   READ3res NFSPROC3_READ(READ3args) = 6;
 *   struct READ3args { nfs_fh3 file; offset3 offset; count3 count; };
 *   struct READ3resok { post_op_attr file_attributes; count3 count; bool eof; opaque data<>; };
 *   struct READ3resfail { post_op_attr file_attributes; };
 *   union READ3res switch (nfsstat3 status) {
 *     case NFS3_OK: READ3resok resok;
 *     default: READ3resfail resfail;
 *   };
 */
import { REPLY_OVERHEAD, type Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import { type Fattr3, type Fh, readPostOpAttr, writeFh } from './structs.js';

export interface ReadArgs {
  readonly file: Fh;
  readonly offset: number | bigint;
  readonly count: number;
}
export interface ReadOk {
  readonly fileAttributes?: Fattr3;
  readonly count: number;
  readonly eof: boolean;
  /** A view into the reply buffer (not copied). */
  readonly data: Uint8Array;
}
export interface ReadFail {
  readonly fileAttributes?: Fattr3;
}
export type ReadRes = Nfs3Result<ReadOk, ReadFail>;

function encodeArgs(w: XdrWriter, a: ReadArgs): void {
  writeFh(w, a.file);
  w.u64(a.offset);
  w.u32(a.count);
}

function readOk(r: XdrReader): ReadOk {
  const fileAttributes = readPostOpAttr(r);
  const count = r.u32();
  const eof = r.bool();
  // count is the number of bytes returned: data longer than count is malformed.
  const data = r.opaque(count, 'READ data');
  return { fileAttributes, count, eof, data };
}

function decodeRes(r: XdrReader): ReadRes {
  return readNfs3Result(r, readOk, (r) => ({ fileAttributes: readPostOpAttr(r) }));
}

export const READ: Procedure<ReadArgs, ReadRes> = {
  name: 'READ',
  proc: 6,
  idempotent: true,
  encode: encodeArgs,
  decode: decodeRes,
  // the data asked for, plus attributes and headers
  replyBound: (a) => a.count + REPLY_OVERHEAD,
};
