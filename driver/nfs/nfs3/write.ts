/*
 * RFC 1813 section 3.3.7:
 *   WRITE3res NFSPROC3_WRITE(WRITE3args) = 7;
 *   enum stable_how { UNSTABLE = 0, DATA_SYNC = 1, FILE_SYNC = 2 };
 *   struct WRITE3args { nfs_fh3 file; offset3 offset; count3 count; stable_how stable; opaque data<>; };
 *   struct WRITE3resok { wcc_data file_wcc; count3 count; stable_how committed; writeverf3 verf; };
 *   struct WRITE3resfail { wcc_data file_wcc; };
 *   union WRITE3res switch (nfsstat3 status) {
 *     case NFS3_OK: WRITE3resok resok;
 *     default: WRITE3resfail resfail;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import { XdrError } from '../xdr/xdr-error.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import { type Fh, type WccData, readVerf, readWccData, writeFh } from './structs.js';

export const StableHow = { UNSTABLE: 0, DATA_SYNC: 1, FILE_SYNC: 2 } as const;
export type StableHow = (typeof StableHow)[keyof typeof StableHow];

function isStableHow(v: number): v is StableHow {
  return v === StableHow.UNSTABLE || v === StableHow.DATA_SYNC || v === StableHow.FILE_SYNC;
}

export function readStableHow(r: XdrReader): StableHow {
  const v = r.u32();
  if (!isStableHow(v)) throw new XdrError('XDR_BAD_VALUE', `bad stable_how ${v}`);
  return v;
}

export interface WriteArgs {
  readonly file: Fh;
  readonly offset: number | bigint;
  readonly stable: StableHow;
  /** Sent by reference, never copied; count is its length. */
  readonly data: Uint8Array;
}
export interface WriteOk {
  readonly fileWcc: WccData;
  /** Bytes the server wrote; may be less than sent. */
  readonly count: number;
  /** How stable the write is; at least what was asked for. */
  readonly committed: StableHow;
  /** Changes when the server restarts: unstable data written under another verifier must be resent. */
  readonly verf: Uint8Array;
}
export interface WriteFail {
  readonly fileWcc: WccData;
}
export type WriteRes = Nfs3Result<WriteOk, WriteFail>;

function encodeArgs(w: XdrWriter, a: WriteArgs): void {
  if (!isStableHow(a.stable)) {
    throw new XdrError('XDR_BAD_VALUE', `bad stable_how ${String(a.stable)}`);
  }
  writeFh(w, a.file);
  w.u64(a.offset);
  w.u32(a.data.length);
  w.u32(a.stable);
  w.opaqueRef(a.data);
}

function readOk(r: XdrReader): WriteOk {
  const fileWcc = readWccData(r);
  const count = r.u32();
  const committed = readStableHow(r);
  const verf = readVerf(r);
  return { fileWcc, count, committed, verf };
}

function decodeRes(r: XdrReader): WriteRes {
  return readNfs3Result(r, readOk, (r) => ({ fileWcc: readWccData(r) }));
}

/** Idempotent: writing the same bytes at the same offset again gives the same file. */
export const WRITE: Procedure<WriteArgs, WriteRes> = {
  name: 'WRITE',
  proc: 7,
  idempotent: true,
  encode: encodeArgs,
  decode: decodeRes,
};
