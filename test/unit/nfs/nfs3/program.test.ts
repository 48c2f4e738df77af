import { describe, expect, it } from 'vitest';
import * as nfs3 from '../../../../driver/nfs/nfs3/index.js';
import type { Procedure } from '../../../../driver/nfs/rpc/procedure.js';

const EXPECTED: [string, number, boolean][] = [
  ['NULL', 0, true],
  ['GETATTR', 1, true],
  ['SETATTR', 2, true],
  ['LOOKUP', 3, true],
  ['ACCESS', 4, true],
  ['READLINK', 5, true],
  ['READ', 6, true],
  ['WRITE', 7, true],
  ['CREATE', 8, false],
  ['MKDIR', 9, false],
  ['SYMLINK', 10, false],
  ['REMOVE', 12, false],
  ['RMDIR', 13, false],
  ['RENAME', 14, false],
  ['READDIRPLUS', 17, true],
  ['FSSTAT', 18, true],
  ['FSINFO', 19, true],
  ['PATHCONF', 20, true],
  ['COMMIT', 21, true],
];

describe('NFSv3 program', () => {
  it('is program 100003 version 3', () => {
    expect(nfs3.NFS3_PROGRAM).toMatchObject({ name: 'NFS', prog: 100003, vers: 3 });
    expect(nfs3.NFS3_PROGRAM.statusName?.(70)).toBe('NFS3ERR_STALE');
  });

  it.each(EXPECTED)('%s is procedure %i, idempotent: %s', (name, proc, idempotent) => {
    const p = (nfs3 as unknown as Record<string, Procedure<unknown, unknown>>)[name];
    expect(p).toMatchObject({ name, proc, idempotent });
  });

  it('exports the ACCESS3, FSF3 and stable_how constants', () => {
    expect([nfs3.ACCESS3_READ, nfs3.ACCESS3_LOOKUP, nfs3.ACCESS3_MODIFY]).toEqual([1, 2, 4]);
    expect([nfs3.ACCESS3_EXTEND, nfs3.ACCESS3_DELETE, nfs3.ACCESS3_EXECUTE]).toEqual([8, 16, 32]);
    expect([nfs3.FSF3_LINK, nfs3.FSF3_SYMLINK, nfs3.FSF3_HOMOGENEOUS, nfs3.FSF3_CANSETTIME]).toEqual([
      1, 2, 8, 16,
    ]);
    expect(nfs3.StableHow).toEqual({ UNSTABLE: 0, DATA_SYNC: 1, FILE_SYNC: 2 });
  });
});
