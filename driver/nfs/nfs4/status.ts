/*
 * RFC 8881 section 15.1 / RFC 7863 (nfs4_prot.x), enum nfsstat4. Codes below 10000 share their
 * numbers with nfsstat3 (RFC 1813): NFS4ERR_EXIST is 17 as NFS3ERR_EXIST is.
 */

/**
 * Every nfsstat4 this client may meet, with whether sending the same COMPOUND again (after a
 * pause) can succeed. DELAY and GRACE are the server asking to come back later; the session and
 * client-id errors are recovered by the session layer (a new session or client id), not by a
 * plain retry, so they are not marked retriable here.
 */
export const NFS4_STATUSES = [
  { code: 0, name: 'NFS4_OK', retriable: false },
  { code: 1, name: 'NFS4ERR_PERM', retriable: false },
  { code: 2, name: 'NFS4ERR_NOENT', retriable: false },
  { code: 5, name: 'NFS4ERR_IO', retriable: false },
  { code: 6, name: 'NFS4ERR_NXIO', retriable: false },
  { code: 13, name: 'NFS4ERR_ACCESS', retriable: false },
  { code: 17, name: 'NFS4ERR_EXIST', retriable: false },
  { code: 18, name: 'NFS4ERR_XDEV', retriable: false },
  { code: 20, name: 'NFS4ERR_NOTDIR', retriable: false },
  { code: 21, name: 'NFS4ERR_ISDIR', retriable: false },
  { code: 22, name: 'NFS4ERR_INVAL', retriable: false },
  { code: 27, name: 'NFS4ERR_FBIG', retriable: false },
  { code: 28, name: 'NFS4ERR_NOSPC', retriable: false },
  { code: 30, name: 'NFS4ERR_ROFS', retriable: false },
  { code: 31, name: 'NFS4ERR_MLINK', retriable: false },
  { code: 63, name: 'NFS4ERR_NAMETOOLONG', retriable: false },
  { code: 66, name: 'NFS4ERR_NOTEMPTY', retriable: false },
  { code: 69, name: 'NFS4ERR_DQUOT', retriable: false },
  { code: 70, name: 'NFS4ERR_STALE', retriable: false },
  { code: 10001, name: 'NFS4ERR_BADHANDLE', retriable: false },
  { code: 10003, name: 'NFS4ERR_BAD_COOKIE', retriable: false },
  { code: 10004, name: 'NFS4ERR_NOTSUPP', retriable: false },
  { code: 10005, name: 'NFS4ERR_TOOSMALL', retriable: false },
  { code: 10006, name: 'NFS4ERR_SERVERFAULT', retriable: false },
  { code: 10007, name: 'NFS4ERR_BADTYPE', retriable: false },
  { code: 10008, name: 'NFS4ERR_DELAY', retriable: true },
  { code: 10009, name: 'NFS4ERR_SAME', retriable: false },
  { code: 10010, name: 'NFS4ERR_DENIED', retriable: false },
  { code: 10011, name: 'NFS4ERR_EXPIRED', retriable: false },
  { code: 10012, name: 'NFS4ERR_LOCKED', retriable: false },
  { code: 10013, name: 'NFS4ERR_GRACE', retriable: true },
  { code: 10014, name: 'NFS4ERR_FHEXPIRED', retriable: false },
  { code: 10015, name: 'NFS4ERR_SHARE_DENIED', retriable: false },
  { code: 10016, name: 'NFS4ERR_WRONGSEC', retriable: false },
  { code: 10017, name: 'NFS4ERR_CLID_INUSE', retriable: false },
  { code: 10018, name: 'NFS4ERR_RESOURCE', retriable: false },
  { code: 10019, name: 'NFS4ERR_MOVED', retriable: false },
  { code: 10020, name: 'NFS4ERR_NOFILEHANDLE', retriable: false },
  { code: 10021, name: 'NFS4ERR_MINOR_VERS_MISMATCH', retriable: false },
  { code: 10022, name: 'NFS4ERR_STALE_CLIENTID', retriable: false },
  { code: 10023, name: 'NFS4ERR_STALE_STATEID', retriable: false },
  { code: 10024, name: 'NFS4ERR_OLD_STATEID', retriable: false },
  { code: 10025, name: 'NFS4ERR_BAD_STATEID', retriable: false },
  { code: 10026, name: 'NFS4ERR_BAD_SEQID', retriable: false },
  { code: 10027, name: 'NFS4ERR_NOT_SAME', retriable: false },
  { code: 10028, name: 'NFS4ERR_LOCK_RANGE', retriable: false },
  { code: 10029, name: 'NFS4ERR_SYMLINK', retriable: false },
  { code: 10030, name: 'NFS4ERR_RESTOREFH', retriable: false },
  { code: 10031, name: 'NFS4ERR_LEASE_MOVED', retriable: false },
  { code: 10032, name: 'NFS4ERR_ATTRNOTSUPP', retriable: false },
  { code: 10033, name: 'NFS4ERR_NO_GRACE', retriable: false },
  { code: 10034, name: 'NFS4ERR_RECLAIM_BAD', retriable: false },
  { code: 10035, name: 'NFS4ERR_RECLAIM_CONFLICT', retriable: false },
  { code: 10036, name: 'NFS4ERR_BADXDR', retriable: false },
  { code: 10037, name: 'NFS4ERR_LOCKS_HELD', retriable: false },
  { code: 10038, name: 'NFS4ERR_OPENMODE', retriable: false },
  { code: 10039, name: 'NFS4ERR_BADOWNER', retriable: false },
  { code: 10040, name: 'NFS4ERR_BADCHAR', retriable: false },
  { code: 10041, name: 'NFS4ERR_BADNAME', retriable: false },
  { code: 10042, name: 'NFS4ERR_BAD_RANGE', retriable: false },
  { code: 10043, name: 'NFS4ERR_LOCK_NOTSUPP', retriable: false },
  { code: 10044, name: 'NFS4ERR_OP_ILLEGAL', retriable: false },
  { code: 10045, name: 'NFS4ERR_DEADLOCK', retriable: false },
  { code: 10046, name: 'NFS4ERR_FILE_OPEN', retriable: false },
  { code: 10047, name: 'NFS4ERR_ADMIN_REVOKED', retriable: false },
  { code: 10048, name: 'NFS4ERR_CB_PATH_DOWN', retriable: false },
  { code: 10049, name: 'NFS4ERR_BADIOMODE', retriable: false },
  { code: 10050, name: 'NFS4ERR_BADLAYOUT', retriable: false },
  { code: 10051, name: 'NFS4ERR_BAD_SESSION_DIGEST', retriable: false },
  { code: 10052, name: 'NFS4ERR_BADSESSION', retriable: false },
  { code: 10053, name: 'NFS4ERR_BADSLOT', retriable: false },
  { code: 10054, name: 'NFS4ERR_COMPLETE_ALREADY', retriable: false },
  { code: 10055, name: 'NFS4ERR_CONN_NOT_BOUND_TO_SESSION', retriable: false },
  { code: 10056, name: 'NFS4ERR_DELEG_ALREADY_WANTED', retriable: false },
  { code: 10057, name: 'NFS4ERR_BACK_CHAN_BUSY', retriable: false },
  { code: 10058, name: 'NFS4ERR_LAYOUTTRYLATER', retriable: false },
  { code: 10059, name: 'NFS4ERR_LAYOUTUNAVAILABLE', retriable: false },
  { code: 10060, name: 'NFS4ERR_NOMATCHING_LAYOUT', retriable: false },
  { code: 10061, name: 'NFS4ERR_RECALLCONFLICT', retriable: false },
  { code: 10062, name: 'NFS4ERR_UNKNOWN_LAYOUTTYPE', retriable: false },
  { code: 10063, name: 'NFS4ERR_SEQ_MISORDERED', retriable: false },
  { code: 10064, name: 'NFS4ERR_SEQUENCE_POS', retriable: false },
  { code: 10065, name: 'NFS4ERR_REQ_TOO_BIG', retriable: false },
  { code: 10066, name: 'NFS4ERR_REP_TOO_BIG', retriable: false },
  { code: 10067, name: 'NFS4ERR_REP_TOO_BIG_TO_CACHE', retriable: false },
  { code: 10068, name: 'NFS4ERR_RETRY_UNCACHED_REP', retriable: false },
  { code: 10069, name: 'NFS4ERR_UNSAFE_COMPOUND', retriable: false },
  { code: 10070, name: 'NFS4ERR_TOO_MANY_OPS', retriable: false },
  { code: 10071, name: 'NFS4ERR_OP_NOT_IN_SESSION', retriable: false },
  { code: 10072, name: 'NFS4ERR_HASH_ALG_UNSUPP', retriable: false },
  { code: 10074, name: 'NFS4ERR_CLIENTID_BUSY', retriable: false },
  { code: 10075, name: 'NFS4ERR_PNFS_IO_HOLE', retriable: false },
  { code: 10076, name: 'NFS4ERR_SEQ_FALSE_RETRY', retriable: false },
  { code: 10077, name: 'NFS4ERR_BAD_HIGH_SLOT', retriable: false },
  { code: 10078, name: 'NFS4ERR_DEADSESSION', retriable: false },
  { code: 10079, name: 'NFS4ERR_ENCR_ALG_UNSUPP', retriable: false },
  { code: 10080, name: 'NFS4ERR_PNFS_NO_LAYOUT', retriable: false },
  { code: 10081, name: 'NFS4ERR_NOT_ONLY_OP', retriable: false },
  { code: 10082, name: 'NFS4ERR_WRONG_CRED', retriable: false },
  { code: 10083, name: 'NFS4ERR_WRONG_TYPE', retriable: false },
  { code: 10084, name: 'NFS4ERR_DIRDELEG_UNAVAIL', retriable: false },
  { code: 10085, name: 'NFS4ERR_REJECT_DELEG', retriable: false },
  { code: 10086, name: 'NFS4ERR_RETURNCONFLICT', retriable: false },
  { code: 10087, name: 'NFS4ERR_DELEG_REVOKED', retriable: false },
] as const;

type Entry = (typeof NFS4_STATUSES)[number];
export type Nfs4StatusName = Entry['name'];

/** Status codes by name: `Nfs4Status.NFS4ERR_EXIST === 17`. */
export const Nfs4Status = Object.fromEntries(NFS4_STATUSES.map((s) => [s.name, s.code])) as {
  readonly [K in Nfs4StatusName]: Extract<Entry, { name: K }>['code'];
};

const byCode = new Map<number, Entry>(NFS4_STATUSES.map((s) => [s.code, s]));

/** `NFS4ERR_EXIST` for 17; `NFS4ERR_UNKNOWN_<n>` for a code RFC 8881 does not define. */
export function nfs4StatusName(code: number): string {
  return byCode.get(code)?.name ?? `NFS4ERR_UNKNOWN_${code}`;
}

export function nfs4StatusRetriable(code: number): boolean {
  return byCode.get(code)?.retriable ?? false;
}
