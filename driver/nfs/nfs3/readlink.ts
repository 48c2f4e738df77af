/*
 * RFC 1813 section 3.3.5:
 *   READLINK3res NFSPROC3_READLINK(READLINK3args) = 5;
 *   struct READLINK3args { nfs_fh3 symlink; };
 *   struct READLINK3resok { post_op_attr symlink_attributes; nfspath3 data; };
 *   struct READLINK3resfail { post_op_attr symlink_attributes; };
 *   union READLINK3res switch (nfsstat3 status) {
 *     case NFS3_OK: READLINK3resok resok;
 *     default: READLINK3resfail resfail;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import { type Fattr3, type Fh, NFS3_PATH_MAX, readPostOpAttr, writeFh } from './structs.js';

export interface ReadlinkArgs {
  readonly symlink: Fh;
}
export interface ReadlinkOk {
  readonly symlinkAttributes?: Fattr3;
  /** The link target. */
  readonly data: string;
}
export interface ReadlinkFail {
  readonly symlinkAttributes?: Fattr3;
}
export type ReadlinkRes = Nfs3Result<ReadlinkOk, ReadlinkFail>;

function encodeArgs(w: XdrWriter, a: ReadlinkArgs): void {
  writeFh(w, a.symlink);
}

function readOk(r: XdrReader): ReadlinkOk {
  const symlinkAttributes = readPostOpAttr(r);
  return { symlinkAttributes, data: r.string(NFS3_PATH_MAX, 'nfspath3') };
}

function decodeRes(r: XdrReader): ReadlinkRes {
  return readNfs3Result(r, readOk, (r) => ({ symlinkAttributes: readPostOpAttr(r) }));
}

export const READLINK: Procedure<ReadlinkArgs, ReadlinkRes> = {
  name: 'READLINK',
  proc: 5,
  idempotent: true,
  encode: encodeArgs,
  decode: decodeRes,
};
