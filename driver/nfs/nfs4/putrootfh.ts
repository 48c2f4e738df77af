/*
 * RFC 8881 section 18.21: PUTROOTFH sets the current filehandle to the root of the server's
 * pseudo file system.
 *   PUTROOTFH4args: void;  struct PUTROOTFH4res { nfsstat4 status; };
 */
import { OP_PUTROOTFH } from './program.js';
import { decodeNothing, encodeNothing, type Op4 } from './op.js';

export const PUTROOTFH: Op4<void, undefined> = {
  name: 'PUTROOTFH',
  op: OP_PUTROOTFH,
  idempotent: true,
  encode: encodeNothing,
  decodeOk: decodeNothing,
};
