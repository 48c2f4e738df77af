/*
 * RFC 8881 section 18.24:
 *   READLINK4args: void;
 *   struct READLINK4resok { linktext4 link; };
 *   union READLINK4res switch (nfsstat4 status) { case NFS4_OK: READLINK4resok resok4; default: void; };
 */
import { OP_READLINK } from './program.js';
import { encodeNothing, type Op4 } from './op.js';
import { MAX_LINKTEXT } from './create.js';

export const READLINK: Op4<void, string> = {
  name: 'READLINK',
  op: OP_READLINK,
  idempotent: true,
  encode: encodeNothing,
  decodeOk: (r) => r.string(MAX_LINKTEXT, 'linktext4'),
};
