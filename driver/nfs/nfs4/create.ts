/*
 * RFC 8881 section 18.4: CREATE makes a non-regular file (directory, symlink, ...) in the
 * current filehandle's directory and makes it the current filehandle.
 *   union createtype4 switch (nfs_ftype4 type) {
 *     case NF4LNK: linktext4 linkdata;
 *     case NF4BLK: case NF4CHR: specdata4 devdata;
 *     case NF4SOCK: case NF4FIFO: case NF4DIR: void;
 *     default: void;
 *   };
 *   struct CREATE4args { createtype4 objtype; component4 objname; fattr4 createattrs; };
 *   struct CREATE4resok { change_info4 cinfo; bitmap4 attrset; };
 *   union CREATE4res switch (nfsstat4 status) { case NFS4_OK: CREATE4resok resok4; default: void; };
 */
import { OP_CREATE } from './program.js';
import type { Op4 } from './op.js';
import { ftype4Code, type SetAttrs4, writeFattr4 } from './attrs.js';
import { type ChangeInfo4, readBitmap, readChangeInfo, writeComponent } from './structs.js';

/** Longest symlink target sent (PATH_MAX). */
export const MAX_LINKTEXT = 4096;

export type CreateType4 =
  { readonly type: 'directory' } | { readonly type: 'symlink'; readonly target: string };

export interface CreateArgs {
  readonly objtype: CreateType4;
  readonly name: string;
  readonly attrs: SetAttrs4;
}

export interface CreateOk {
  readonly cinfo: ChangeInfo4;
  readonly attrset: number[];
}

export const CREATE: Op4<CreateArgs, CreateOk> = {
  name: 'CREATE',
  op: OP_CREATE,
  idempotent: false,
  encode: (w, a) => {
    w.u32(ftype4Code(a.objtype.type));
    if (a.objtype.type === 'symlink') w.string(a.objtype.target, MAX_LINKTEXT);
    writeComponent(w, a.name);
    writeFattr4(w, a.attrs);
  },
  decodeOk: (r) => ({ cinfo: readChangeInfo(r), attrset: readBitmap(r) }),
};
