/*
 * RFC 8881 section 5 (file attributes) / RFC 7863:
 *   struct fattr4 { bitmap4 attrmask; attrlist4 attr_vals; };   attrlist4 = opaque<>
 * attr_vals holds the values of the attributes set in attrmask, in increasing attribute number,
 * each in its own XDR type:
 *   type (1) nfs_ftype4 | change (3) uint64 | size (4) uint64 | fsid (8) {uint64 major, minor}
 *   lease_time (10) uint32 | rdattr_error (11) nfsstat4 | filehandle (19) nfs_fh4
 *   fileid (20) uint64 | files_avail/free/total (21-23) uint64 | maxread/maxwrite (30, 31) uint64
 *   mode (33) uint32 | numlinks (35) uint32 | owner (36), owner_group (37) utf8str_mixed
 *   rawdev (41) specdata4 | space_avail/free/total/used (42-45) uint64
 *   time_access (47), time_metadata (52), time_modify (53) nfstime4 { int64 seconds; uint32 nseconds; }
 *   time_access_set (48), time_modify_set (54) settime4 (settable only)
 *   mounted_on_fileid (55) uint64
 *   enum nfs_ftype4 { NF4REG = 1, NF4DIR, NF4BLK, NF4CHR, NF4LNK, NF4SOCK, NF4FIFO, NF4ATTRDIR, NF4NAMEDATTR };
 *   union settime4 switch (time_how4 set_it) { case SET_TO_CLIENT_TIME4 (1): nfstime4 time; default: void; };
 */
import type { FileType } from '../types.js';
import { XdrError } from '../xdr/xdr-error.js';
import { XdrReader } from '../xdr/xdr-reader.js';
import { XdrWriter } from '../xdr/xdr-writer.js';
import { NFS4_FHSIZE } from './program.js';
import { readBitmap, writeBitmap } from './structs.js';

export const FATTR4_SUPPORTED_ATTRS = 0;
export const FATTR4_TYPE = 1;
export const FATTR4_CHANGE = 3;
export const FATTR4_SIZE = 4;
export const FATTR4_FSID = 8;
export const FATTR4_LEASE_TIME = 10;
export const FATTR4_RDATTR_ERROR = 11;
export const FATTR4_FILEHANDLE = 19;
export const FATTR4_FILEID = 20;
export const FATTR4_FILES_AVAIL = 21;
export const FATTR4_FILES_FREE = 22;
export const FATTR4_FILES_TOTAL = 23;
export const FATTR4_MAXREAD = 30;
export const FATTR4_MAXWRITE = 31;
export const FATTR4_MODE = 33;
export const FATTR4_NUMLINKS = 35;
export const FATTR4_OWNER = 36;
export const FATTR4_OWNER_GROUP = 37;
export const FATTR4_RAWDEV = 41;
export const FATTR4_SPACE_AVAIL = 42;
export const FATTR4_SPACE_FREE = 43;
export const FATTR4_SPACE_TOTAL = 44;
export const FATTR4_SPACE_USED = 45;
export const FATTR4_TIME_ACCESS = 47;
export const FATTR4_TIME_ACCESS_SET = 48;
export const FATTR4_TIME_METADATA = 52;
export const FATTR4_TIME_MODIFY = 53;
export const FATTR4_TIME_MODIFY_SET = 54;
export const FATTR4_MOUNTED_ON_FILEID = 55;

/** What `stat` asks for: everything a FileStat holds. */
export const STAT_ATTRS: readonly number[] = [
  FATTR4_TYPE,
  FATTR4_SIZE,
  FATTR4_FILEID,
  FATTR4_MODE,
  FATTR4_NUMLINKS,
  FATTR4_OWNER,
  FATTR4_OWNER_GROUP,
  FATTR4_SPACE_USED,
  FATTR4_TIME_ACCESS,
  FATTR4_TIME_METADATA,
  FATTR4_TIME_MODIFY,
];

/** Largest attr_vals accepted: owner strings are the only variable items and are short. */
export const MAX_ATTR_VALS = 64 * 1024;
/** Longest owner or owner_group string accepted. */
export const MAX_OWNER = 1024;

const TYPES: readonly (FileType | 'attrdir' | 'namedattr')[] = [
  'file',
  'directory',
  'block',
  'char',
  'symlink',
  'socket',
  'fifo',
  'attrdir',
  'namedattr',
];

export type Ftype4 = FileType | 'attrdir' | 'namedattr';

export function ftype4Code(t: Ftype4): number {
  return TYPES.indexOf(t) + 1;
}

export interface Nfstime4 {
  readonly seconds: bigint;
  readonly nseconds: number;
}

/** Decoded attributes: only those the server sent are present. */
export interface Fattr4 {
  readonly supportedAttrs?: readonly number[];
  readonly type?: Ftype4;
  readonly change?: bigint;
  readonly size?: number;
  readonly fsid?: { readonly major: bigint; readonly minor: bigint };
  readonly leaseTime?: number;
  readonly rdattrError?: number;
  readonly filehandle?: Uint8Array;
  readonly fileid?: bigint;
  readonly filesAvail?: number;
  readonly filesFree?: number;
  readonly filesTotal?: number;
  readonly maxread?: number;
  readonly maxwrite?: number;
  readonly mode?: number;
  readonly numlinks?: number;
  readonly owner?: string;
  readonly ownerGroup?: string;
  readonly rawdev?: { readonly major: number; readonly minor: number };
  readonly spaceAvail?: number;
  readonly spaceFree?: number;
  readonly spaceTotal?: number;
  readonly spaceUsed?: number;
  readonly atime?: Nfstime4;
  readonly ctime?: Nfstime4;
  readonly mtime?: Nfstime4;
  readonly mountedOnFileid?: bigint;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function readTime(r: XdrReader): Nfstime4 {
  const seconds = BigInt.asIntN(64, r.u64());
  const nseconds = r.u32();
  if (nseconds >= 1e9) throw new XdrError('XDR_BAD_VALUE', `nfstime4 nseconds out of range: ${nseconds}`);
  return { seconds, nseconds };
}

/** Reads one attribute value into `out`; an attribute it cannot parse ends the decoding. */
function readAttr(r: XdrReader, bit: number, out: Mutable<Fattr4>): void {
  switch (bit) {
    case FATTR4_SUPPORTED_ATTRS:
      out.supportedAttrs = readBitmap(r);
      return;
    case FATTR4_TYPE: {
      const code = r.u32();
      const t = TYPES[code - 1];
      if (t === undefined) throw new XdrError('XDR_BAD_VALUE', `bad nfs_ftype4 ${code}`);
      out.type = t;
      return;
    }
    case FATTR4_CHANGE:
      out.change = r.u64();
      return;
    case FATTR4_SIZE:
      out.size = r.u64n();
      return;
    case FATTR4_FSID:
      out.fsid = { major: r.u64(), minor: r.u64() };
      return;
    case FATTR4_LEASE_TIME:
      out.leaseTime = r.u32();
      return;
    case FATTR4_RDATTR_ERROR:
      out.rdattrError = r.u32();
      return;
    case FATTR4_FILEHANDLE:
      out.filehandle = r.opaque(NFS4_FHSIZE, 'nfs_fh4');
      return;
    case FATTR4_FILEID:
      out.fileid = r.u64();
      return;
    case FATTR4_FILES_AVAIL:
      out.filesAvail = r.u64n();
      return;
    case FATTR4_FILES_FREE:
      out.filesFree = r.u64n();
      return;
    case FATTR4_FILES_TOTAL:
      out.filesTotal = r.u64n();
      return;
    case FATTR4_MAXREAD:
      out.maxread = r.u64n();
      return;
    case FATTR4_MAXWRITE:
      out.maxwrite = r.u64n();
      return;
    case FATTR4_MODE:
      out.mode = r.u32() & 0o7777;
      return;
    case FATTR4_NUMLINKS:
      out.numlinks = r.u32();
      return;
    case FATTR4_OWNER:
      out.owner = r.string(MAX_OWNER, 'owner');
      return;
    case FATTR4_OWNER_GROUP:
      out.ownerGroup = r.string(MAX_OWNER, 'owner_group');
      return;
    case FATTR4_RAWDEV:
      out.rawdev = { major: r.u32(), minor: r.u32() };
      return;
    case FATTR4_SPACE_AVAIL:
      out.spaceAvail = r.u64n();
      return;
    case FATTR4_SPACE_FREE:
      out.spaceFree = r.u64n();
      return;
    case FATTR4_SPACE_TOTAL:
      out.spaceTotal = r.u64n();
      return;
    case FATTR4_SPACE_USED:
      out.spaceUsed = r.u64n();
      return;
    case FATTR4_TIME_ACCESS:
      out.atime = readTime(r);
      return;
    case FATTR4_TIME_METADATA:
      out.ctime = readTime(r);
      return;
    case FATTR4_TIME_MODIFY:
      out.mtime = readTime(r);
      return;
    case FATTR4_MOUNTED_ON_FILEID:
      out.mountedOnFileid = r.u64();
      return;
    default:
      // Values are not self-describing: past an unknown one nothing can be read.
      throw new XdrError(
        'XDR_BAD_VALUE',
        `fattr4 carries attribute ${bit}, which this client never asks for`,
      );
  }
}

/** Reads a fattr4 (bitmap, then the values as one opaque) and checks every value byte was used. */
export function readFattr4(r: XdrReader): Fattr4 {
  const bits = readBitmap(r);
  const vals = r.opaque(MAX_ATTR_VALS, 'attrlist4');
  const vr = new XdrReader(vals);
  const out: Mutable<Fattr4> = {};
  for (const bit of bits) readAttr(vr, bit, out);
  vr.done('attrlist4');
  return out;
}

/** Attributes a client sets (SETATTR, CREATE, OPEN's createattrs). */
export interface SetAttrs4 {
  readonly mode?: number;
  readonly owner?: string;
  readonly ownerGroup?: string;
  readonly size?: number;
  /** 'server' = SET_TO_SERVER_TIME4. */
  readonly atime?: 'server' | Nfstime4;
  readonly mtime?: 'server' | Nfstime4;
}

function writeSettime(w: XdrWriter, t: 'server' | Nfstime4): void {
  if (t === 'server') {
    w.u32(0);
    return;
  }
  w.u32(1);
  w.u64(BigInt.asUintN(64, t.seconds));
  w.u32(t.nseconds);
}

/** The attribute numbers a SetAttrs4 sets, in order. */
export function setAttrBits(a: SetAttrs4): number[] {
  const bits: number[] = [];
  if (a.size !== undefined) bits.push(FATTR4_SIZE);
  if (a.mode !== undefined) bits.push(FATTR4_MODE);
  if (a.owner !== undefined) bits.push(FATTR4_OWNER);
  if (a.ownerGroup !== undefined) bits.push(FATTR4_OWNER_GROUP);
  if (a.atime !== undefined) bits.push(FATTR4_TIME_ACCESS_SET);
  if (a.mtime !== undefined) bits.push(FATTR4_TIME_MODIFY_SET);
  return bits;
}

export function writeFattr4(w: XdrWriter, a: SetAttrs4): void {
  writeBitmap(w, setAttrBits(a));
  const v = new XdrWriter(64);
  if (a.size !== undefined) v.u64(a.size);
  if (a.mode !== undefined) v.u32(a.mode & 0o7777);
  if (a.owner !== undefined) v.string(a.owner, MAX_OWNER);
  if (a.ownerGroup !== undefined) v.string(a.ownerGroup, MAX_OWNER);
  if (a.atime !== undefined) writeSettime(v, a.atime);
  if (a.mtime !== undefined) writeSettime(v, a.mtime);
  w.opaque(v.finish());
}
