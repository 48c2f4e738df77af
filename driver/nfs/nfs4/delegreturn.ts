/*
 * RFC 8881 section 18.6: returns a delegation the server granted although none was wanted.
 *   struct DELEGRETURN4args { stateid4 deleg_stateid; };  struct DELEGRETURN4res { nfsstat4 status; };
 */
import { OP_DELEGRETURN } from './program.js';
import { decodeNothing, type Op4 } from './op.js';
import { type Stateid4, writeStateid } from './structs.js';

export const DELEGRETURN: Op4<Stateid4, undefined> = {
  name: 'DELEGRETURN',
  op: OP_DELEGRETURN,
  idempotent: false,
  encode: writeStateid,
  decodeOk: decodeNothing,
};
