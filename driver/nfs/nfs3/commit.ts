/*
 * RFC 1813 section 3.3.21:
 *   COMMIT3res NFSPROC3_COMMIT(COMMIT3args) = 21;
 *   struct COMMIT3args { nfs_fh3 file; offset3 offset; count3 count; };
 *   struct COMMIT3resok { wcc_data file_wcc; writeverf3 verf; };
 *   struct COMMIT3resfail { wcc_data file_wcc; };
 *   union COMMIT3res switch (nfsstat3 status) {
 *     case NFS3_OK: COMMIT3resok resok;
 *     default: COMMIT3resfail resfail;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import { type Fh, type WccData, readVerf, readWccData, writeFh } from './structs.js';

export interface CommitArgs {
  readonly file: Fh;
  /** Start of the range to flush; offset 0 and count 0 flush the whole file. */
  readonly offset: number | bigint;
  readonly count: number;
}
export interface CommitOk {
  readonly fileWcc: WccData;
  /** Must equal the verf of the UNSTABLE writes being committed, else they must be resent. */
  readonly verf: Uint8Array;
}
export interface CommitFail {
  readonly fileWcc: WccData;
}
export type CommitRes = Nfs3Result<CommitOk, CommitFail>;

function encodeArgs(w: XdrWriter, a: CommitArgs): void {
  writeFh(w, a.file);
  w.u64(a.offset);
  w.u32(a.count);
}

function readOk(r: XdrReader): CommitOk {
  const fileWcc = readWccData(r);
  return { fileWcc, verf: readVerf(r) };
}

function decodeRes(r: XdrReader): CommitRes {
  return readNfs3Result(r, readOk, (r) => ({ fileWcc: readWccData(r) }));
}

export const COMMIT: Procedure<CommitArgs, CommitRes> = {
  name: 'COMMIT',
  proc: 21,
  idempotent: true,
  encode: encodeArgs,
  decode: decodeRes,
};
