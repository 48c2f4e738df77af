/*
 * RFC 8881 section 18.16: LOOKUPP replaces the current filehandle with its parent directory's.
 *   LOOKUPP4args: void;  struct LOOKUPP4res { nfsstat4 status; };
 */
import { OP_LOOKUPP } from './program.js';
import { decodeNothing, encodeNothing, type Op4 } from './op.js';

export const LOOKUPP: Op4<void, undefined> = {
  name: 'LOOKUPP',
  op: OP_LOOKUPP,
  idempotent: true,
  encode: encodeNothing,
  decodeOk: decodeNothing,
};
