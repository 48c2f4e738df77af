import { describe, expect, it } from 'vitest';
import { encodeRecord, RecordDecoder, RpcError } from '../../../../driver/nfs/rpc/index.js';
import { prng, randomBytes } from '../../../support/prng.js';

function frame(fragments: Uint8Array[]): Uint8Array {
  const out: Uint8Array[] = [];
  fragments.forEach((f, i) => {
    const h = Buffer.alloc(4);
    h.writeUInt32BE(((i === fragments.length - 1 ? 0x80000000 : 0) | f.length) >>> 0);
    out.push(h, f);
  });
  return Buffer.concat(out);
}

describe('record marking', () => {
  it('frames a record as one last fragment', () => {
    const bytes = Buffer.concat(encodeRecord([Uint8Array.of(1, 2), Uint8Array.of(3)]));
    expect(bytes.toString('hex')).toBe('80000003010203');
  });

  it('reassembles multi-fragment records split at every offset', () => {
    const rec1 = frame([Uint8Array.of(1, 2, 3), Uint8Array.of(), Uint8Array.of(4, 5)]);
    const rec2 = frame([Uint8Array.of(6, 7, 8, 9)]);
    const stream = Buffer.concat([rec1, rec2]);
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) {
        const d = new RecordDecoder(1024);
        const got = [
          ...d.push(stream.subarray(0, a)),
          ...d.push(stream.subarray(a, b)),
          ...d.push(stream.subarray(b)),
        ].map((r) => [...r]);
        expect(got).toEqual([
          [1, 2, 3, 4, 5],
          [6, 7, 8, 9],
        ]);
        expect(d.partial).toBe(false);
      }
    }
  });

  it('delivers a stream fed one byte at a time', () => {
    const d = new RecordDecoder(1 << 20);
    const payload = randomBytes(prng(5), 5000);
    const stream = frame([payload.subarray(0, 1000), payload.subarray(1000)]);
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) out.push(...d.push(stream.subarray(i, i + 1)));
    expect(out).toHaveLength(1);
    expect(Buffer.from(out[0]!).equals(Buffer.from(payload))).toBe(true);
  });

  it('assembles a big reply in one buffer only when its xid has a bound that covers it', () => {
    const big = Buffer.from(randomBytes(prng(9), 200_000));
    big.writeUInt32BE(7, 0); // xid 7
    const other = Buffer.from(randomBytes(prng(10), 150_000));
    other.writeUInt32BE(8, 0); // xid 8: no bound known, kept as parts
    const small = Buffer.from('0000000700', 'hex');
    const stream = Buffer.concat([frame([big]), frame([other]), frame([small])]);
    const bounds = new Map([[7, 200_000 + 4096]]);
    const asked: number[] = [];
    for (const step of [1, 3, 4096, 65536, 100_003, stream.length]) {
      const d = new RecordDecoder(1 << 20, (xid) => (asked.push(xid), bounds.get(xid)));
      const out: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += step) out.push(...d.push(stream.subarray(i, i + step)));
      expect(out.map((r) => Buffer.from(r).toString('hex'))).toEqual(
        [big, other, small].map((b) => Buffer.from(b).toString('hex')),
      );
    }
    expect(asked).toContain(7);
    expect(asked).toContain(8);
    // A length over the bound is not trusted with one buffer: parts, still correct.
    const d = new RecordDecoder(1 << 20, () => 100_000);
    expect(Buffer.from(d.push(frame([big]))[0]!).equals(Buffer.from(big))).toBe(true);
  });

  it('assembles in the buffer lent for an xid when it holds the record, else in a new one', () => {
    const big = Buffer.from(randomBytes(prng(14), 100_000));
    big.writeUInt32BE(9, 0);
    const lent = Buffer.alloc(120_000);
    const d = new RecordDecoder(
      1 << 20,
      () => 110_000,
      (xid) => (xid === 9 ? lent : undefined),
    );
    const [first] = d.push(frame([big]).subarray(0, 50_000));
    expect(first).toBeUndefined();
    expect(d.writesInto(lent)).toBe(true);
    const [record] = d.push(frame([big]).subarray(50_000));
    expect(record!.buffer).toBe(lent.buffer);
    expect(Buffer.from(record!).equals(big)).toBe(true);
    expect(d.writesInto(lent)).toBe(false);
    const tooSmall = new RecordDecoder(
      1 << 20,
      () => 110_000,
      () => Buffer.alloc(99_999),
    );
    const [again] = tooSmall.push(frame([big]));
    expect(Buffer.from(again!).equals(big)).toBe(true);
  });

  it('copies out of a chunk the caller reuses: records survive the chunk being overwritten', () => {
    const payload = Buffer.from(randomBytes(prng(11), 300_000));
    payload.writeUInt32BE(3, 0);
    const stream = Buffer.concat([frame([payload]), frame([Buffer.from('cafe', 'hex')])]);
    for (const bound of [undefined, () => 400_000]) {
      const d = new RecordDecoder(1 << 20, bound);
      const scratch = Buffer.alloc(65536);
      const out: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += scratch.length) {
        const n = stream.copy(scratch, 0, i, i + scratch.length);
        out.push(...d.push(scratch.subarray(0, n), true));
        scratch.fill(0xee); // the next read overwrites it
      }
      expect(out).toHaveLength(2);
      expect(Buffer.from(out[0]!).equals(payload)).toBe(true);
      expect(Buffer.from(out[1]!).toString('hex')).toBe('cafe');
    }
  });

  it('lets the socket read the rest of an in-place fragment straight into the record, never past it', () => {
    const big = Buffer.from(randomBytes(prng(12), 300_000));
    big.writeUInt32BE(5, 0);
    const stream = Buffer.concat([frame([big]), frame([Buffer.from('00000005beef', 'hex')]), frame([big])]);
    for (const readSize of [4096, 65536, 250_000]) {
      const d = new RecordDecoder(1 << 20, () => 400_000);
      const shared = Buffer.alloc(readSize);
      const out: Uint8Array[] = [];
      let inPlaceBytes = 0;
      let at = 0;
      while (at < stream.length) {
        // What a socket read does: fill the target the decoder offers, else the shared buffer.
        const target = d.inPlaceTarget(1024);
        const into = target ? target.subarray(0, Math.min(target.length, readSize)) : shared;
        const n = stream.copy(into, 0, at, at + into.length);
        at += n;
        if (target) {
          expect(d.isInPlaceTarget(into)).toBe(true);
          out.push(...d.filledInPlace(into, n));
          inPlaceBytes += n;
        } else {
          out.push(...d.push(shared.subarray(0, n), true));
          shared.fill(0xee);
        }
      }
      expect(out.map((r) => Buffer.from(r).toString('hex'))).toEqual(
        [big, Buffer.from('00000005beef', 'hex'), big].map((b) => b.toString('hex')),
      );
      expect(inPlaceBytes).toBeGreaterThan(2 * (big.length - readSize));
      expect(d.partial).toBe(false);
    }
  });

  it('refuses an in-place read it did not hand out, or one past the fragment', () => {
    const big = Buffer.from(randomBytes(prng(13), 100_000));
    big.writeUInt32BE(5, 0);
    const d = new RecordDecoder(1 << 20, () => 200_000);
    expect(d.inPlaceTarget(1)).toBeUndefined();
    d.push(frame([big]).subarray(0, 10_000));
    const target = d.inPlaceTarget(1)!;
    expect(target.length).toBe(big.length - (10_000 - 4));
    expect(d.isInPlaceTarget(Buffer.alloc(target.length))).toBe(false);
    expect(() => d.filledInPlace(target, target.length + 1)).toThrow(RpcError);
  });

  it('holds about the payload, in few buffers, when a server cuts a record into 1-byte fragments', () => {
    const n = 2 * 1024 * 1024;
    const payload = Buffer.alloc(n, 'fragmented record ');
    // 5 bytes on the wire per payload byte: a header and the byte.
    const wire = Buffer.alloc(5 * n);
    for (let i = 0; i < n; i++) {
      wire.writeUInt32BE(i === n - 1 ? 0x80000001 : 1, 5 * i);
      wire[5 * i + 4] = payload[i]!;
    }
    for (const reused of [true, false]) {
      const d = new RecordDecoder(4 * 1024 * 1024, () => 8 * 1024 * 1024);
      const out: Uint8Array[] = [];
      let peak = { buffers: 0, bytes: 0 };
      for (let at = 0; at < wire.length; at += 65536) {
        out.push(...d.push(wire.subarray(at, at + 65536), reused));
        const held = d.held;
        if (held.bytes > peak.bytes) peak = held;
        if (d.partial)
          expect(held.bytes).toBeLessThanOrEqual(2 * Math.ceil(Math.min(at + 65536, wire.length) / 5) + 4096);
      }
      expect(out).toHaveLength(1);
      expect(Buffer.from(out[0]!).equals(payload)).toBe(true);
      expect(peak.buffers).toBe(1);
      expect(peak.bytes).toBeLessThanOrEqual(2 * n);
      expect(d.held).toEqual({ buffers: 0, bytes: 0 });
    }
  }, 60_000); // megabytes framed byte by byte: seconds on a busy machine

  it('keeps what it holds within twice the payload for any mix of fragment sizes (seeded)', () => {
    const seed = Number(process.env['SEED'] ?? Date.now() % 100_000);
    console.log(`record-marking fragment mix seed=${seed}`);
    const rand = prng(seed);
    for (let round = 0; round < 20; round++) {
      const size = 1 + Math.floor(rand() * 600_000);
      const payload = Buffer.from(randomBytes(rand, size));
      const fragments: Uint8Array[] = [];
      for (let at = 0; at < size;) {
        const r = rand();
        const len =
          r < 0.6
            ? 1 + Math.floor(rand() * 16)
            : r < 0.9
              ? Math.floor(rand() * 5000)
              : 65536 + Math.floor(rand() * 100_000);
        fragments.push(payload.subarray(at, at + len));
        at += len;
      }
      const wire = frame(fragments);
      const d = new RecordDecoder(1 << 20);
      const out: Uint8Array[] = [];
      const step = 1 + Math.floor(rand() * 70_000);
      const reused = rand() < 0.5;
      // Payload bytes on the wire before a wire offset, walked forward as the offset grows.
      let frag = 0;
      let fragWire = 0;
      let fragPayload = 0;
      const payloadBefore = (x: number): number => {
        while (frag < fragments.length && fragWire + 4 + fragments[frag]!.length <= x) {
          fragWire += 4 + fragments[frag]!.length;
          fragPayload += fragments[frag]!.length;
          frag++;
        }
        return fragPayload + Math.max(0, x - fragWire - 4);
      };
      for (let at = 0; at < wire.length; at += step) {
        out.push(...d.push(wire.subarray(at, at + step), reused));
        const received = payloadBefore(Math.min(at + step, wire.length));
        if (d.partial) expect(d.held.bytes).toBeLessThanOrEqual(2 * received + 4096);
      }
      expect(out).toHaveLength(1);
      expect(Buffer.from(out[0]!).equals(payload)).toBe(true);
    }
  });

  it('refuses a length field over the limit before buffering anything', () => {
    const d = new RecordDecoder(4096);
    expect(() => d.push(Buffer.from('ffffffff', 'hex'))).toThrow(RpcError);
    const d2 = new RecordDecoder(4096);
    // two fragments that only together exceed the limit
    d2.push(frame([new Uint8Array(3000), new Uint8Array(0)]).subarray(0, 3004));
    expect(() => d2.push(Buffer.from('80000800', 'hex'))).toThrow(
      expect.objectContaining({ code: 'RPC_RECORD_TOO_LARGE' }),
    );
  });
});
