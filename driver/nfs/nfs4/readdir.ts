/*
 * RFC 8881 section 18.23:
 *   struct READDIR4args { nfs_cookie4 cookie; verifier4 cookieverf; count4 dircount;
 *                         count4 maxcount; bitmap4 attr_request; };
 *   struct entry4 { nfs_cookie4 cookie; component4 name; fattr4 attrs; entry4 *nextentry; };
 *   struct dirlist4 { entry4 *entries; bool eof; };
 *   struct READDIR4resok { verifier4 cookieverf; dirlist4 reply; };
 *   union READDIR4res switch (nfsstat4 status) { case NFS4_OK: READDIR4resok resok4; default: void; };
 */
import { OP_READDIR } from './program.js';
import type { Op4 } from './op.js';
import { type Fattr4, readFattr4 } from './attrs.js';
import { readComponent, readVerifier, writeBitmap, writeVerifier } from './structs.js';

/** Most entries accepted in one reply: each takes at least 20 bytes, and replies stay under 1 MiB. */
export const MAX_READDIR_ENTRIES = 1024 * 1024;

export interface ReaddirArgs {
  readonly cookie: bigint;
  readonly cookieverf: Uint8Array;
  readonly dircount: number;
  readonly maxcount: number;
  readonly attrs: readonly number[];
}

export interface Entry4 {
  readonly cookie: bigint;
  readonly name: string;
  readonly attrs: Fattr4;
}

export interface ReaddirOk {
  readonly cookieverf: Uint8Array;
  readonly entries: Entry4[];
  readonly eof: boolean;
}

export const READDIR: Op4<ReaddirArgs, ReaddirOk> = {
  name: 'READDIR',
  op: OP_READDIR,
  idempotent: true,
  encode: (w, a) => {
    w.u64(a.cookie);
    writeVerifier(w, a.cookieverf);
    w.u32(a.dircount);
    w.u32(a.maxcount);
    writeBitmap(w, a.attrs);
  },
  decodeOk: (r) => {
    const cookieverf = readVerifier(r);
    const entries = r.list(
      MAX_READDIR_ENTRIES,
      (x) => ({ cookie: x.u64(), name: readComponent(x), attrs: readFattr4(x) }),
      'dirlist4',
    );
    return { cookieverf, entries, eof: r.bool() };
  },
};
