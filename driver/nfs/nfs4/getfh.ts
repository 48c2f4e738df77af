/*
 * RFC 8881 section 18.8:
 *   GETFH4args: void;
 *   struct GETFH4resok { nfs_fh4 object; };
 *   union GETFH4res switch (nfsstat4 status) { case NFS4_OK: GETFH4resok resok4; default: void; };
 */
import { OP_GETFH } from './program.js';
import { encodeNothing, type Op4 } from './op.js';
import { type Fh4, readFh } from './structs.js';

export const GETFH: Op4<void, Fh4> = {
  name: 'GETFH',
  op: OP_GETFH,
  idempotent: true,
  encode: encodeNothing,
  decodeOk: readFh,
};
