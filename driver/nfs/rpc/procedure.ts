import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';

/**
 * One remote procedure of one RPC program: its number, whether a retransmission is harmless,
 * and a pure codec for its arguments and results. Files under `nfs3/` and `mount3/` each export
 * one of these.
 */
export interface Procedure<Args, Res> {
  readonly name: string;
  readonly proc: number;
  /** Safe to send again after a lost reply (the result does not change). */
  readonly idempotent: boolean;
  encode(w: XdrWriter, args: Args): void;
  decode(r: XdrReader): Res;
  /**
   * Largest reply record these arguments can bring (RPC header included), for procedures whose
   * replies are big (READ, READDIRPLUS): lets the transport assemble such a reply in one buffer.
   */
  replyBound?(args: Args): number;
}

/** Room for the RPC reply header (verifier up to 400 bytes) and the results' fixed fields. */
export const REPLY_OVERHEAD = 4096;

/** Identifies an RPC program and version. */
export interface Program {
  readonly name: string;
  readonly prog: number;
  readonly vers: number;
  /** The name of a status code the program's results start with (for traces). */
  readonly statusName?: (code: number) => string;
}
