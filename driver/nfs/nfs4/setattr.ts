/*
 * RFC 8881 section 18.30:
 *   struct SETATTR4args { stateid4 stateid; fattr4 obj_attributes; };
 *   struct SETATTR4res { nfsstat4 status; bitmap4 attrsset; };
 * The result carries the bitmap of what was set whatever the status.
 */
import { OP_SETATTR } from './program.js';
import type { Op4 } from './op.js';
import { type SetAttrs4, writeFattr4 } from './attrs.js';
import { readBitmap, type Stateid4, writeStateid } from './structs.js';

export interface SetattrArgs {
  readonly stateid: Stateid4;
  readonly attrs: SetAttrs4;
}

export const SETATTR: Op4<SetattrArgs, number[]> = {
  name: 'SETATTR',
  op: OP_SETATTR,
  // Setting the same mode, owner or size again leaves the same file.
  idempotent: true,
  encode: (w, a) => {
    writeStateid(w, a.stateid);
    writeFattr4(w, a.attrs);
  },
  decodeOk: readBitmap,
  decodeFail: (r) => void readBitmap(r),
};
