/*
 * RFC 8881 section 18.2:
 *   struct CLOSE4args { seqid4 seqid; stateid4 open_stateid; };
 *   union CLOSE4res switch (nfsstat4 status) { case NFS4_OK: stateid4 open_stateid; default: void; };
 * In NFSv4.1 the seqid is ignored and sent as 0.
 */
import { OP_CLOSE } from './program.js';
import type { Op4 } from './op.js';
import { readStateid, type Stateid4, writeStateid } from './structs.js';

export const CLOSE: Op4<Stateid4, Stateid4> = {
  name: 'CLOSE',
  op: OP_CLOSE,
  idempotent: false,
  encode: (w, s) => {
    w.u32(0);
    writeStateid(w, s);
  },
  decodeOk: readStateid,
};
