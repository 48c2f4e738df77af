/*
 * Shared NFSv3 data types (RFC 1813 section 2.5 and 2.6).
 *
 *   typedef opaque nfs_fh3<NFS3_FHSIZE>;          NFS3_FHSIZE = 64
 *   typedef string filename3<>;  typedef string nfspath3<>;
 *   enum ftype3 { NF3REG = 1, NF3DIR = 2, NF3BLK = 3, NF3CHR = 4, NF3LNK = 5, NF3SOCK = 6, NF3FIFO = 7 };
 *   struct specdata3 { uint32 specdata1; uint32 specdata2; };
 *   struct nfstime3 { uint32 seconds; uint32 nseconds; };
 *   struct fattr3 {
 *     ftype3 type; mode3 mode; uint32 nlink; uid3 uid; gid3 gid; size3 size; size3 used;
 *     specdata3 rdev; uint64 fsid; fileid3 fileid; nfstime3 atime; nfstime3 mtime; nfstime3 ctime;
 *   };
 *   union post_op_attr switch (bool attributes_follow) { case TRUE: fattr3 attributes; case FALSE: void; };
 *   struct wcc_attr { size3 size; nfstime3 mtime; nfstime3 ctime; };
 *   union pre_op_attr switch (bool attributes_follow) { case TRUE: wcc_attr attributes; case FALSE: void; };
 *   struct wcc_data { pre_op_attr before; post_op_attr after; };
 *   union post_op_fh3 switch (bool handle_follows) { case TRUE: nfs_fh3 handle; case FALSE: void; };
 *   enum time_how { DONT_CHANGE = 0, SET_TO_SERVER_TIME = 1, SET_TO_CLIENT_TIME = 2 };
 *   union set_mode3 switch (bool set_it) { case TRUE: mode3 mode; default: void; };
 *   (set_uid3, set_gid3: likewise; set_size3: size3)
 *   union set_atime switch (time_how set_it) { case SET_TO_CLIENT_TIME: nfstime3 atime; default: void; };
 *   (set_mtime: likewise)
 *   struct sattr3 { set_mode3 mode; set_uid3 uid; set_gid3 gid; set_size3 size; set_atime atime; set_mtime mtime; };
 *   struct diropargs3 { nfs_fh3 dir; filename3 name; };
 */
import type { FileStat, FileType } from '../types.js';
import { XdrError } from '../xdr/xdr-error.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import type { XdrWriter } from '../xdr/xdr-writer.js';

/** nfs_fh3: an opaque file handle of at most 64 bytes. */
export type Fh = Uint8Array;

export const NFS3_FHSIZE = 64;
/** Longest file name we send (bytes); filename3 itself is unbounded, servers allow 255. */
export const NFS3_NAME_MAX = 255;
/**
 * Longest file name we accept in a reply (bytes). Larger than NFS3_NAME_MAX because servers
 * backed by UTF-16 file systems can return 255 characters of up to 3 UTF-8 bytes each.
 */
export const NFS3_NAME_READ_MAX = 1024;
/** Longest nfspath3 (symlink target) sent or accepted, in bytes: Linux PATH_MAX. */
export const NFS3_PATH_MAX = 4096;
/** cookieverf3, createverf3 and writeverf3 are all opaque[8]. */
export const NFS3_VERF_SIZE = 8;

const FTYPES: readonly FileType[] = ['file', 'directory', 'block', 'char', 'symlink', 'socket', 'fifo'];

export function readFtype3(r: XdrReader): FileType {
  const v = r.u32();
  const t = FTYPES[v - 1];
  if (t === undefined) throw new XdrError('XDR_BAD_VALUE', `bad ftype3 ${v}`);
  return t;
}

export function ftype3Code(t: FileType): number {
  return FTYPES.indexOf(t) + 1;
}

/** nfstime3 as a Date (millisecond precision; nseconds is not range-checked, as some servers overflow it). */
export function readNfstime3(r: XdrReader): Date {
  const seconds = r.u32();
  const nseconds = r.u32();
  return new Date(seconds * 1000 + Math.floor(nseconds / 1e6));
}

export function writeNfstime3(w: XdrWriter, d: Date): void {
  const ms = d.getTime();
  if (!Number.isFinite(ms) || ms < 0 || ms >= 4294967296000) {
    throw new XdrError('XDR_BAD_VALUE', `time not representable as nfstime3: ${String(d)}`);
  }
  w.u32(Math.floor(ms / 1000));
  w.u32((ms % 1000) * 1e6);
}

/** A time interval (FSINFO time_delta): nfstime3 kept as its two fields. */
export interface Nfstime3 {
  readonly seconds: number;
  readonly nseconds: number;
}

export function readFh(r: XdrReader): Fh {
  // Copied: a handle is small and often kept long after the reply buffer is gone. (Not
  // `.slice()`: on a Buffer that is a view.)
  return new Uint8Array(r.opaque(NFS3_FHSIZE, 'nfs_fh3'));
}

export function writeFh(w: XdrWriter, fh: Fh): void {
  w.opaque(fh, NFS3_FHSIZE);
}

/** An 8-byte verifier (cookieverf3, createverf3, writeverf3), copied out of the reply. */
export function readVerf(r: XdrReader): Uint8Array {
  return new Uint8Array(r.fixedOpaque(NFS3_VERF_SIZE));
}

export function writeVerf(w: XdrWriter, verf: Uint8Array): void {
  w.fixedOpaque(verf, NFS3_VERF_SIZE);
}

/** fattr3. Assignable to `FileStat`; `mode` keeps only the permission bits (07777). */
export interface Fattr3 extends FileStat {
  readonly rdev: { readonly major: number; readonly minor: number };
  readonly fsid: bigint;
}

export function readFattr3(r: XdrReader): Fattr3 {
  const type = readFtype3(r);
  // Some servers also send the S_IFMT bits; the type is carried separately.
  const mode = r.u32() & 0o7777;
  const nlink = r.u32();
  const uid = r.u32();
  const gid = r.u32();
  const size = r.u64n();
  const used = r.u64n();
  const major = r.u32();
  const minor = r.u32();
  const fsid = r.u64();
  const fileid = r.u64();
  const atime = readNfstime3(r);
  const mtime = readNfstime3(r);
  const ctime = readNfstime3(r);
  return {
    type,
    mode,
    nlink,
    uid,
    gid,
    size,
    used,
    rdev: { major, minor },
    fsid,
    fileid,
    atime,
    mtime,
    ctime,
  };
}

export function readPostOpAttr(r: XdrReader): Fattr3 | undefined {
  return r.optional(readFattr3);
}

/** wcc_attr: the subset of attributes taken before an operation. */
export interface WccAttr {
  readonly size: number;
  readonly mtime: Date;
  readonly ctime: Date;
}

export function readPreOpAttr(r: XdrReader): WccAttr | undefined {
  return r.optional((r) => ({ size: r.u64n(), mtime: readNfstime3(r), ctime: readNfstime3(r) }));
}

export interface WccData {
  readonly before?: WccAttr;
  readonly after?: Fattr3;
}

export function readWccData(r: XdrReader): WccData {
  const before = readPreOpAttr(r);
  const after = readPostOpAttr(r);
  return { before, after };
}

export function readPostOpFh(r: XdrReader): Fh | undefined {
  return r.optional(readFh);
}

/** sattr3: fields left undefined are not changed. Times are set to the server's clock or to a Date. */
export interface Sattr3 {
  /** Permission bits, 0 to 07777. */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: number | bigint;
  readonly atime?: 'server' | Date;
  readonly mtime?: 'server' | Date;
}

function writeSetTime(w: XdrWriter, t: 'server' | Date | undefined): void {
  if (t === undefined) {
    w.u32(0); // DONT_CHANGE
  } else if (t === 'server') {
    w.u32(1); // SET_TO_SERVER_TIME
  } else {
    w.u32(2); // SET_TO_CLIENT_TIME
    writeNfstime3(w, t);
  }
}

export function writeSattr3(w: XdrWriter, a: Sattr3): void {
  if (a.mode !== undefined && (!Number.isInteger(a.mode) || a.mode < 0 || a.mode > 0o7777)) {
    throw new XdrError('XDR_BAD_VALUE', `mode ${a.mode} is not a permission mode (0 to 07777)`);
  }
  for (const v of [a.mode, a.uid, a.gid]) {
    w.bool(v !== undefined);
    if (v !== undefined) w.u32(v);
  }
  w.bool(a.size !== undefined);
  if (a.size !== undefined) w.u64(a.size);
  writeSetTime(w, a.atime);
  writeSetTime(w, a.mtime);
}

/** diropargs3: a name in a directory. */
export interface DirOpArgs {
  readonly dir: Fh;
  readonly name: string;
}

export function writeDirOpArgs(w: XdrWriter, a: DirOpArgs): void {
  writeFh(w, a.dir);
  w.string(a.name, NFS3_NAME_MAX);
}

/** The ok arm shared by CREATE, MKDIR and SYMLINK (and MKNOD). */
export interface NewObjectOk {
  /** Absent if the server did not return the new object's handle; then LOOKUP it. */
  readonly object?: Fh;
  readonly objAttributes?: Fattr3;
  readonly dirWcc: WccData;
}

export function readNewObjectOk(r: XdrReader): NewObjectOk {
  const object = readPostOpFh(r);
  const objAttributes = readPostOpAttr(r);
  const dirWcc = readWccData(r);
  return { object, objAttributes, dirWcc };
}

/** A lone wcc_data dir_wcc: the fail arm of CREATE, MKDIR and SYMLINK, both arms of REMOVE and RMDIR. */
export interface DirWcc {
  readonly dirWcc: WccData;
}

export function readDirWcc(r: XdrReader): DirWcc {
  return { dirWcc: readWccData(r) };
}

/** The fail arm of most procedures: the object's attributes if the server sent them. */
export interface ObjAttrFail {
  readonly objAttributes?: Fattr3;
}

export function readObjAttrFail(r: XdrReader): ObjAttrFail {
  return { objAttributes: readPostOpAttr(r) };
}
