import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';

/**
 * One NFSv4 operation inside a COMPOUND (RFC 8881 section 16): its number, a pure codec for its
 * arguments and for its result, and whether running it twice leaves the same outcome. Files under
 * `nfs4/` each export one of these; `compound.ts` puts them in a COMPOUND.
 *
 * Every `XXX4res` is `union switch (nfsstat4 status) { case NFS4_OK: XXX4resok; default: ... }`:
 * the compound codec reads the status, then `decodeOk` on NFS4_OK or `decodeFail` otherwise
 * (most operations carry nothing on failure).
 */
export interface Op4<Args, Ok> {
  readonly name: string;
  readonly op: number;
  /** Sending it again after a lost reply does not change the outcome. */
  readonly idempotent: boolean;
  encode(w: XdrWriter, args: Args): void;
  decodeOk(r: XdrReader): Ok;
  /** The fail arm, for the few results that carry something on failure (SETATTR4res). */
  decodeFail?(r: XdrReader): void;
}

/** An operation and its arguments, ready for a COMPOUND. */
export interface OpCall {
  readonly op: Op4<unknown, unknown>;
  readonly args: unknown;
}

/** Pairs an operation with its arguments, keeping the types in step. */
export function opCall<A, Ok>(op: Op4<A, Ok>, args: A): OpCall {
  return { op: op as Op4<unknown, unknown>, args };
}

/** For operations without arguments (PUTROOTFH, GETFH, SAVEFH, LOOKUPP, READLINK). */
export function encodeNothing(): void {
  // void arguments encode to no bytes
}

export function decodeNothing(): undefined {
  return undefined;
}
