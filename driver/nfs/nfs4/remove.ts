/*
 * RFC 8881 section 18.25: REMOVE deletes a file or an empty directory from the current
 * filehandle's directory.
 *   struct REMOVE4args { component4 target; };
 *   struct REMOVE4resok { change_info4 cinfo; };
 *   union REMOVE4res switch (nfsstat4 status) { case NFS4_OK: REMOVE4resok resok4; default: void; };
 */
import { OP_REMOVE } from './program.js';
import type { Op4 } from './op.js';
import { type ChangeInfo4, readChangeInfo, writeComponent } from './structs.js';

export const REMOVE: Op4<string, ChangeInfo4> = {
  name: 'REMOVE',
  op: OP_REMOVE,
  idempotent: false,
  encode: writeComponent,
  decodeOk: readChangeInfo,
};
