import {
  ACCESS,
  ACCESS3_LOOKUP,
  ACCESS3_READ,
  COMMIT,
  CREATE,
  type CreateArgs,
  type CreateHow,
  FSINFO,
  FSSTAT,
  GETATTR,
  LOOKUP,
  MKDIR,
  NULL,
  Nfs3Status,
  PATHCONF,
  READ,
  READDIRPLUS,
  READLINK,
  REMOVE,
  RENAME,
  RMDIR,
  SETATTR,
  SYMLINK,
  StableHow,
  WRITE,
  type WriteArgs,
  type AccessFail,
  type AccessOk,
  type CommitFail,
  type CommitOk,
  type CreateFail,
  type CreateOk,
  type FsinfoFail,
  type FsinfoOk,
  type FsstatFail,
  type FsstatOk,
  type GetattrOk,
  type LookupFail,
  type LookupOk,
  type PathconfFail,
  type PathconfOk,
  type ReadFail,
  type ReadOk,
  type ReaddirplusFail,
  type ReadlinkFail,
  type ReadlinkOk,
  type RemoveFail,
  type RemoveOk,
  type RenameOk,
  type SetattrFail,
  type SetattrOk,
  type WriteFail,
  type WriteOk,
} from '../../../../driver/nfs/nfs3/index.js';
import type { XdrReader } from '../../../../driver/nfs/xdr/xdr-reader.js';
import { procedureSuite } from '../procedure-suite.js';
import {
  bool,
  readDirOp,
  readFh,
  readSattr3,
  readTime,
  str,
  strip,
  u32,
  u64,
  verf,
  writeFattr3,
  writeFh,
  writeNfstime3,
  fields,
  writePostOpAttr,
  writePostOpFh,
  writeReaddirplusOk,
  writeResult,
  writeVoid,
  writeWccData,
} from '../reply-encoders.js';
import { charAttr, dirAttr, fh, fileAttr, wcc, wccAfterOnly, wccEmpty } from './fixtures.js';

const V = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
const dirop = { dir: fh(1), name: 'file.txt' };
const wccs = [wcc, wccEmpty, wccAfterOnly];

procedureSuite({
  procedure: NULL,
  args: [undefined],
  decodeArgs: () => undefined,
  replies: [undefined],
  encodeReply: writeVoid,
  fuzzCases: 500,
});

procedureSuite({
  procedure: GETATTR,
  args: [{ object: fh(1) }, { object: new Uint8Array(0) }, { object: fh(2, 64) }],
  decodeArgs: (r) => ({ object: readFh(r) }),
  replies: [
    { ok: true, value: { objAttributes: dirAttr } },
    { ok: true, value: { objAttributes: charAttr } },
    { ok: false, status: Nfs3Status.NFS3ERR_STALE, value: undefined },
  ],
  encodeReply: writeResult(fields<GetattrOk>()(['objAttributes', writeFattr3]), writeVoid),
});

procedureSuite({
  procedure: SETATTR,
  args: [
    { object: fh(1), attributes: {} },
    { object: fh(1), attributes: { mode: 0o2775, uid: 1000, gid: 1000 } },
    {
      object: fh(1),
      attributes: { size: 2 ** 40, atime: 'server', mtime: new Date('2026-03-04T05:06:07.089Z') },
      guardCtime: new Date('2026-03-04T05:06:08Z'),
    },
  ],
  decodeArgs: (r) =>
    strip({ object: readFh(r), attributes: readSattr3(r), guardCtime: r.optional(readTime) }),
  replies: [
    { ok: true, value: { objWcc: wcc } },
    { ok: false, status: Nfs3Status.NFS3ERR_NOT_SYNC, value: { objWcc: wccAfterOnly } },
  ],
  encodeReply: writeResult(
    fields<SetattrOk>()(['objWcc', writeWccData]),
    fields<SetattrFail>()(['objWcc', writeWccData]),
  ),
});

procedureSuite({
  procedure: LOOKUP,
  args: [dirop, { dir: fh(2), name: 'ünïcødé ✓' }, { dir: fh(3), name: 'x'.repeat(255) }],
  decodeArgs: readDirOp,
  replies: [
    { ok: true, value: { object: fh(9), objAttributes: fileAttr, dirAttributes: dirAttr } },
    { ok: true, value: { object: fh(9, 64), objAttributes: undefined, dirAttributes: undefined } },
    { ok: false, status: Nfs3Status.NFS3ERR_NOENT, value: { dirAttributes: dirAttr } },
    { ok: false, status: 99999, value: { dirAttributes: undefined } },
  ],
  encodeReply: writeResult(
    fields<LookupOk>()(
      ['object', writeFh],
      ['objAttributes', writePostOpAttr],
      ['dirAttributes', writePostOpAttr],
    ),
    fields<LookupFail>()(['dirAttributes', writePostOpAttr]),
  ),
});

procedureSuite({
  procedure: ACCESS,
  args: [{ object: fh(1), access: ACCESS3_READ | ACCESS3_LOOKUP }],
  decodeArgs: (r) => ({ object: readFh(r), access: r.u32() }),
  replies: [
    { ok: true, value: { objAttributes: dirAttr, access: ACCESS3_READ } },
    { ok: false, status: Nfs3Status.NFS3ERR_ACCES, value: { objAttributes: undefined } },
  ],
  encodeReply: writeResult(
    fields<AccessOk>()(['objAttributes', writePostOpAttr], ['access', u32]),
    fields<AccessFail>()(['objAttributes', writePostOpAttr]),
  ),
});

procedureSuite({
  procedure: READLINK,
  args: [{ symlink: fh(4) }],
  decodeArgs: (r) => ({ symlink: readFh(r) }),
  replies: [
    { ok: true, value: { symlinkAttributes: { ...fileAttr, type: 'symlink' }, data: '../target/dir' } },
    { ok: true, value: { symlinkAttributes: undefined, data: '' } },
    { ok: false, status: Nfs3Status.NFS3ERR_INVAL, value: { symlinkAttributes: fileAttr } },
  ],
  encodeReply: writeResult(
    fields<ReadlinkOk>()(['symlinkAttributes', writePostOpAttr], ['data', str]),
    fields<ReadlinkFail>()(['symlinkAttributes', writePostOpAttr]),
  ),
});

procedureSuite({
  procedure: READ,
  args: [
    { file: fh(5), offset: 0n, count: 1 << 20 },
    { file: fh(5), offset: 2n ** 64n - 1n, count: 0 },
  ],
  decodeArgs: (r) => ({ file: readFh(r), offset: r.u64(), count: r.u32() }),
  replies: [
    {
      ok: true,
      value: { fileAttributes: fileAttr, count: 5, eof: false, data: new Uint8Array([1, 2, 3, 4, 5]) },
    },
    { ok: true, value: { fileAttributes: undefined, count: 0, eof: true, data: new Uint8Array(0) } },
    { ok: false, status: Nfs3Status.NFS3ERR_ISDIR, value: { fileAttributes: dirAttr } },
  ],
  encodeReply: writeResult(
    fields<ReadOk>()(['fileAttributes', writePostOpAttr], ['count', u32], ['eof', bool], ['data', writeFh]),
    fields<ReadFail>()(['fileAttributes', writePostOpAttr]),
  ),
});

function readWriteArgs(r: XdrReader): WriteArgs {
  const file = readFh(r);
  const offset = r.u64n();
  const count = r.u32();
  const stable = r.u32() as StableHow;
  const data = r.opaque(count);
  return { file, offset, stable, data };
}

procedureSuite({
  procedure: WRITE,
  args: [
    { file: fh(6), offset: 12345, stable: StableHow.UNSTABLE, data: new Uint8Array([9, 8, 7]) },
    { file: fh(6), offset: 0, stable: StableHow.FILE_SYNC, data: new Uint8Array(0) },
    { file: fh(6), offset: 2 ** 40, stable: StableHow.DATA_SYNC, data: new Uint8Array(4096).fill(0xab) },
  ],
  decodeArgs: readWriteArgs,
  replies: [
    { ok: true, value: { fileWcc: wcc, count: 4096, committed: StableHow.FILE_SYNC, verf: V } },
    { ok: true, value: { fileWcc: wccEmpty, count: 0, committed: StableHow.UNSTABLE, verf: V } },
    { ok: false, status: Nfs3Status.NFS3ERR_NOSPC, value: { fileWcc: wccAfterOnly } },
  ],
  encodeReply: writeResult(
    fields<WriteOk>()(['fileWcc', writeWccData], ['count', u32], ['committed', u32], ['verf', verf]),
    fields<WriteFail>()(['fileWcc', writeWccData]),
  ),
});

function readCreateArgs(r: XdrReader): CreateArgs {
  const where = readDirOp(r);
  const mode = r.u32();
  const how: CreateHow =
    mode === 2
      ? { mode: 'exclusive', verf: r.fixedOpaque(8) }
      : { mode: mode === 1 ? 'guarded' : 'unchecked', attributes: readSattr3(r) };
  return { where, how };
}

const newObjectReplies = [
  { ok: true, value: { object: fh(7), objAttributes: fileAttr, dirWcc: wcc } },
  { ok: true, value: { object: undefined, objAttributes: undefined, dirWcc: wccEmpty } },
  { ok: false, status: Nfs3Status.NFS3ERR_EXIST, value: { dirWcc: wccAfterOnly } },
] as const;
const writeNewObjectRes = writeResult(
  fields<CreateOk>()(['object', writePostOpFh], ['objAttributes', writePostOpAttr], ['dirWcc', writeWccData]),
  fields<CreateFail>()(['dirWcc', writeWccData]),
);

procedureSuite({
  procedure: CREATE,
  args: [
    { where: dirop, how: { mode: 'unchecked', attributes: { mode: 0o644, size: 0 } } },
    { where: dirop, how: { mode: 'guarded', attributes: { uid: 1, gid: 2, mtime: 'server' } } },
    { where: dirop, how: { mode: 'exclusive', verf: V } },
  ],
  decodeArgs: readCreateArgs,
  replies: newObjectReplies,
  encodeReply: writeNewObjectRes,
});

procedureSuite({
  procedure: MKDIR,
  args: [{ where: dirop, attributes: { mode: 0o750, uid: 1000, gid: 1000 } }],
  decodeArgs: (r) => ({ where: readDirOp(r), attributes: readSattr3(r) }),
  replies: newObjectReplies,
  encodeReply: writeNewObjectRes,
});

procedureSuite({
  procedure: SYMLINK,
  args: [{ where: dirop, attributes: {}, target: '/a/b/../c' }],
  decodeArgs: (r) => ({ where: readDirOp(r), attributes: readSattr3(r), target: r.string(4096) }),
  replies: newObjectReplies,
  encodeReply: writeNewObjectRes,
});

for (const procedure of [REMOVE, RMDIR]) {
  procedureSuite({
    procedure,
    args: [dirop],
    decodeArgs: readDirOp,
    replies: [
      ...wccs.map((dirWcc) => ({ ok: true, value: { dirWcc } }) as const),
      { ok: false, status: Nfs3Status.NFS3ERR_NOTEMPTY, value: { dirWcc: wcc } },
    ],
    encodeReply: writeResult(
      fields<RemoveOk>()(['dirWcc', writeWccData]),
      fields<RemoveFail>()(['dirWcc', writeWccData]),
    ),
  });
}

const writeRenameWcc = fields<RenameOk>()(['fromDirWcc', writeWccData], ['toDirWcc', writeWccData]);
procedureSuite({
  procedure: RENAME,
  args: [{ from: dirop, to: { dir: fh(8), name: 'new name' } }],
  decodeArgs: (r) => ({ from: readDirOp(r), to: readDirOp(r) }),
  replies: [
    { ok: true, value: { fromDirWcc: wcc, toDirWcc: wccEmpty } },
    { ok: false, status: Nfs3Status.NFS3ERR_XDEV, value: { fromDirWcc: wccAfterOnly, toDirWcc: wcc } },
  ],
  encodeReply: writeResult(writeRenameWcc, writeRenameWcc),
});

procedureSuite({
  procedure: READDIRPLUS,
  args: [
    { dir: fh(1), cookie: 0n, cookieverf: new Uint8Array(8), dircount: 8192, maxcount: 65536 },
    { dir: fh(1), cookie: 2n ** 64n - 1n, cookieverf: V, dircount: 0, maxcount: 0xffffffff },
  ],
  decodeArgs: (r) => ({
    dir: readFh(r),
    cookie: r.u64(),
    cookieverf: r.fixedOpaque(8),
    dircount: r.u32(),
    maxcount: r.u32(),
  }),
  replies: [
    {
      ok: true,
      value: {
        dirAttributes: dirAttr,
        cookieverf: V,
        entries: [
          { fileid: 2n, name: '.', cookie: 1n, attributes: dirAttr, handle: fh(1) },
          { fileid: 1n, name: '..', cookie: 2n, attributes: undefined, handle: undefined },
          { fileid: 99n, name: 'a file', cookie: 2n ** 63n, attributes: fileAttr, handle: fh(3, 64) },
          { fileid: 100n, name: '', cookie: 4n, attributes: undefined, handle: new Uint8Array(0) },
        ],
        eof: true,
      },
    },
    { ok: true, value: { dirAttributes: undefined, cookieverf: V, entries: [], eof: false } },
    { ok: false, status: Nfs3Status.NFS3ERR_BAD_COOKIE, value: { dirAttributes: dirAttr } },
  ],
  encodeReply: writeResult(writeReaddirplusOk, fields<ReaddirplusFail>()(['dirAttributes', writePostOpAttr])),
});

procedureSuite({
  procedure: FSSTAT,
  args: [{ fsroot: fh(1) }],
  decodeArgs: (r) => ({ fsroot: readFh(r) }),
  replies: [
    {
      ok: true,
      value: {
        objAttributes: dirAttr,
        tbytes: 2 ** 50,
        fbytes: 2 ** 49,
        abytes: 2 ** 48,
        tfiles: 1e9,
        ffiles: 5e8,
        afiles: 4e8,
        invarsec: 0,
      },
    },
    { ok: false, status: Nfs3Status.NFS3ERR_IO, value: { objAttributes: undefined } },
  ],
  encodeReply: writeResult(
    fields<FsstatOk>()(
      ['objAttributes', writePostOpAttr],
      ['tbytes', u64],
      ['fbytes', u64],
      ['abytes', u64],
      ['tfiles', u64],
      ['ffiles', u64],
      ['afiles', u64],
      ['invarsec', u32],
    ),
    fields<FsstatFail>()(['objAttributes', writePostOpAttr]),
  ),
});

procedureSuite({
  procedure: FSINFO,
  args: [{ fsroot: fh(1) }],
  decodeArgs: (r) => ({ fsroot: readFh(r) }),
  replies: [
    {
      ok: true,
      value: {
        objAttributes: dirAttr,
        rtmax: 1 << 20,
        rtpref: 1 << 20,
        rtmult: 4096,
        wtmax: 1 << 20,
        wtpref: 1 << 20,
        wtmult: 4096,
        dtpref: 1 << 20,
        maxfilesize: 2 ** 53 - 1,
        timeDelta: { seconds: 0, nseconds: 1 },
        properties: 0x1b,
      },
    },
    { ok: false, status: Nfs3Status.NFS3ERR_SERVERFAULT, value: { objAttributes: dirAttr } },
  ],
  encodeReply: writeResult(
    fields<FsinfoOk>()(
      ['objAttributes', writePostOpAttr],
      ['rtmax', u32],
      ['rtpref', u32],
      ['rtmult', u32],
      ['wtmax', u32],
      ['wtpref', u32],
      ['wtmult', u32],
      ['dtpref', u32],
      ['maxfilesize', u64],
      ['timeDelta', writeNfstime3],
      ['properties', u32],
    ),
    fields<FsinfoFail>()(['objAttributes', writePostOpAttr]),
  ),
});

procedureSuite({
  procedure: PATHCONF,
  args: [{ object: fh(1) }],
  decodeArgs: (r) => ({ object: readFh(r) }),
  replies: [
    {
      ok: true,
      value: {
        objAttributes: undefined,
        linkmax: 32000,
        nameMax: 255,
        noTrunc: true,
        chownRestricted: true,
        caseInsensitive: false,
        casePreserving: true,
      },
    },
    { ok: false, status: Nfs3Status.NFS3ERR_BADHANDLE, value: { objAttributes: undefined } },
  ],
  encodeReply: writeResult(
    fields<PathconfOk>()(
      ['objAttributes', writePostOpAttr],
      ['linkmax', u32],
      ['nameMax', u32],
      ['noTrunc', bool],
      ['chownRestricted', bool],
      ['caseInsensitive', bool],
      ['casePreserving', bool],
    ),
    fields<PathconfFail>()(['objAttributes', writePostOpAttr]),
  ),
});

procedureSuite({
  procedure: COMMIT,
  args: [
    { file: fh(6), offset: 0n, count: 0 },
    { file: fh(6), offset: 1n << 40n, count: 1 << 20 },
  ],
  decodeArgs: (r) => ({ file: readFh(r), offset: r.u64(), count: r.u32() }),
  replies: [
    { ok: true, value: { fileWcc: wcc, verf: V } },
    { ok: false, status: Nfs3Status.NFS3ERR_JUKEBOX, value: { fileWcc: wccEmpty } },
  ],
  encodeReply: writeResult(
    fields<CommitOk>()(['fileWcc', writeWccData], ['verf', verf]),
    fields<CommitFail>()(['fileWcc', writeWccData]),
  ),
});
