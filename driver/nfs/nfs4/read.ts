/*
 * RFC 8881 section 18.22:
 *   struct READ4args { stateid4 stateid; offset4 offset; count4 count; };
 *   struct READ4resok { bool eof; opaque data<>; };
 *   union READ4res switch (nfsstat4 status) { case NFS4_OK: READ4resok resok4; default: void; };
 */
import { OP_READ } from './program.js';
import type { Op4 } from './op.js';
import { type Stateid4, writeStateid } from './structs.js';

/** Largest READ this client asks for; a reply claiming more data is refused. */
export const MAX_READ = 4 * 1024 * 1024;

export interface ReadArgs {
  readonly stateid: Stateid4;
  readonly offset: number;
  readonly count: number;
}

export interface ReadOk {
  readonly eof: boolean;
  /** A view into the reply record. */
  readonly data: Uint8Array;
}

export const READ: Op4<ReadArgs, ReadOk> = {
  name: 'READ',
  op: OP_READ,
  idempotent: true,
  encode: (w, a) => {
    writeStateid(w, a.stateid);
    w.u64(a.offset);
    w.u32(a.count);
  },
  decodeOk: (r) => ({ eof: r.bool(), data: r.opaque(MAX_READ, 'READ data') }),
};
