import { describe, expect, it } from 'vitest';
import { XdrError, XdrReader, XdrWriter } from '../../../../driver/nfs/xdr/index.js';
import { prng, randomBytes } from '../../../support/prng.js';

describe('XDR writer and reader', () => {
  it('round-trips every primitive with RFC 4506 padding', () => {
    const w = new XdrWriter(4);
    w.u32(0xdeadbeef)
      .i32(-2)
      .u64(2n ** 64n - 1n)
      .u64(2 ** 53 - 1)
      .bool(true);
    w.opaque(Uint8Array.of(1, 2, 3))
      .string('héllo')
      .fixedOpaque(Uint8Array.of(9, 9, 9, 9, 9));
    const bytes = w.finish();
    expect(bytes.length).toBe(4 + 4 + 8 + 8 + 4 + (4 + 4) + (4 + 8) + 8);
    const r = new XdrReader(bytes);
    expect(r.u32()).toBe(0xdeadbeef);
    expect(r.i32()).toBe(-2);
    expect(r.u64()).toBe(2n ** 64n - 1n);
    expect(r.u64n()).toBe(2 ** 53 - 1);
    expect(r.bool()).toBe(true);
    expect([...r.opaque(16)]).toEqual([1, 2, 3]);
    expect(r.string(16)).toBe('héllo');
    expect([...r.fixedOpaque(5)]).toEqual([9, 9, 9, 9, 9]);
    r.done();
  });

  it('writes padding as zero bytes (golden bytes)', () => {
    const bytes = new XdrWriter().string('abcde').finish();
    expect(Buffer.from(bytes).toString('hex')).toBe('00000005' + '6162636465' + '000000');
  });

  it('keeps referenced payloads as separate chunks without copying', () => {
    const payload = new Uint8Array(1 << 20).fill(7);
    const w = new XdrWriter();
    w.u32(1).opaqueRef(payload.subarray(0, 5)).u32(2);
    const chunks = w.finishChunks();
    expect(chunks.some((c) => c.buffer === payload.buffer)).toBe(true);
    const joined = Buffer.concat(chunks);
    expect(joined.toString('hex')).toBe('00000001' + '00000005' + '0707070707' + '000000' + '00000002');
  });

  it('refuses values out of range when writing', () => {
    expect(() => new XdrWriter().u32(-1)).toThrow(XdrError);
    expect(() => new XdrWriter().u32(2 ** 32)).toThrow(XdrError);
    expect(() => new XdrWriter().u64(-1)).toThrow(XdrError);
    expect(() => new XdrWriter().opaque(new Uint8Array(10), 4)).toThrow(/exceeds the limit/);
  });

  it('throws XDR_TRUNCATED instead of reading past the end, at every cut', () => {
    const bytes = new XdrWriter().u32(1).string('abcdef').u64(5n).finish();
    for (let cut = 0; cut < bytes.length; cut++) {
      const r = new XdrReader(bytes.subarray(0, cut));
      expect(() => {
        r.u32();
        r.string(64);
        r.u64();
      }).toThrow(expect.objectContaining({ code: 'XDR_TRUNCATED' }));
    }
  });

  it('checks a length field against the limit before touching the data', () => {
    const huge = new XdrWriter().u32(0x7fffffff).finish();
    expect(() => new XdrReader(huge).opaque(1024)).toThrow(expect.objectContaining({ code: 'XDR_TOO_LONG' }));
    expect(() => new XdrReader(huge).opaque(0xffffffff)).toThrow(
      expect.objectContaining({ code: 'XDR_TRUNCATED' }),
    );
    expect(() => new XdrReader(huge).array(2 ** 31, 4, (r) => r.u32())).toThrow(
      expect.objectContaining({ code: 'XDR_TRUNCATED' }),
    );
  });

  it('reads linked lists iteratively with a bound', () => {
    const w = new XdrWriter();
    for (let i = 0; i < 100_000; i++) w.bool(true).u32(i);
    w.bool(false);
    const bytes = w.finish();
    expect(new XdrReader(bytes).list(100_000, (r) => r.u32())).toHaveLength(100_000);
    expect(() => new XdrReader(bytes).list(10, (r) => r.u32())).toThrow(/more than 10/);
  });

  it('rejects bad booleans and trailing bytes', () => {
    expect(() => new XdrReader(new XdrWriter().u32(2).finish()).bool()).toThrow(XdrError);
    expect(() => new XdrReader(new Uint8Array(8)).done()).toThrow(/trailing/);
  });

  it('fuzz: random input only ever yields values or XdrError', () => {
    const rand = prng(1813);
    for (let i = 0; i < 5000; i++) {
      const r = new XdrReader(randomBytes(rand, Math.floor(rand() * 64)));
      try {
        r.u32();
        r.string(255);
        r.list(1000, (x) => x.opaque(64));
        r.u64();
      } catch (err) {
        expect(err).toBeInstanceOf(XdrError);
      }
    }
  });

  it('a fixed opaque needs its padding too: 5 bytes of data without the 3 of padding is short', () => {
    expect(() => new XdrReader(Uint8Array.of(1, 2, 3, 4, 5)).fixedOpaque(5)).toThrow(XdrError);
    expect([...new XdrReader(Uint8Array.of(1, 2, 3, 4, 5, 0, 0, 0)).fixedOpaque(5)]).toEqual([1, 2, 3, 4, 5]);
  });

  it('an array whose count cannot fit in the bytes left is refused before any element is read', () => {
    let reads = 0;
    const bytes = new XdrWriter().u32(1000).u32(1).u32(2).finish();
    expect(() =>
      new XdrReader(bytes).array(10_000, 4, (r) => {
        reads++;
        return r.u32();
      }),
    ).toThrow(XdrError);
    expect(reads).toBe(0);
  });
});
