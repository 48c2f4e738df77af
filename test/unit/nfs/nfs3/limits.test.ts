import { describe, expect, it } from 'vitest';
import {
  CREATE,
  type Fattr3,
  GETATTR,
  LOOKUP,
  READ,
  READDIRPLUS,
  READLINK,
  SETATTR,
  SYMLINK,
  WRITE,
  type WriteArgs,
  readFattr3,
} from '../../../../driver/nfs/nfs3/index.js';
import type { FileStat } from '../../../../driver/nfs/types.js';
import { XdrError } from '../../../../driver/nfs/xdr/xdr-error.js';
import { XdrReader } from '../../../../driver/nfs/xdr/xdr-reader.js';
import { decodeProcedureReply, encodeCall } from '../procedure-codec.js';
import { encode, writeFattr3 } from '../reply-encoders.js';
import { dirAttr, fh, fileAttr } from './fixtures.js';

function xdrErrorCode(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof XdrError) return err.code;
    throw err;
  }
  throw new Error('expected an XdrError');
}

const u32 = (...vs: number[]): Uint8Array => {
  const out = new Uint8Array(vs.length * 4);
  const view = new DataView(out.buffer);
  vs.forEach((v, i) => view.setUint32(i * 4, v));
  return out;
};
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const fattrBytes = (a: Fattr3): Uint8Array => encode(writeFattr3, a);

describe('oversized and malformed replies fail fast with XdrError', () => {
  it('a 65-byte handle in LOOKUP3resok', () => {
    const bytes = cat(u32(0, 65), new Uint8Array(68), u32(0, 0));
    expect(xdrErrorCode(() => decodeProcedureReply(LOOKUP, bytes))).toBe('XDR_TOO_LONG');
  });

  it('an entry name claiming 2^31 bytes in READDIRPLUS', () => {
    const bytes = cat(u32(0, 0), new Uint8Array(8), u32(1, 0, 1, 0x80000000), new Uint8Array(64));
    const started = performance.now();
    expect(xdrErrorCode(() => decodeProcedureReply(READDIRPLUS, bytes))).toBe('XDR_TOO_LONG');
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('a symlink target claiming 4 GiB in READLINK', () => {
    expect(xdrErrorCode(() => decodeProcedureReply(READLINK, u32(0, 0, 0xffffffff)))).toBe('XDR_TOO_LONG');
  });

  it('READ data longer than count', () => {
    // ok, no attributes, count 2, eof false, data of 4 bytes
    expect(xdrErrorCode(() => decodeProcedureReply(READ, u32(0, 0, 2, 0, 4, 0)))).toBe('XDR_TOO_LONG');
  });

  it('READ data length beyond the buffer (count and length agree, bytes missing)', () => {
    expect(xdrErrorCode(() => decodeProcedureReply(READ, u32(0, 0, 1 << 30, 1, 1 << 30)))).toBe(
      'XDR_TRUNCATED',
    );
  });

  it('READ data lengths near 2^31 and 2^32 (padding must not overflow), even without the trailing-bytes check', () => {
    for (const n of [0x7ffffffd, 0x7fffffff, 0x80000000, 0xfffffffd, 0xffffffff]) {
      const bytes = cat(u32(0, 0, 0xffffffff, 0, n), new Uint8Array(12));
      expect(xdrErrorCode(() => READ.decode(new XdrReader(bytes)))).toBe('XDR_TRUNCATED');
    }
  });

  it('READ data shorter than count is accepted (count is the larger bound)', () => {
    const res = decodeProcedureReply(READ, u32(0, 0, 8, 1, 4, 0xdeadbeef));
    expect(res.ok && res.value.data).toEqual(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
  });

  it('a READDIRPLUS list that never ends is bounded by the bytes it has', () => {
    // 100k "value follows" entries each with an empty name and no attributes/handle, then EOF
    // of input: it must throw TRUNCATED after reading what is there, not loop or overallocate.
    const entry = u32(1, 0, 1, 0, 0, 2, 0, 0);
    const body = new Uint8Array(entry.length * 1000);
    for (let i = 0; i < 1000; i++) body.set(entry, i * entry.length);
    const bytes = cat(u32(0, 0), new Uint8Array(8), body);
    expect(xdrErrorCode(() => decodeProcedureReply(READDIRPLUS, bytes))).toBe('XDR_TRUNCATED');
  });

  it('unknown ftype3 values', () => {
    for (const t of [0, 8, 0xffffffff]) {
      const bytes = cat(u32(0, t), fattrBytes(fileAttr).subarray(4));
      expect(xdrErrorCode(() => decodeProcedureReply(GETATTR, bytes))).toBe('XDR_BAD_VALUE');
    }
  });

  it('unknown stable_how in WRITE3resok', () => {
    const bytes = cat(u32(0, 0, 0, 100, 3), new Uint8Array(8));
    expect(xdrErrorCode(() => decodeProcedureReply(WRITE, bytes))).toBe('XDR_BAD_VALUE');
  });

  it('a boolean that is neither 0 nor 1', () => {
    expect(xdrErrorCode(() => decodeProcedureReply(LOOKUP, u32(2, 7)))).toBe('XDR_BAD_VALUE');
  });

  it('trailing bytes after a complete reply', () => {
    expect(xdrErrorCode(() => decodeProcedureReply(LOOKUP, u32(2, 0, 0)))).toBe('XDR_BAD_VALUE');
  });
});

describe('arguments out of protocol range fail before anything is sent', () => {
  const call = (f: () => unknown): string => xdrErrorCode(f);

  it('a 65-byte handle', () => {
    expect(call(() => encodeCall(GETATTR, { object: new Uint8Array(65) }))).toBe('XDR_TOO_LONG');
  });

  it('a 256-byte file name (UTF-8 bytes, not characters)', () => {
    expect(call(() => encodeCall(LOOKUP, { dir: fh(1), name: 'a'.repeat(256) }))).toBe('XDR_TOO_LONG');
    expect(call(() => encodeCall(LOOKUP, { dir: fh(1), name: 'é'.repeat(128) }))).toBe('XDR_TOO_LONG');
    expect(() => encodeCall(LOOKUP, { dir: fh(1), name: 'é'.repeat(127) })).not.toThrow();
  });

  it('a symlink target over 4096 bytes', () => {
    const args = { where: { dir: fh(1), name: 'l' }, attributes: {}, target: 'x'.repeat(4097) };
    expect(call(() => encodeCall(SYMLINK, args))).toBe('XDR_TOO_LONG');
  });

  it('a create verifier that is not 8 bytes', () => {
    const args = {
      where: { dir: fh(1), name: 'f' },
      how: { mode: 'exclusive', verf: new Uint8Array(7) },
    } as const;
    expect(call(() => encodeCall(CREATE, args))).toBe('XDR_BAD_VALUE');
  });

  it('a mode with file-type bits, a negative uid, a time before 1970', () => {
    expect(call(() => encodeCall(SETATTR, { object: fh(1), attributes: { mode: 0o100644 } }))).toBe(
      'XDR_BAD_VALUE',
    );
    expect(call(() => encodeCall(SETATTR, { object: fh(1), attributes: { uid: -1 } }))).toBe('XDR_BAD_VALUE');
    expect(call(() => encodeCall(SETATTR, { object: fh(1), attributes: { mtime: new Date(-1) } }))).toBe(
      'XDR_BAD_VALUE',
    );
    expect(call(() => encodeCall(SETATTR, { object: fh(1), attributes: { mtime: new Date(NaN) } }))).toBe(
      'XDR_BAD_VALUE',
    );
  });

  it('an unknown stable_how', () => {
    const args = { file: fh(1), offset: 0, stable: 3, data: new Uint8Array(1) } as unknown as WriteArgs;
    expect(call(() => encodeCall(WRITE, args))).toBe('XDR_BAD_VALUE');
  });
});

describe('fattr3', () => {
  it('is a FileStat', () => {
    const stat: FileStat = readFattr3(new XdrReader(fattrBytes(dirAttr)));
    expect(stat.type).toBe('directory');
  });

  it('keeps only permission bits when the server also sends S_IFMT bits', () => {
    const bytes = fattrBytes({ ...fileAttr, mode: 0o100755 });
    expect(readFattr3(new XdrReader(bytes)).mode).toBe(0o755);
  });

  it('sizes above 2^53 are approximate numbers, ids stay exact bigints', () => {
    const bytes = fattrBytes(fileAttr);
    new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(20, 2n ** 63n - 1n);
    const a = readFattr3(new XdrReader(bytes));
    expect(a.size).toBe(2 ** 63);
    expect(a.fileid).toBe(fileAttr.fileid);
  });

  it('handles are copied out of the reply buffer, READ data is not', () => {
    const bytes = cat(u32(0, 4), new Uint8Array([1, 2, 3, 4]), u32(0, 0));
    const res = decodeProcedureReply(LOOKUP, bytes);
    bytes[8] = 9;
    expect(res.ok && res.value.object).toEqual(new Uint8Array([1, 2, 3, 4]));
    const read = u32(0, 0, 4, 1, 4, 0x01020304);
    const data = decodeProcedureReply(READ, read);
    expect(data.ok && data.value.data.buffer).toBe(read.buffer);
  });
});
