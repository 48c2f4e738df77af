import { describe, expect, it } from 'vitest';
import type { Procedure } from '../../../driver/nfs/rpc/procedure.js';
import { XdrError } from '../../../driver/nfs/xdr/xdr-error.js';
import { XdrReader } from '../../../driver/nfs/xdr/xdr-reader.js';
import { decodeProcedureReply, encodeCall } from './procedure-codec.js';
import { type Enc, encode } from './reply-encoders.js';
import { prng } from '../../support/prng.js';

export interface ProcedureCase<A, R> {
  readonly procedure: Procedure<A, R>;
  /** Arguments to encode, each checked against `decodeArgs`. */
  readonly args: readonly A[];
  /** The server's view of the arguments (hand-written from the RFC). */
  readonly decodeArgs: (r: XdrReader) => A;
  /** Replies to encode with `encodeReply` and decode with the procedure. */
  readonly replies: readonly R[];
  readonly encodeReply: Enc<R>;
  /** Random buffers and mutations per procedure. @default 3000 each */
  readonly fuzzCases?: number;
}

/** Decodes and returns 'ok' or 'xdr-error'; anything else thrown propagates and fails the test. */
export function decodeOrXdrError(
  procedure: Procedure<unknown, unknown>,
  bytes: Uint8Array,
  whole = true,
): 'ok' | 'xdr-error' {
  try {
    // Random input rarely ends exactly where a reply does: without `whole`, a decoded prefix counts.
    if (whole) decodeProcedureReply(procedure, bytes);
    else procedure.decode(new XdrReader(bytes));
    return 'ok';
  } catch (err) {
    if (err instanceof XdrError) return 'xdr-error';
    throw err;
  }
}

const BOUNDARY = [
  0, 1, 2, 3, 7, 8, 63, 64, 65, 255, 256, 1024, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff,
];

/**
 * Random XDR-ish input: mostly 0 and 1 (so booleans, statuses and discriminants take their
 * valid values and the decoder gets deep into the structure), some small numbers, some random
 * words, and now and then an unaligned tail.
 */
function randomWords(rand: () => number): Uint8Array {
  const words = Math.floor(rand() * 64);
  const out = new Uint8Array(words * 4 + (rand() < 0.1 ? Math.floor(rand() * 4) : 0));
  const view = new DataView(out.buffer);
  for (let i = 0; i < words; i++) {
    const k = rand();
    view.setUint32(
      i * 4,
      k < 0.6 ? (k < 0.35 ? 0 : 1) : k < 0.85 ? Math.floor(rand() * 72) : Math.floor(rand() * 2 ** 32),
    );
  }
  return out;
}

/** A valid reply with a few bytes changed, a word set to a boundary value, or bytes cut or added. */
function mutate(rand: () => number, valid: Uint8Array): Uint8Array {
  const out = new Uint8Array(valid);
  const pick = (n: number): number => Math.floor(rand() * n);
  switch (pick(4)) {
    case 0: {
      const n = 1 + pick(4);
      for (let i = 0; i < n && out.length > 0; i++) out[pick(out.length)] = pick(256);
      return out;
    }
    case 1: {
      if (out.length < 4) return out;
      const at = pick(out.length >> 2) << 2;
      new DataView(out.buffer).setUint32(at, BOUNDARY[pick(BOUNDARY.length)]!);
      return out;
    }
    case 2:
      return out.subarray(0, pick(out.length + 1));
    default: {
      const extra = new Uint8Array(1 + pick(16)).map(() => pick(256));
      const at = pick(out.length + 1);
      return new Uint8Array([...out.subarray(0, at), ...extra, ...out.subarray(at)]);
    }
  }
}

export function procedureSuite<A, R>(c: ProcedureCase<A, R>): void {
  const p = c.procedure;
  const proc = p as Procedure<unknown, unknown>;
  describe(`${p.name} (${p.proc})`, () => {
    it('encodes arguments the RFC way', () => {
      for (const args of c.args) {
        const bytes = encodeCall(p, args);
        expect(bytes.length % 4).toBe(0);
        const r = new XdrReader(bytes);
        expect(c.decodeArgs(r)).toEqual(args);
        r.done('args');
      }
    });

    const valid = c.replies.map((res) => encode(c.encodeReply, res));

    it('decodes every reply arm', () => {
      c.replies.forEach((res, i) => expect(decodeProcedureReply(p, valid[i]!)).toEqual(res));
    });

    it('throws XdrError for every truncation of every reply', () => {
      for (const bytes of valid) {
        for (let n = 0; n < bytes.length; n++) {
          expect(
            () => decodeProcedureReply(p, bytes.subarray(0, n)),
            `${n} of ${bytes.length} bytes`,
          ).toThrow(XdrError);
        }
      }
    });

    it('returns a value or throws XdrError for random and mutated input (seeded)', () => {
      const rand = prng(0x5eed ^ p.proc);
      const n = c.fuzzCases ?? 3000;
      const seen = { ok: 0, 'xdr-error': 0 };
      const mutated = { ok: 0, 'xdr-error': 0 };
      for (let i = 0; i < n; i++) {
        seen[decodeOrXdrError(proc, randomWords(rand), false)]++;
      }
      for (let i = 0; i < n; i++) {
        mutated[decodeOrXdrError(proc, mutate(rand, valid[i % valid.length]!))]++;
      }
      expect(seen.ok + seen['xdr-error'] + mutated.ok + mutated['xdr-error']).toBe(2 * n);
      // Both outcomes occur: the inputs reach past the first field into the structure.
      expect(mutated['xdr-error']).toBeGreaterThan(0);
      expect(mutated.ok + seen.ok).toBeGreaterThan(0);
      if (process.env.FUZZ_STATS) console.log(p.name, seen, mutated);
    });
  });
}
