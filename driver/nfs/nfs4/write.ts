/*
 * RFC 8881 section 18.32:
 *   enum stable_how4 { UNSTABLE4 = 0, DATA_SYNC4 = 1, FILE_SYNC4 = 2 };
 *   struct WRITE4args { stateid4 stateid; offset4 offset; stable_how4 stable; opaque data<>; };
 *   struct WRITE4resok { count4 count; stable_how4 committed; verifier4 writeverf; };
 *   union WRITE4res switch (nfsstat4 status) { case NFS4_OK: WRITE4resok resok4; default: void; };
 */
import { XdrError } from '../xdr/xdr-error.js';
import { OP_WRITE } from './program.js';
import type { Op4 } from './op.js';
import { readVerifier, type Stateid4, writeStateid } from './structs.js';

export const UNSTABLE4 = 0;
export const DATA_SYNC4 = 1;
export const FILE_SYNC4 = 2;

export interface WriteArgs {
  readonly stateid: Stateid4;
  readonly offset: number;
  readonly stable: number;
  /** Sent by reference, not copied. */
  readonly data: Uint8Array;
}

export interface WriteOk {
  readonly count: number;
  readonly committed: number;
  readonly verf: Uint8Array;
}

export const WRITE: Op4<WriteArgs, WriteOk> = {
  name: 'WRITE',
  op: OP_WRITE,
  // Writing the same bytes at the same offset again leaves the same file.
  idempotent: true,
  encode: (w, a) => {
    writeStateid(w, a.stateid);
    w.u64(a.offset);
    w.u32(a.stable);
    w.opaqueRef(a.data);
  },
  decodeOk: (r) => {
    const count = r.u32();
    const committed = r.u32();
    if (committed > FILE_SYNC4) throw new XdrError('XDR_BAD_VALUE', `bad stable_how4 ${committed}`);
    return { count, committed, verf: readVerifier(r) };
  },
};
