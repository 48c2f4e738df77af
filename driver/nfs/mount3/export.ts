/*
 * RFC 1813 section 5.2.5:
 *   exports MOUNTPROC3_EXPORT(void) = 5;
 *   typedef struct groupnode *groups;
 *   struct groupnode { name gr_name; groups gr_next; };
 *   typedef struct exportnode *exports;
 *   struct exportnode { dirpath ex_dir; groups ex_groups; exports ex_next; };
 */
import type { Procedure } from '../rpc/procedure.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import { MNTNAMLEN, MNTPATHLEN } from './types.js';

/** Bounds on the linked lists, far above real servers (each node also needs at least 8 bytes). */
const MAX_EXPORTS = 65536;
const MAX_GROUPS = 65536;

export interface ExportNode {
  readonly dir: string;
  /** Hosts, netgroups or networks allowed to mount it; empty means everyone. */
  readonly groups: string[];
}
export type ExportRes = ExportNode[];

function readExport(r: XdrReader): ExportNode {
  const dir = r.string(MNTPATHLEN, 'dirpath');
  const groups = r.list(MAX_GROUPS, (r) => r.string(MNTNAMLEN, 'name'), 'groups');
  return { dir, groups };
}

function decodeRes(r: XdrReader): ExportRes {
  return r.list(MAX_EXPORTS, readExport, 'exports');
}

export const EXPORT: Procedure<void, ExportRes> = {
  name: 'EXPORT',
  proc: 5,
  idempotent: true,
  encode() {},
  decode: decodeRes,
};
