/*
 * RFC 8881 section 16.2 / RFC 7863:
 *   struct COMPOUND4args { utf8str_cs tag; uint32_t minorversion; nfs_argop4 argarray<>; };
 *   union nfs_argop4 switch (nfs_opnum4 argop) { case OP_ACCESS: ACCESS4args opaccess; ... };
 *   struct COMPOUND4res { nfsstat4 status; utf8str_cs tag; nfs_resop4 resarray<>; };
 *   union nfs_resop4 switch (nfs_opnum4 resop) { case OP_ACCESS: ACCESS4res opaccess; ...
 *                                                case OP_ILLEGAL: ILLEGAL4res opillegal; };
 *   COMPOUND4res NFSPROC4_COMPOUND(COMPOUND4args) = 1;
 * The server runs the operations in order and stops at the first that fails: resarray holds the
 * results up to and including that one, and `status` is its status.
 */
import type { Procedure } from '../rpc/procedure.js';
import { XdrError } from '../xdr/xdr-error.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';
import { OP_ILLEGAL, NFS4_MINOR_VERSION, NFS4_OPAQUE_LIMIT } from './program.js';
import type { Op4, OpCall } from './op.js';
import { Nfs4Status } from './status.js';
import { CLOSE } from './close.js';
import { COMMIT } from './commit.js';
import { CREATE } from './create.js';
import { CREATE_SESSION } from './create-session.js';
import { DELEGRETURN } from './delegreturn.js';
import { DESTROY_CLIENTID } from './destroy-clientid.js';
import { DESTROY_SESSION } from './destroy-session.js';
import { EXCHANGE_ID } from './exchange-id.js';
import { GETATTR } from './getattr.js';
import { GETFH } from './getfh.js';
import { LOOKUP } from './lookup.js';
import { LOOKUPP } from './lookupp.js';
import { OPEN } from './open.js';
import { PUTFH } from './putfh.js';
import { PUTROOTFH } from './putrootfh.js';
import { READ } from './read.js';
import { READDIR } from './readdir.js';
import { READLINK } from './readlink.js';
import { RECLAIM_COMPLETE } from './reclaim-complete.js';
import { REMOVE } from './remove.js';
import { RENAME } from './rename.js';
import { SAVEFH } from './savefh.js';
import { SECINFO_NO_NAME } from './secinfo-no-name.js';
import { SEQUENCE } from './sequence.js';
import { SETATTR } from './setattr.js';
import { WRITE } from './write.js';

/** Every operation this client sends, so a reply can be decoded from its own opcodes. */
export const NFS4_OPS: readonly Op4<never, unknown>[] = [
  CLOSE,
  COMMIT,
  CREATE,
  CREATE_SESSION,
  DELEGRETURN,
  DESTROY_CLIENTID,
  DESTROY_SESSION,
  EXCHANGE_ID,
  GETATTR,
  GETFH,
  LOOKUP,
  LOOKUPP,
  OPEN,
  PUTFH,
  PUTROOTFH,
  READ,
  READDIR,
  READLINK,
  RECLAIM_COMPLETE,
  REMOVE,
  RENAME,
  SAVEFH,
  SECINFO_NO_NAME,
  SEQUENCE,
  SETATTR,
  WRITE,
];

const byCode = new Map<number, Op4<never, unknown>>(NFS4_OPS.map((o) => [o.op, o]));

/** Most operations in one COMPOUND sent or accepted back. */
export const MAX_COMPOUND_OPS = 256;

export interface CompoundArgs {
  /** Echoed by the server; for people reading packet traces. */
  readonly tag: string;
  readonly ops: readonly OpCall[];
}

export interface OpResult {
  readonly op: number;
  readonly status: number;
  /** The decoded resok arm when status is NFS4_OK. */
  readonly value: unknown;
}

export interface CompoundRes {
  readonly status: number;
  readonly tag: string;
  readonly results: readonly OpResult[];
}

function encodeArgs(w: XdrWriter, a: CompoundArgs): void {
  if (a.ops.length > MAX_COMPOUND_OPS) {
    throw new XdrError('XDR_TOO_LONG', `COMPOUND of ${a.ops.length} operations exceeds ${MAX_COMPOUND_OPS}`);
  }
  w.string(a.tag, NFS4_OPAQUE_LIMIT);
  w.u32(NFS4_MINOR_VERSION);
  w.u32(a.ops.length);
  for (const c of a.ops) {
    w.u32(c.op.op);
    c.op.encode(w, c.args);
  }
}

function decodeResult(r: XdrReader): OpResult {
  const op = r.u32();
  if (op === OP_ILLEGAL) return { op, status: r.u32(), value: undefined };
  const codec = byCode.get(op);
  if (codec === undefined)
    throw new XdrError('XDR_BAD_VALUE', `COMPOUND reply carries operation ${op}, never sent`);
  const status = r.u32();
  if (status === Nfs4Status.NFS4_OK) return { op, status, value: codec.decodeOk(r) };
  codec.decodeFail?.(r);
  return { op, status, value: undefined };
}

function decodeRes(r: XdrReader): CompoundRes {
  const status = r.u32();
  const tag = r.string(NFS4_OPAQUE_LIMIT, 'COMPOUND tag');
  // Each result is at least an opcode and a status.
  const results = r.array(MAX_COMPOUND_OPS, 8, decodeResult, 'resarray');
  for (let i = 0; i < results.length - 1; i++) {
    if (results[i]!.status !== Nfs4Status.NFS4_OK) {
      throw new XdrError('XDR_BAD_VALUE', `COMPOUND reply goes on after operation ${i} failed`);
    }
  }
  return { status, tag, results };
}

export const COMPOUND: Procedure<CompoundArgs, CompoundRes> = {
  name: 'COMPOUND',
  proc: 1,
  // Resending is the session's business: a replay on the same slot and sequence id is answered
  // from the server's reply cache, which is how NFSv4.1 makes retries exactly-once.
  idempotent: false,
  encode: encodeArgs,
  decode: decodeRes,
};

/** NFSPROC4_NULL: a ping. */
export const NULL4: Procedure<undefined, undefined> = {
  name: 'NULL',
  proc: 0,
  idempotent: true,
  encode: () => undefined,
  decode: () => undefined,
};
