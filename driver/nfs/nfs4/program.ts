import type { Program } from '../rpc/procedure.js';

/** program NFS4_PROGRAM { version NFS_V4 { ... } = 4; } = 100003; (RFC 7863) */
export const NFS4_PROGRAM: Program = { name: 'NFS', prog: 100003, vers: 4 };

/** The minor version every COMPOUND of this client carries. */
export const NFS4_MINOR_VERSION = 1;

/* enum nfs_opnum4 (RFC 7863): the operations this client sends, and OP_ILLEGAL. */
export const OP_CLOSE = 4;
export const OP_COMMIT = 5;
export const OP_CREATE = 6;
export const OP_DELEGRETURN = 8;
export const OP_GETATTR = 9;
export const OP_GETFH = 10;
export const OP_LOOKUP = 15;
export const OP_LOOKUPP = 16;
export const OP_OPEN = 18;
export const OP_PUTFH = 22;
export const OP_PUTROOTFH = 24;
export const OP_READ = 25;
export const OP_READDIR = 26;
export const OP_READLINK = 27;
export const OP_REMOVE = 28;
export const OP_RENAME = 29;
export const OP_SAVEFH = 32;
export const OP_SETATTR = 34;
export const OP_WRITE = 38;
export const OP_EXCHANGE_ID = 42;
export const OP_CREATE_SESSION = 43;
export const OP_DESTROY_SESSION = 44;
export const OP_SECINFO_NO_NAME = 52;
export const OP_SEQUENCE = 53;
export const OP_DESTROY_CLIENTID = 57;
export const OP_RECLAIM_COMPLETE = 58;
export const OP_ILLEGAL = 10044;

/** Protocol limits (RFC 7863): NFS4_FHSIZE and NFS4_OPAQUE_LIMIT. */
export const NFS4_FHSIZE = 128;
export const NFS4_OPAQUE_LIMIT = 1024;
/** sessionid4 is opaque[NFS4_SESSIONID_SIZE]. */
export const NFS4_SESSIONID_SIZE = 16;
