/*
 * RFC 8881 section 18.19:
 *   struct PUTFH4args { nfs_fh4 object; };  struct PUTFH4res { nfsstat4 status; };
 */
import { OP_PUTFH } from './program.js';
import { decodeNothing, type Op4 } from './op.js';
import { type Fh4, writeFh } from './structs.js';

export const PUTFH: Op4<Fh4, undefined> = {
  name: 'PUTFH',
  op: OP_PUTFH,
  idempotent: true,
  encode: writeFh,
  decodeOk: decodeNothing,
};
