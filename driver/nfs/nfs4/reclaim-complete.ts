/*
 * RFC 8881 section 18.51: tells the server this client has no state to reclaim (it keeps no
 * locks or opens across restarts), so its grace period need not wait for it.
 *   struct RECLAIM_COMPLETE4args { bool rca_one_fs; };  struct RECLAIM_COMPLETE4res { nfsstat4 rcr_status; };
 */
import { OP_RECLAIM_COMPLETE } from './program.js';
import { decodeNothing, type Op4 } from './op.js';

export const RECLAIM_COMPLETE: Op4<boolean, undefined> = {
  name: 'RECLAIM_COMPLETE',
  op: OP_RECLAIM_COMPLETE,
  idempotent: true,
  encode: (w, oneFs) => void w.bool(oneFs),
  decodeOk: decodeNothing,
};
