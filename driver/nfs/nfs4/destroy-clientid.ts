/*
 * RFC 8881 section 18.50:
 *   struct DESTROY_CLIENTID4args { clientid4 dca_clientid; };
 *   struct DESTROY_CLIENTID4res { nfsstat4 dcr_status; };
 */
import { OP_DESTROY_CLIENTID } from './program.js';
import { decodeNothing, type Op4 } from './op.js';

export const DESTROY_CLIENTID: Op4<bigint, undefined> = {
  name: 'DESTROY_CLIENTID',
  op: OP_DESTROY_CLIENTID,
  idempotent: true,
  encode: (w, id) => void w.u64(id),
  decodeOk: decodeNothing,
};
