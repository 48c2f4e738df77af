import type { Program } from '../rpc/procedure.js';
import { mount3StatusName } from './status.js';

/** program MOUNT_PROGRAM { version MOUNT_V3 { ... } = 3; } = 100005; (RFC 1813 section 5.2) */
export const MOUNT3_PROGRAM: Program = { name: 'MOUNT', prog: 100005, vers: 3, statusName: mount3StatusName };
