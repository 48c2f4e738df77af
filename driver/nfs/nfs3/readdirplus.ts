/*
 * RFC 1813 section 3.3.17:
 *   READDIRPLUS3res NFSPROC3_READDIRPLUS(READDIRPLUS3args) = 17;
 *   struct READDIRPLUS3args {
 *     nfs_fh3 dir; cookie3 cookie; cookieverf3 cookieverf; count3 dircount; count3 maxcount;
 *   };
 *   struct entryplus3 {
 *     fileid3 fileid; filename3 name; cookie3 cookie;
 *     post_op_attr name_attributes; post_op_fh3 name_handle;
 *     entryplus3 *nextentry;
 *   };
 *   struct dirlistplus3 { entryplus3 *entries; bool eof; };
 *   struct READDIRPLUS3resok { post_op_attr dir_attributes; cookieverf3 cookieverf; dirlistplus3 reply; };
 *   struct READDIRPLUS3resfail { post_op_attr dir_attributes; };
 *   union READDIRPLUS3res switch (nfsstat3 status) {
 *     case NFS3_OK: READDIRPLUS3resok resok;
 *     default: READDIRPLUS3resfail resfail;
 *   };
 */
import { REPLY_OVERHEAD, type Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import {
  type Fattr3,
  type Fh,
  NFS3_NAME_READ_MAX,
  readPostOpAttr,
  readPostOpFh,
  readVerf,
  writeFh,
  writeVerf,
} from './structs.js';

/** The smallest encoded entryplus3 after its value_follows flag: fileid, empty name, cookie, two FALSE flags. */
const MIN_ENTRY_BYTES = 8 + 4 + 8 + 4 + 4;

export interface ReaddirplusArgs {
  readonly dir: Fh;
  /** 0 to start; then the cookie of the last entry received. */
  readonly cookie: bigint;
  /** Zeros to start; then the cookieverf of the previous reply. */
  readonly cookieverf: Uint8Array;
  /** Bytes of directory information (fileid, name, cookie) wanted per reply. */
  readonly dircount: number;
  /** Bytes of the whole READDIRPLUS3resok the server may send. */
  readonly maxcount: number;
}
export interface ReaddirplusEntry {
  readonly fileid: bigint;
  readonly name: string;
  readonly cookie: bigint;
  readonly attributes?: Fattr3;
  readonly handle?: Fh;
}
export interface ReaddirplusOk {
  readonly dirAttributes?: Fattr3;
  readonly cookieverf: Uint8Array;
  readonly entries: ReaddirplusEntry[];
  readonly eof: boolean;
}
export interface ReaddirplusFail {
  readonly dirAttributes?: Fattr3;
}
export type ReaddirplusRes = Nfs3Result<ReaddirplusOk, ReaddirplusFail>;

function encodeArgs(w: XdrWriter, a: ReaddirplusArgs): void {
  writeFh(w, a.dir);
  w.u64(a.cookie);
  writeVerf(w, a.cookieverf);
  w.u32(a.dircount);
  w.u32(a.maxcount);
}

function readEntry(r: XdrReader): ReaddirplusEntry {
  const fileid = r.u64();
  const name = r.string(NFS3_NAME_READ_MAX, 'filename3');
  const cookie = r.u64();
  const attributes = readPostOpAttr(r);
  const handle = readPostOpFh(r);
  return { fileid, name, cookie, attributes, handle };
}

function readOk(r: XdrReader): ReaddirplusOk {
  const dirAttributes = readPostOpAttr(r);
  const cookieverf = readVerf(r);
  // The reply is at most maxcount bytes, so it cannot hold more entries than fit in what is left.
  const max = Math.floor(r.remaining / (4 + MIN_ENTRY_BYTES));
  const entries = r.list(max, readEntry, 'entryplus3 list');
  const eof = r.bool();
  return { dirAttributes, cookieverf, entries, eof };
}

function decodeRes(r: XdrReader): ReaddirplusRes {
  return readNfs3Result(r, readOk, (r) => ({ dirAttributes: readPostOpAttr(r) }));
}

export const READDIRPLUS: Procedure<ReaddirplusArgs, ReaddirplusRes> = {
  name: 'READDIRPLUS',
  proc: 17,
  idempotent: true,
  encode: encodeArgs,
  decode: decodeRes,
  // maxcount bounds READDIRPLUS3resok (RFC 1813 3.3.17)
  replyBound: (a) => a.maxcount + REPLY_OVERHEAD,
};
