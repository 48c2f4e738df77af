/*
 * RFC 1813 section 2.6:
 *   enum nfsstat3 {
 *     NFS3_OK = 0, NFS3ERR_PERM = 1, NFS3ERR_NOENT = 2, NFS3ERR_IO = 5, NFS3ERR_NXIO = 6,
 *     NFS3ERR_ACCES = 13, NFS3ERR_EXIST = 17, NFS3ERR_XDEV = 18, NFS3ERR_NODEV = 19,
 *     NFS3ERR_NOTDIR = 20, NFS3ERR_ISDIR = 21, NFS3ERR_INVAL = 22, NFS3ERR_FBIG = 27,
 *     NFS3ERR_NOSPC = 28, NFS3ERR_ROFS = 30, NFS3ERR_MLINK = 31, NFS3ERR_NAMETOOLONG = 63,
 *     NFS3ERR_NOTEMPTY = 66, NFS3ERR_DQUOT = 69, NFS3ERR_STALE = 70, NFS3ERR_REMOTE = 71,
 *     NFS3ERR_BADHANDLE = 10001, NFS3ERR_NOT_SYNC = 10002, NFS3ERR_BAD_COOKIE = 10003,
 *     NFS3ERR_NOTSUPP = 10004, NFS3ERR_TOOSMALL = 10005, NFS3ERR_SERVERFAULT = 10006,
 *     NFS3ERR_BADTYPE = 10007, NFS3ERR_JUKEBOX = 10008
 *   };
 */

/**
 * Every nfsstat3 with whether repeating the same call can succeed. Only JUKEBOX ("the file is
 * being brought online, try later") is; STALE, BAD_COOKIE and NOT_SYNC need a new handle,
 * cookie or verifier first, which is the caller's business.
 */
export const NFS3_STATUSES = [
  { code: 0, name: 'NFS3_OK', retriable: false },
  { code: 1, name: 'NFS3ERR_PERM', retriable: false },
  { code: 2, name: 'NFS3ERR_NOENT', retriable: false },
  { code: 5, name: 'NFS3ERR_IO', retriable: false },
  { code: 6, name: 'NFS3ERR_NXIO', retriable: false },
  { code: 13, name: 'NFS3ERR_ACCES', retriable: false },
  { code: 17, name: 'NFS3ERR_EXIST', retriable: false },
  { code: 18, name: 'NFS3ERR_XDEV', retriable: false },
  { code: 19, name: 'NFS3ERR_NODEV', retriable: false },
  { code: 20, name: 'NFS3ERR_NOTDIR', retriable: false },
  { code: 21, name: 'NFS3ERR_ISDIR', retriable: false },
  { code: 22, name: 'NFS3ERR_INVAL', retriable: false },
  { code: 27, name: 'NFS3ERR_FBIG', retriable: false },
  { code: 28, name: 'NFS3ERR_NOSPC', retriable: false },
  { code: 30, name: 'NFS3ERR_ROFS', retriable: false },
  { code: 31, name: 'NFS3ERR_MLINK', retriable: false },
  { code: 63, name: 'NFS3ERR_NAMETOOLONG', retriable: false },
  { code: 66, name: 'NFS3ERR_NOTEMPTY', retriable: false },
  { code: 69, name: 'NFS3ERR_DQUOT', retriable: false },
  { code: 70, name: 'NFS3ERR_STALE', retriable: false },
  { code: 71, name: 'NFS3ERR_REMOTE', retriable: false },
  { code: 10001, name: 'NFS3ERR_BADHANDLE', retriable: false },
  { code: 10002, name: 'NFS3ERR_NOT_SYNC', retriable: false },
  { code: 10003, name: 'NFS3ERR_BAD_COOKIE', retriable: false },
  { code: 10004, name: 'NFS3ERR_NOTSUPP', retriable: false },
  { code: 10005, name: 'NFS3ERR_TOOSMALL', retriable: false },
  { code: 10006, name: 'NFS3ERR_SERVERFAULT', retriable: false },
  { code: 10007, name: 'NFS3ERR_BADTYPE', retriable: false },
  { code: 10008, name: 'NFS3ERR_JUKEBOX', retriable: true },
] as const;

type Entry = (typeof NFS3_STATUSES)[number];
export type Nfs3StatusName = Entry['name'];

/** Status codes by name: `Nfs3Status.NFS3ERR_EXIST === 17`. */
export const Nfs3Status = Object.fromEntries(NFS3_STATUSES.map((s) => [s.name, s.code])) as {
  readonly [K in Nfs3StatusName]: Extract<Entry, { name: K }>['code'];
};

const byCode = new Map<number, Entry>(NFS3_STATUSES.map((s) => [s.code, s]));

/** `NFS3ERR_EXIST` for 17; `NFS3ERR_UNKNOWN_<n>` for a code RFC 1813 does not define. */
export function nfs3StatusName(code: number): string {
  return byCode.get(code)?.name ?? `NFS3ERR_UNKNOWN_${code}`;
}

export function nfs3StatusRetriable(code: number): boolean {
  return byCode.get(code)?.retriable ?? false;
}
