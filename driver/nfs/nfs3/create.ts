/*
 * RFC 1813 section 3.3.8:
 *   CREATE3res NFSPROC3_CREATE(CREATE3args) = 8;
 *   enum createmode3 { UNCHECKED = 0, GUARDED = 1, EXCLUSIVE = 2 };
 *   union createhow3 switch (createmode3 mode) {
 *     case UNCHECKED:
 *     case GUARDED: sattr3 obj_attributes;
 *     case EXCLUSIVE: createverf3 verf;
 *   };
 *   struct CREATE3args { diropargs3 where; createhow3 how; };
 *   struct CREATE3resok { post_op_fh3 obj; post_op_attr obj_attributes; wcc_data dir_wcc; };
 *   struct CREATE3resfail { wcc_data dir_wcc; };
 *   union CREATE3res switch (nfsstat3 status) {
 *     case NFS3_OK: CREATE3resok resok;
 *     default: CREATE3resfail resfail;
 *   };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { type Nfs3Result, readNfs3Result } from './result.js';
import {
  type DirOpArgs,
  type DirWcc,
  type NewObjectOk,
  type Sattr3,
  readDirWcc,
  readNewObjectOk,
  writeDirOpArgs,
  writeSattr3,
  writeVerf,
} from './structs.js';

/**
 * unchecked: create or truncate; guarded: fail with NFS3ERR_EXIST if present; exclusive: atomic
 * create keyed by an 8-byte verifier (a retransmission with the same verifier succeeds), after
 * which the caller sets the attributes with SETATTR.
 */
export type CreateHow =
  | { readonly mode: 'unchecked' | 'guarded'; readonly attributes: Sattr3 }
  | { readonly mode: 'exclusive'; readonly verf: Uint8Array };

export interface CreateArgs {
  readonly where: DirOpArgs;
  readonly how: CreateHow;
}
export type CreateOk = NewObjectOk;
export type CreateFail = DirWcc;
export type CreateRes = Nfs3Result<CreateOk, CreateFail>;

function encodeArgs(w: XdrWriter, a: CreateArgs): void {
  writeDirOpArgs(w, a.where);
  if (a.how.mode === 'exclusive') {
    w.u32(2);
    writeVerf(w, a.how.verf);
  } else {
    w.u32(a.how.mode === 'guarded' ? 1 : 0);
    writeSattr3(w, a.how.attributes);
  }
}

function decodeRes(r: XdrReader): CreateRes {
  return readNfs3Result(r, readNewObjectOk, readDirWcc);
}

export const CREATE: Procedure<CreateArgs, CreateRes> = {
  name: 'CREATE',
  proc: 8,
  idempotent: false,
  encode: encodeArgs,
  decode: decodeRes,
};
