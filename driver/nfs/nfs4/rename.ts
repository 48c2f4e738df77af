/*
 * RFC 8881 section 18.26: RENAME moves `oldname` in the saved filehandle's directory to
 * `newname` in the current filehandle's directory (PUTFH src; SAVEFH; PUTFH dst; RENAME).
 *   struct RENAME4args { component4 oldname; component4 newname; };
 *   struct RENAME4resok { change_info4 source_cinfo; change_info4 target_cinfo; };
 *   union RENAME4res switch (nfsstat4 status) { case NFS4_OK: RENAME4resok resok4; default: void; };
 */
import { OP_RENAME } from './program.js';
import type { Op4 } from './op.js';
import { type ChangeInfo4, readChangeInfo, writeComponent } from './structs.js';

export interface RenameArgs {
  readonly oldname: string;
  readonly newname: string;
}

export interface RenameOk {
  readonly source: ChangeInfo4;
  readonly target: ChangeInfo4;
}

export const RENAME: Op4<RenameArgs, RenameOk> = {
  name: 'RENAME',
  op: OP_RENAME,
  idempotent: false,
  encode: (w, a) => {
    writeComponent(w, a.oldname);
    writeComponent(w, a.newname);
  },
  decodeOk: (r) => ({ source: readChangeInfo(r), target: readChangeInfo(r) }),
};
