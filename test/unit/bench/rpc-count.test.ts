import { connect, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CallCounter, callName, countingRelay } from '../../../bench/_rpc-count.js';

/** A seeded PRNG (mulberry32), so a failing case can be replayed from its printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** One record: xid, msg_type, rpcvers 2, prog, vers, proc, then `extra` body bytes, in `parts` fragments. */
function record(
  msgType: number,
  prog: number,
  vers: number,
  proc: number,
  extra: number,
  cuts: number[],
): Buffer {
  const body = Buffer.alloc(24 + extra, 0xab);
  [7, msgType, 2, prog, vers, proc].forEach((w, i) => body.writeUInt32BE(w, i * 4));
  const points = [...new Set(cuts.filter((c) => c > 0 && c < body.length))].sort((x, y) => x - y);
  const bounds = [0, ...points, body.length];
  const out: Buffer[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const frag = body.subarray(bounds[i], bounds[i + 1]);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(((i + 2 === bounds.length ? 0x80000000 : 0) | frag.length) >>> 0);
    out.push(head, frag);
  }
  return Buffer.concat(out);
}

describe('CallCounter', () => {
  it('counts each call once however the stream is split, and skips replies', () => {
    const stream = Buffer.concat([
      record(0, 100003, 3, 9, 40, []), // MKDIR
      record(0, 100003, 3, 8, 0, [10, 20]), // CREATE, call header across three fragments
      record(1, 100003, 3, 9, 8, []), // a reply: not a call
      record(0, 100005, 3, 1, 5, [3]), // MNT
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const c = new CallCounter();
      c.push(stream.subarray(0, cut));
      c.push(stream.subarray(cut));
      expect(Object.fromEntries(c.calls), `split at ${cut}`).toEqual({ MKDIR: 1, CREATE: 1, MNT: 1 });
    }
  });

  it('matches what was sent over a seeded random stream in random chunks', () => {
    const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31);
    console.log(`CallCounter random stream seed=${seed}`);
    const rnd = prng(seed);
    const want = new Map<string, number>();
    const records: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      const proc = Math.floor(rnd() * 22);
      const extra = Math.floor(rnd() * 3000);
      const cuts = Array.from({ length: Math.floor(rnd() * 4) }, () => Math.floor(rnd() * (24 + extra)));
      records.push(record(0, 100003, 3, proc, extra, cuts));
      const name = callName(100003, 3, proc);
      want.set(name, (want.get(name) ?? 0) + 1);
    }
    const stream = Buffer.concat(records);
    const c = new CallCounter();
    for (let at = 0; at < stream.length;) {
      const n = 1 + Math.floor(rnd() * 700);
      c.push(stream.subarray(at, at + n));
      at += n;
    }
    expect(c.calls).toEqual(want);
    expect(c.total()).toBe(300);
  });
});

describe('countingRelay', () => {
  it('passes bytes both ways and counts the calls of a closed connection', async () => {
    const echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const port = (echo.address() as { port: number }).port;
    await using relay = await countingRelay(port);
    const sent = Buffer.concat([record(0, 100003, 3, 9, 100, [50]), record(0, 100003, 3, 7, 10, [])]);
    const back = await new Promise<Buffer>((resolve, reject) => {
      const got: Buffer[] = [];
      const s = connect(relay.port, '127.0.0.1', () => s.end(sent));
      s.on('data', (b: Buffer) => got.push(b));
      s.on('error', reject);
      s.on('close', () => resolve(Buffer.concat(got)));
    });
    expect(back.equals(sent)).toBe(true);
    await expect.poll(() => relay.counter.total()).toBe(2);
    expect(Object.fromEntries(relay.counter.calls)).toEqual({ MKDIR: 1, WRITE: 1 });
    await new Promise<void>((r) => echo.close(() => r()));
  });
});
