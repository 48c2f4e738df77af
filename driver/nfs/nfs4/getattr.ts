/*
 * RFC 8881 section 18.7:
 *   struct GETATTR4args { bitmap4 attr_request; };
 *   struct GETATTR4resok { fattr4 obj_attributes; };
 *   union GETATTR4res switch (nfsstat4 status) { case NFS4_OK: GETATTR4resok resok4; default: void; };
 */
import { OP_GETATTR } from './program.js';
import type { Op4 } from './op.js';
import { type Fattr4, readFattr4 } from './attrs.js';
import { writeBitmap } from './structs.js';

export const GETATTR: Op4<readonly number[], Fattr4> = {
  name: 'GETATTR',
  op: OP_GETATTR,
  idempotent: true,
  encode: writeBitmap,
  decodeOk: readFattr4,
};
