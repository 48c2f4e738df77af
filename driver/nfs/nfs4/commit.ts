/*
 * RFC 8881 section 18.3:
 *   struct COMMIT4args { offset4 offset; count4 count; };
 *   struct COMMIT4resok { verifier4 writeverf; };
 *   union COMMIT4res switch (nfsstat4 status) { case NFS4_OK: COMMIT4resok resok4; default: void; };
 */
import { OP_COMMIT } from './program.js';
import type { Op4 } from './op.js';
import { readVerifier } from './structs.js';

export interface CommitArgs {
  readonly offset: number;
  /** 0: to the end of the file. */
  readonly count: number;
}

export const COMMIT: Op4<CommitArgs, Uint8Array> = {
  name: 'COMMIT',
  op: OP_COMMIT,
  idempotent: true,
  encode: (w, a) => {
    w.u64(a.offset);
    w.u32(a.count);
  },
  decodeOk: readVerifier,
};
