/*
 * RFC 8881 section 18.36: CREATE_SESSION makes a session (slot table, limits) for a client id.
 *   struct channel_attrs4 { count4 ca_headerpadsize; count4 ca_maxrequestsize; count4 ca_maxresponsesize;
 *                           count4 ca_maxresponsesize_cached; count4 ca_maxoperations;
 *                           count4 ca_maxrequests; uint32_t ca_rdma_ird<1>; };
 *   union callback_sec_parms4 switch (uint32_t cb_secflavor) {
 *     case AUTH_NONE: void; case AUTH_SYS: authsys_parms cbsp_sys_cred; case RPCSEC_GSS: gss_cb_handles4 ...;
 *   };
 *   struct CREATE_SESSION4args { clientid4 csa_clientid; sequenceid4 csa_sequence; uint32_t csa_flags;
 *                                channel_attrs4 csa_fore_chan_attrs; channel_attrs4 csa_back_chan_attrs;
 *                                uint32_t csa_cb_program; callback_sec_parms4 csa_sec_parms<>; };
 *   struct CREATE_SESSION4resok { sessionid4 csr_sessionid; sequenceid4 csr_sequence; uint32_t csr_flags;
 *                                 channel_attrs4 csr_fore_chan_attrs; channel_attrs4 csr_back_chan_attrs; };
 *   union CREATE_SESSION4res switch (nfsstat4 csr_status) { case NFS4_OK: CREATE_SESSION4resok csr_resok4; default: void; };
 */
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { OP_CREATE_SESSION } from './program.js';
import type { Op4 } from './op.js';
import { readSessionId } from './structs.js';

export const CREATE_SESSION4_FLAG_PERSIST = 0x1;
export const CREATE_SESSION4_FLAG_CONN_BACK_CHAN = 0x2;

export interface ChannelAttrs4 {
  readonly headerPadSize: number;
  readonly maxRequestSize: number;
  readonly maxResponseSize: number;
  readonly maxResponseSizeCached: number;
  readonly maxOperations: number;
  readonly maxRequests: number;
}

export interface CreateSessionArgs {
  readonly clientid: bigint;
  readonly sequence: number;
  readonly flags: number;
  readonly fore: ChannelAttrs4;
  readonly back: ChannelAttrs4;
  readonly cbProgram: number;
}

export interface CreateSessionOk {
  readonly sessionid: Uint8Array;
  readonly sequence: number;
  readonly flags: number;
  readonly fore: ChannelAttrs4;
  readonly back: ChannelAttrs4;
}

function writeChannelAttrs(w: XdrWriter, c: ChannelAttrs4): void {
  w.u32(c.headerPadSize).u32(c.maxRequestSize).u32(c.maxResponseSize).u32(c.maxResponseSizeCached);
  w.u32(c.maxOperations).u32(c.maxRequests).u32(0); // no RDMA
}

function readChannelAttrs(r: XdrReader): ChannelAttrs4 {
  const c = {
    headerPadSize: r.u32(),
    maxRequestSize: r.u32(),
    maxResponseSize: r.u32(),
    maxResponseSizeCached: r.u32(),
    maxOperations: r.u32(),
    maxRequests: r.u32(),
  };
  r.array(1, 4, (x) => x.u32(), 'ca_rdma_ird');
  return c;
}

export const CREATE_SESSION: Op4<CreateSessionArgs, CreateSessionOk> = {
  name: 'CREATE_SESSION',
  op: OP_CREATE_SESSION,
  // Replayed with the same csa_sequence, the server answers from its one-slot cache.
  idempotent: true,
  encode: (w, a) => {
    w.u64(a.clientid);
    w.u32(a.sequence);
    w.u32(a.flags);
    writeChannelAttrs(w, a.fore);
    writeChannelAttrs(w, a.back);
    w.u32(a.cbProgram);
    w.u32(1); // one callback_sec_parms4: AUTH_NONE (no back channel is asked for)
    w.u32(0);
  },
  decodeOk: (r) => ({
    sessionid: readSessionId(r),
    sequence: r.u32(),
    flags: r.u32(),
    fore: readChannelAttrs(r),
    back: readChannelAttrs(r),
  }),
};
