/*
 * RFC 8881 section 18.46: SEQUENCE opens every COMPOUND of a session: it names the slot and
 * the slot's next sequence id (exactly-once semantics), and renews the lease.
 *   struct SEQUENCE4args { sessionid4 sa_sessionid; sequenceid4 sa_sequenceid; slotid4 sa_slotid;
 *                          slotid4 sa_highest_slotid; bool sa_cachethis; };
 *   struct SEQUENCE4resok { sessionid4 sr_sessionid; sequenceid4 sr_sequenceid; slotid4 sr_slotid;
 *                           slotid4 sr_highest_slotid; slotid4 sr_target_highest_slotid;
 *                           uint32_t sr_status_flags; };
 *   union SEQUENCE4res switch (nfsstat4 sr_status) { case NFS4_OK: SEQUENCE4resok sr_resok4; default: void; };
 */
import { OP_SEQUENCE } from './program.js';
import type { Op4 } from './op.js';
import { readSessionId, writeSessionId } from './structs.js';

/* sr_status_flags (RFC 8881 section 18.46.3). */
export const SEQ4_STATUS_CB_PATH_DOWN = 0x1;
export const SEQ4_STATUS_CB_GSS_CONTEXTS_EXPIRING = 0x2;
export const SEQ4_STATUS_CB_GSS_CONTEXTS_EXPIRED = 0x4;
export const SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED = 0x8;
export const SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED = 0x10;
export const SEQ4_STATUS_ADMIN_STATE_REVOKED = 0x20;
export const SEQ4_STATUS_RECALLABLE_STATE_REVOKED = 0x40;
export const SEQ4_STATUS_LEASE_MOVED = 0x80;
export const SEQ4_STATUS_RESTART_RECLAIM_NEEDED = 0x100;
export const SEQ4_STATUS_CB_PATH_DOWN_SESSION = 0x200;
export const SEQ4_STATUS_BACKCHANNEL_FAULT = 0x400;
export const SEQ4_STATUS_DEVID_CHANGED = 0x800;
export const SEQ4_STATUS_DEVID_DELETED = 0x1000;

export interface SequenceArgs {
  readonly sessionid: Uint8Array;
  readonly sequenceid: number;
  readonly slotid: number;
  readonly highestSlotid: number;
  readonly cachethis: boolean;
}

export interface SequenceOk {
  readonly sessionid: Uint8Array;
  readonly sequenceid: number;
  readonly slotid: number;
  readonly highestSlotid: number;
  readonly targetHighestSlotid: number;
  readonly statusFlags: number;
}

export const SEQUENCE: Op4<SequenceArgs, SequenceOk> = {
  name: 'SEQUENCE',
  op: OP_SEQUENCE,
  idempotent: true,
  encode: (w, a) => {
    writeSessionId(w, a.sessionid);
    w.u32(a.sequenceid).u32(a.slotid).u32(a.highestSlotid).bool(a.cachethis);
  },
  decodeOk: (r) => ({
    sessionid: readSessionId(r),
    sequenceid: r.u32(),
    slotid: r.u32(),
    highestSlotid: r.u32(),
    targetHighestSlotid: r.u32(),
    statusFlags: r.u32(),
  }),
};
