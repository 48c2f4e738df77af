import type { Procedure } from '../../../driver/nfs/rpc/procedure.js';
import { XdrReader } from '../../../driver/nfs/xdr/xdr-reader.js';
import { XdrWriter } from '../../../driver/nfs/xdr/xdr-writer.js';

/**
 * Decodes a procedure's reply body (the bytes after the RPC accepted-reply header, as captured
 * from a server) and checks that every byte was consumed.
 */
export function decodeProcedureReply<R>(procedure: Procedure<unknown, R>, bytes: Uint8Array): R {
  const r = new XdrReader(plain(bytes));
  const res = procedure.decode(r);
  r.done(`${procedure.name} reply`);
  return res;
}

/** Encodes a procedure's call arguments into one buffer. */
export function encodeCall<A>(procedure: Procedure<A, unknown>, args: A): Uint8Array {
  const w = new XdrWriter();
  procedure.encode(w, args);
  return plain(w.finish());
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

/**
 * The same bytes as a plain Uint8Array (no copy). Views into a Buffer are Buffers, which
 * deep-equality tells apart from Uint8Arrays; decoding from a plain array gives plain views.
 */
export function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
