/*
 * RFC 1813 section 5.1.5:
 *   enum mountstat3 {
 *     MNT3_OK = 0, MNT3ERR_PERM = 1, MNT3ERR_NOENT = 2, MNT3ERR_IO = 5, MNT3ERR_ACCES = 13,
 *     MNT3ERR_NOTDIR = 20, MNT3ERR_INVAL = 22, MNT3ERR_NAMETOOLONG = 63,
 *     MNT3ERR_NOTSUPP = 10004, MNT3ERR_SERVERFAULT = 10006
 *   };
 */

/** Every mountstat3. None is retriable: a refused or missing export stays so until reconfigured. */
export const MOUNT3_STATUSES = [
  { code: 0, name: 'MNT3_OK', retriable: false },
  { code: 1, name: 'MNT3ERR_PERM', retriable: false },
  { code: 2, name: 'MNT3ERR_NOENT', retriable: false },
  { code: 5, name: 'MNT3ERR_IO', retriable: false },
  { code: 13, name: 'MNT3ERR_ACCES', retriable: false },
  { code: 20, name: 'MNT3ERR_NOTDIR', retriable: false },
  { code: 22, name: 'MNT3ERR_INVAL', retriable: false },
  { code: 63, name: 'MNT3ERR_NAMETOOLONG', retriable: false },
  { code: 10004, name: 'MNT3ERR_NOTSUPP', retriable: false },
  { code: 10006, name: 'MNT3ERR_SERVERFAULT', retriable: false },
] as const;

type Entry = (typeof MOUNT3_STATUSES)[number];
export type Mount3StatusName = Entry['name'];

/** Status codes by name: `Mount3Status.MNT3ERR_ACCES === 13`. */
export const Mount3Status = Object.fromEntries(MOUNT3_STATUSES.map((s) => [s.name, s.code])) as {
  readonly [K in Mount3StatusName]: Extract<Entry, { name: K }>['code'];
};

const byCode = new Map<number, Entry>(MOUNT3_STATUSES.map((s) => [s.code, s]));

/** `MNT3ERR_ACCES` for 13; `MNT3ERR_UNKNOWN_<n>` for a code RFC 1813 does not define. */
export function mount3StatusName(code: number): string {
  return byCode.get(code)?.name ?? `MNT3ERR_UNKNOWN_${code}`;
}
