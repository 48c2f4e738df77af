/*
 * RFC 8881 section 18.37:
 *   struct DESTROY_SESSION4args { sessionid4 dsa_sessionid; };
 *   struct DESTROY_SESSION4res { nfsstat4 dsr_status; };
 */
import { OP_DESTROY_SESSION } from './program.js';
import { decodeNothing, type Op4 } from './op.js';
import { writeSessionId } from './structs.js';

export const DESTROY_SESSION: Op4<Uint8Array, undefined> = {
  name: 'DESTROY_SESSION',
  op: OP_DESTROY_SESSION,
  idempotent: true,
  encode: writeSessionId,
  decodeOk: decodeNothing,
};
