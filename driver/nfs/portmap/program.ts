import type { Program } from '../rpc/procedure.js';

/** rpcbind/portmap (RFC 1833), version 2 (the portmap protocol), always on port 111 by default. */
export const PORTMAP_PROGRAM: Program = { name: 'PORTMAP', prog: 100000, vers: 2 };
export const PORTMAP_PORT = 111;
export const IPPROTO_TCP = 6;
