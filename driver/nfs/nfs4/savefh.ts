/*
 * RFC 8881 section 18.28: SAVEFH copies the current filehandle to the saved filehandle (RENAME
 * takes its source directory from the saved one).
 *   SAVEFH4args: void;  struct SAVEFH4res { nfsstat4 status; };
 */
import { OP_SAVEFH } from './program.js';
import { decodeNothing, encodeNothing, type Op4 } from './op.js';

export const SAVEFH: Op4<void, undefined> = {
  name: 'SAVEFH',
  op: OP_SAVEFH,
  idempotent: true,
  encode: encodeNothing,
  decodeOk: decodeNothing,
};
