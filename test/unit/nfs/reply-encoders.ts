/*
 * Test-only encoders for what the server sends (NFSv3 and MOUNT v3 replies) and decoders for
 * what the client sends (arguments), written straight from the RFC 1813 grammar so the driver's
 * codecs can be checked against an independent implementation.
 */
import type { ExportNode, MntRes } from '../../../driver/nfs/mount3/index.js';
import type {
  DirOpArgs,
  Fattr3,
  Fh,
  Nfs3Result,
  Nfstime3,
  ReaddirplusOk,
  Sattr3,
  WccAttr,
  WccData,
} from '../../../driver/nfs/nfs3/index.js';
import { ftype3Code } from '../../../driver/nfs/nfs3/structs.js';
import { plain } from './procedure-codec.js';
import { XdrWriter } from '../../../driver/nfs/xdr/xdr-writer.js';
import type { XdrReader } from '../../../driver/nfs/xdr/xdr-reader.js';

export type Enc<T> = (w: XdrWriter, v: T) => void;

export function encode<T>(enc: Enc<T>, v: T): Uint8Array {
  const w = new XdrWriter();
  enc(w, v);
  return plain(w.finish());
}

export const writeTime: Enc<Date> = (w, d) => {
  const ms = d.getTime();
  w.u32(Math.floor(ms / 1000)).u32((ms % 1000) * 1e6);
};

export const writeNfstime3: Enc<Nfstime3> = (w, t) => void w.u32(t.seconds).u32(t.nseconds);

export const writeFattr3: Enc<Fattr3> = (w, a) => {
  w.u32(ftype3Code(a.type)).u32(a.mode).u32(a.nlink).u32(a.uid).u32(a.gid);
  w.u64(a.size).u64(a.used).u32(a.rdev.major).u32(a.rdev.minor).u64(a.fsid).u64(a.fileid);
  writeTime(w, a.atime);
  writeTime(w, a.mtime);
  writeTime(w, a.ctime);
};

export function writeOptional<T>(item: Enc<T>): Enc<T | undefined> {
  return (w, v) => {
    w.bool(v !== undefined);
    if (v !== undefined) item(w, v);
  };
}

export const writePostOpAttr = writeOptional(writeFattr3);
export const writeFh: Enc<Fh> = (w, fh) => void w.opaque(fh);
export const writePostOpFh = writeOptional(writeFh);
export const writeWccAttr: Enc<WccAttr> = (w, a) => {
  w.u64(a.size);
  writeTime(w, a.mtime);
  writeTime(w, a.ctime);
};
export const writeWccData: Enc<WccData> = (w, d) => {
  writeOptional(writeWccAttr)(w, d.before);
  writePostOpAttr(w, d.after);
};

/** Encodes `union switch (nfsstat3 status)` with the given arms. */
export function writeResult<Ok, Fail>(ok: Enc<Ok>, fail: Enc<Fail>): Enc<Nfs3Result<Ok, Fail>> {
  return (w, res) => {
    if (res.ok) {
      w.u32(0);
      ok(w, res.value);
    } else {
      w.u32(res.status);
      fail(w, res.value);
    }
  };
}

export const writeVoid: Enc<unknown> = () => {};

type Field<T> = Exclude<{ [K in keyof T]: readonly [K, Enc<T[K]>] }[keyof T], undefined>;

/** `fields<T>()(['a', encA], ['b', encB])` writes v.a then v.b. */
export function fields<T>(): (...fields: Field<T>[]) => Enc<T> {
  return (...fields) =>
    (w, v) => {
      for (const [k, enc] of fields) enc(w, v[k]);
    };
}

export const u32: Enc<number> = (w, v) => void w.u32(v);
export const u64: Enc<number | bigint> = (w, v) => void w.u64(v);
export const bool: Enc<boolean> = (w, v) => void w.bool(v);
export const verf: Enc<Uint8Array> = (w, v) => void w.fixedOpaque(v, 8);
export const str: Enc<string> = (w, v) => void w.string(v);

export const writeReaddirplusOk: Enc<ReaddirplusOk> = (w, ok) => {
  writePostOpAttr(w, ok.dirAttributes);
  verf(w, ok.cookieverf);
  for (const e of ok.entries) {
    w.bool(true).u64(e.fileid).string(e.name).u64(e.cookie);
    writePostOpAttr(w, e.attributes);
    writePostOpFh(w, e.handle);
  }
  w.bool(false).bool(ok.eof);
};

export const writeMntRes: Enc<MntRes> = writeResult((w, ok) => {
  w.opaque(ok.fhandle).u32(ok.authFlavors.length);
  for (const f of ok.authFlavors) w.i32(f);
}, writeVoid);

export const writeExports: Enc<ExportNode[]> = (w, list) => {
  for (const e of list) {
    w.bool(true).string(e.dir);
    for (const g of e.groups) w.bool(true).string(g);
    w.bool(false);
  }
  w.bool(false);
};

// Argument decoders (the server's side of the call).

export const readFh = (r: XdrReader): Fh => r.opaque(64);
export const readDirOp = (r: XdrReader): DirOpArgs => ({ dir: readFh(r), name: r.string(255) });
export const readTime = (r: XdrReader): Date => {
  const s = r.u32();
  return new Date(s * 1000 + r.u32() / 1e6);
};

function readSetTime(r: XdrReader): 'server' | Date | undefined {
  const how = r.u32();
  return how === 0 ? undefined : how === 1 ? 'server' : readTime(r);
}

export function readSattr3(r: XdrReader): Sattr3 {
  const mode = r.optional((r) => r.u32());
  const uid = r.optional((r) => r.u32());
  const gid = r.optional((r) => r.u32());
  const size = r.optional((r) => r.u64n());
  const atime = readSetTime(r);
  const mtime = readSetTime(r);
  return strip({ mode, uid, gid, size, atime, mtime });
}

/** Drops undefined fields, so decoded optional structures compare equal to hand-written ones. */
export function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
