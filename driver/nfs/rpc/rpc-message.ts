import { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { XdrError } from '../xdr/xdr-error.js';
import { AUTH_NONE, type OpaqueAuth } from './auth.js';
import { RpcError, type RpcErrorCode } from './rpc-error.js';

/*
 * RFC 5531 section 9:
 * struct rpc_msg { unsigned int xid; union switch (msg_type mtype) {
 *     case CALL: call_body cbody;  case REPLY: reply_body rbody; } body; };
 * struct call_body { unsigned int rpcvers; unsigned int prog; unsigned int vers;
 *     unsigned int proc; opaque_auth cred; opaque_auth verf; };
 * union reply_body switch (reply_stat stat) {
 *     case MSG_ACCEPTED: accepted_reply areply;  case MSG_DENIED: rejected_reply rreply; };
 * struct accepted_reply { opaque_auth verf; union switch (accept_stat stat) {
 *     case SUCCESS: opaque results[0];
 *     case PROG_MISMATCH: struct { unsigned int low; unsigned int high; } mismatch_info;
 *     default: void; } reply_data; };
 * union rejected_reply switch (reject_stat stat) {
 *     case RPC_MISMATCH: struct { unsigned int low; unsigned int high; } mismatch_info;
 *     case AUTH_ERROR: auth_stat stat; };
 */

const CALL = 0;
const REPLY = 1;
/** reply_stat */
const MSG_ACCEPTED = 0;
const MSG_DENIED = 1;
/** accept_stat (the failures are in ACCEPT_STATS) */
const SUCCESS = 0;
const PROG_MISMATCH = 2;
const SYSTEM_ERR = 5;
/** reject_stat */
const RPC_MISMATCH = 0;
const AUTH_ERROR = 1;
const RPC_VERSION = 2;
const MAX_AUTH_BODY = 400;

export interface CallHeader {
  readonly xid: number;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly cred: OpaqueAuth;
  readonly verf: OpaqueAuth;
}

export function writeCallHeader(w: XdrWriter, h: CallHeader): void {
  w.u32(h.xid).u32(CALL).u32(RPC_VERSION).u32(h.prog).u32(h.vers).u32(h.proc);
  w.u32(h.cred.flavor).opaque(h.cred.body, MAX_AUTH_BODY);
  w.u32(h.verf.flavor).opaque(h.verf.body, MAX_AUTH_BODY);
}

const ACCEPT_STATS: Record<number, [RpcErrorCode, string]> = {
  1: ['RPC_PROG_UNAVAIL', 'program not available on this server'],
  2: ['RPC_PROG_MISMATCH', 'program version not supported'],
  3: ['RPC_PROC_UNAVAIL', 'procedure not supported'],
  4: ['RPC_GARBAGE_ARGS', 'server could not decode the arguments'],
  5: ['RPC_SYSTEM_ERR', 'server system error'],
};

export const AUTH_STATS: Record<number, string> = {
  0: 'AUTH_OK',
  1: 'AUTH_BADCRED',
  2: 'AUTH_REJECTEDCRED',
  3: 'AUTH_BADVERF',
  4: 'AUTH_REJECTEDVERF',
  5: 'AUTH_TOOWEAK',
  6: 'AUTH_INVALIDRESP',
  7: 'AUTH_FAILED',
  13: 'RPCSEC_GSS_CREDPROBLEM',
  14: 'RPCSEC_GSS_CTXPROBLEM',
};

export type DecodedReply =
  | { readonly xid: number; readonly ok: true; readonly results: XdrReader }
  | { readonly xid: number; readonly ok: false; readonly error: RpcError };

/** Reads the xid of a record, or undefined when it is shorter than 4 bytes. */
export function peekXid(record: Uint8Array): number | undefined {
  if (record.length < 4) return undefined;
  return new DataView(record.buffer, record.byteOffset, 4).getUint32(0);
}

/**
 * Decodes an RPC reply up to the start of the procedure's results. A call rejected by the server
 * becomes `{ ok: false, error }` so the caller can fail just that call; bytes that are not an RPC
 * reply at all throw RpcError('RPC_PROTOCOL').
 */
export function decodeRpcReply(record: Uint8Array): DecodedReply {
  const r = new XdrReader(record);
  try {
    const xid = r.u32();
    const mtype = r.u32();
    if (mtype !== REPLY) throw new RpcError('RPC_PROTOCOL', `expected an RPC reply, got msg_type ${mtype}`);
    const stat = r.u32();
    if (stat === MSG_ACCEPTED) {
      r.u32(); // verifier flavor: AUTH_NONE/AUTH_SYS verifiers carry nothing we check
      r.opaque(MAX_AUTH_BODY, 'reply verifier');
      const accept = r.u32();
      if (accept === SUCCESS) return { xid, ok: true, results: r };
      const known = ACCEPT_STATS[accept];
      if (!known) throw new RpcError('RPC_PROTOCOL', `unknown accept_stat ${accept}`);
      let message = known[1];
      if (accept === PROG_MISMATCH) message += ` (server supports versions ${r.u32()} to ${r.u32()})`;
      return { xid, ok: false, error: new RpcError(known[0], message, { retriable: accept === SYSTEM_ERR }) };
    }
    if (stat === MSG_DENIED) {
      const reject = r.u32();
      if (reject === RPC_MISMATCH) {
        const low = r.u32();
        const high = r.u32();
        return {
          xid,
          ok: false,
          error: new RpcError(
            'RPC_MISMATCH',
            `server speaks RPC versions ${low} to ${high}, not ${RPC_VERSION}`,
          ),
        };
      }
      if (reject === AUTH_ERROR) {
        const code = r.u32();
        const name = AUTH_STATS[code] ?? `AUTH_UNKNOWN_${code}`;
        return {
          xid,
          ok: false,
          error: new RpcError('RPC_AUTH_ERROR', `server rejected the credentials: ${name}`, {
            authStat: name,
          }),
        };
      }
      throw new RpcError('RPC_PROTOCOL', `unknown reject_stat ${reject}`);
    }
    throw new RpcError('RPC_PROTOCOL', `unknown reply_stat ${stat}`);
  } catch (err) {
    if (err instanceof XdrError)
      throw new RpcError('RPC_PROTOCOL', `malformed RPC reply: ${err.message}`, { cause: err });
    throw err;
  }
}

/** Encodes a reply header (used by tests and fakes that play the server). */
export function writeAcceptedReplyHeader(w: XdrWriter, xid: number, acceptStat = SUCCESS): void {
  // An empty AUTH_NONE verifier: flavor, then a body of length 0.
  w.u32(xid).u32(REPLY).u32(MSG_ACCEPTED).u32(AUTH_NONE).u32(0).u32(acceptStat);
}
