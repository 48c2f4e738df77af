import type { Fattr3, WccData } from '../../../../driver/nfs/nfs3/index.js';

export const fh = (n: number, len = 28): Uint8Array => new Uint8Array(len).map((_, i) => (n * 31 + i) & 0xff);

export const dirAttr: Fattr3 = {
  type: 'directory',
  mode: 0o755,
  nlink: 3,
  uid: 0,
  gid: 0,
  size: 4096,
  used: 8192,
  rdev: { major: 0, minor: 0 },
  fsid: 0x0102030405060708n,
  fileid: 2n,
  atime: new Date('2026-01-02T03:04:05.678Z'),
  mtime: new Date('2026-01-02T03:04:06.001Z'),
  ctime: new Date('2026-01-02T03:04:07Z'),
};

export const fileAttr: Fattr3 = {
  type: 'file',
  mode: 0o4644,
  nlink: 1,
  uid: 1000,
  gid: 4294967294,
  size: 2 ** 40 + 5,
  used: 2 ** 53 - 1,
  rdev: { major: 0, minor: 0 },
  fsid: 0xffffffffffffffffn,
  fileid: 0xfedcba9876543210n,
  atime: new Date(0),
  mtime: new Date((2 ** 32 - 1) * 1000 + 999),
  ctime: new Date('2000-02-29T12:00:00.5Z'),
};

export const charAttr: Fattr3 = {
  ...fileAttr,
  type: 'char',
  rdev: { major: 4, minor: 64 },
  size: 0,
  used: 0,
};

export const wcc: WccData = {
  before: { size: 100, mtime: new Date('2026-01-01T00:00:00Z'), ctime: new Date('2026-01-01T00:00:01Z') },
  after: fileAttr,
};
export const wccEmpty: WccData = { before: undefined, after: undefined };
export const wccAfterOnly: WccData = { before: undefined, after: dirAttr };
