import type { Program } from '../rpc/procedure.js';
import { nfs3StatusName } from './status.js';

/** program NFS_PROGRAM { version NFS_V3 { ... } = 3; } = 100003; (RFC 1813 section 3) */
export const NFS3_PROGRAM: Program = { name: 'NFS', prog: 100003, vers: 3, statusName: nfs3StatusName };
