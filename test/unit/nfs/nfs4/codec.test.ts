/**
 * The NFSv4.1 codec: golden replies captured from nfs-ganesha (test/support/capture-golden-v4.ts),
 * hand-built replies for what a healthy server rarely sends, argument bytes checked against the
 * RFC 7863 grammar, and hostile input (truncated, oversized, random) that must end in a typed
 * error, never a hang, a crash or an allocation sized by a length field.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  COMPOUND,
  CREATE,
  EXCHANGE_ID,
  GETATTR,
  OPEN,
  READ,
  READDIR,
  SECINFO_NO_NAME,
  SEQUENCE,
  SETATTR,
  WRITE,
  opCall,
  readBitmap,
  readFattr4,
  writeBitmap,
  writeFattr4,
  type CompoundRes,
  type OpenOk,
  type ReaddirOk,
} from '../../../../driver/nfs/nfs4/index.js';
import { RecordDecoder, RpcError, decodeRpcReply, encodeRecord } from '../../../../driver/nfs/rpc/index.js';
import { XdrError, XdrReader, XdrWriter } from '../../../../driver/nfs/xdr/index.js';
import { mutate, prng, randomBytes } from '../../../support/prng.js';

const golden = JSON.parse(readFileSync(new URL('./golden/ganesha-v41.json', import.meta.url), 'utf8')) as {
  prog: number;
  proc: number;
  ops: string;
  hex: string;
}[];
const compounds = golden.filter((g) => g.proc === 1).map((g) => ({ ...g, bytes: Buffer.from(g.hex, 'hex') }));

/** Decodes a whole reply record as a COMPOUND reply, checking every byte was used. */
function decodeRecord(record: Uint8Array): CompoundRes {
  const reply = decodeRpcReply(record);
  if (!reply.ok) throw reply.error;
  const res = COMPOUND.decode(reply.results);
  reply.results.done('COMPOUND reply');
  return res;
}

/** Decodes COMPOUND4res bytes (no RPC header). */
function decodeBody(bytes: Uint8Array): CompoundRes {
  const r = new XdrReader(bytes);
  const res = COMPOUND.decode(r);
  r.done('COMPOUND reply');
  return res;
}

function typedError(f: () => unknown): XdrError | RpcError {
  try {
    f();
  } catch (err) {
    if (err instanceof XdrError || err instanceof RpcError) return err;
    throw err;
  }
  throw new Error('expected a typed error');
}

/** Builds COMPOUND4res bytes from results written by hand (straight from RFC 7863). */
function reply(
  status: number,
  results: [op: number, status: number, body?: (w: XdrWriter) => void][],
): Uint8Array {
  const w = new XdrWriter();
  w.u32(status).string('').u32(results.length);
  for (const [op, st, body] of results) {
    w.u32(op).u32(st);
    body?.(w);
  }
  return w.finish();
}

const SEQ_OK = (w: XdrWriter): void => {
  w.fixedOpaque(new Uint8Array(16).fill(9), 16);
  w.u32(5).u32(0).u32(3).u32(3).u32(0);
};

describe('golden NFSv4.1 replies from nfs-ganesha', () => {
  it('covers every operation the client sends', () => {
    const ops = new Set(compounds.flatMap((c) => c.ops.split(',').map((o) => Number(o.split('=')[0]))));
    // EXCHANGE_ID .. RECLAIM_COMPLETE, then the file operations.
    for (const op of [
      42, 43, 53, 58, 44, 57, 24, 22, 15, 10, 9, 34, 6, 18, 4, 25, 38, 5, 26, 28, 29, 32, 52, 27,
    ]) {
      expect(ops, `operation ${op}`).toContain(op);
    }
  });

  it.each(compounds.map((c) => [c.ops, c] as const))(
    'decodes [%s] exactly, consuming every byte',
    (_ops, c) => {
      const res = decodeRecord(c.bytes);
      expect(res.results.map((r) => `${r.op}${r.status === 0 ? '' : `=${r.status}`}`).join(',')).toBe(c.ops);
    },
  );

  it('decodes what a user would check: attributes, owners, names, data, statuses', () => {
    const find = (ops: string): CompoundRes => decodeRecord(compounds.find((c) => c.ops === ops)!.bytes);
    const mkdir = find('53,22,6,10,9');
    expect(mkdir.results[4]!.value).toMatchObject({
      type: 'directory',
      mode: 0o750,
      owner: '1000',
      ownerGroup: '1000',
    });
    expect(find('53,22,6=17')).toMatchObject({ status: 17 });
    expect(find('53,22,15=2')).toMatchObject({ status: 2 });
    expect(find('53,22,28=66')).toMatchObject({ status: 66 });
    const read = find('53,22,25').results[2]!.value as { eof: boolean; data: Uint8Array };
    expect(Buffer.from(read.data).toString()).toBe('golden bytes\n');
    expect(read.eof).toBe(true);
    const rd = find('53,22,26').results[2]!.value as ReaddirOk;
    expect(rd.entries.map((e) => e.name)).toEqual(expect.arrayContaining(['lock', 'link', 'renamed.txt']));
    expect(rd.eof).toBe(true);
    const exchange = find('42').results[0]!.value as { clientid: bigint; stateProtect: string };
    expect(exchange.stateProtect).toBe('none');
    const session = find('43').results[0]!.value as { sessionid: Uint8Array; fore: { maxRequests: number } };
    expect(session.sessionid).toHaveLength(16);
    expect(session.fore.maxRequests).toBeGreaterThan(0);
  });

  it('reassembles every reply split at every offset', () => {
    for (const c of compounds) {
      const framed = Buffer.concat(encodeRecord([c.bytes]));
      for (let at = 0; at <= framed.length; at++) {
        const d = new RecordDecoder(1 << 20);
        const records = [...d.push(framed.subarray(0, at)), ...d.push(framed.subarray(at))];
        expect(records).toHaveLength(1);
        expect(Buffer.from(records[0]!).equals(c.bytes)).toBe(true);
      }
    }
  });

  it('gives a typed error for every truncation of every reply', () => {
    for (const c of compounds) {
      for (let cut = 0; cut < c.bytes.length; cut++) {
        const err = typedError(() => decodeRecord(c.bytes.subarray(0, cut)));
        expect(err.code, `${c.ops} cut at ${cut}`).toMatch(/^(XDR_|RPC_)/);
      }
    }
  });

  it('survives seeded random corruption: a value or a typed error, nothing else', () => {
    const seed = Number(process.env['FUZZ_SEED'] ?? Date.now() % 1_000_000);
    console.info(`nfs4 codec fuzz seed ${seed} (rerun with FUZZ_SEED=${seed})`);
    const rand = prng(seed);
    let typed = 0;
    for (let i = 0; i < 4000; i++) {
      const c = compounds[Math.floor(rand() * compounds.length)]!;
      const bytes = i % 10 === 0 ? randomBytes(rand, Math.floor(rand() * 300)) : mutate(rand, c.bytes);
      try {
        decodeRecord(bytes);
      } catch (err) {
        expect(
          err instanceof XdrError || err instanceof RpcError,
          `seed ${seed} case ${i}: ${String(err)}`,
        ).toBe(true);
        typed++;
      }
    }
    expect(typed).toBeGreaterThan(0);
  });
});

describe('hostile lengths fail fast with XdrError, allocating nothing they claim', () => {
  it('a resarray claiming 2^32-1 results', () => {
    const w = new XdrWriter().u32(0).string('').u32(0xffffffff);
    expect(typedError(() => decodeBody(w.finish())).code).toBe('XDR_TOO_LONG');
  });

  it('a resarray claiming more results than bytes', () => {
    const w = new XdrWriter().u32(0).string('').u32(200).u32(53);
    expect(typedError(() => decodeBody(w.finish())).code).toBe('XDR_TRUNCATED');
  });

  it('an attrlist4 claiming 2 GiB', () => {
    const bytes = reply(0, [
      [53, 0, SEQ_OK],
      [
        9,
        0,
        (w) =>
          w
            .u32(1)
            .u32(1 << 4)
            .u32(0x80000000),
      ],
    ]);
    expect(typedError(() => decodeBody(bytes)).code).toBe('XDR_TOO_LONG');
  });

  it('a bitmap4 of a million words', () => {
    const bytes = reply(0, [
      [53, 0, SEQ_OK],
      [9, 0, (w) => w.u32(1_000_000)],
    ]);
    expect(typedError(() => decodeBody(bytes)).code).toBe('XDR_TOO_LONG');
  });

  it('READ data longer than the largest READ asked for', () => {
    const bytes = reply(0, [
      [53, 0, SEQ_OK],
      [22, 0],
      [25, 0, (w) => w.bool(true).u32(64 * 1024 * 1024)],
    ]);
    expect(typedError(() => decodeBody(bytes)).code).toBe('XDR_TOO_LONG');
  });

  it('a READDIR entry name claiming 4 GiB', () => {
    const bytes = reply(0, [
      [53, 0, SEQ_OK],
      [22, 0],
      [26, 0, (w) => w.fixedOpaque(new Uint8Array(8)).u32(1).u64(3n).u32(0xffffffff)],
    ]);
    expect(typedError(() => decodeBody(bytes)).code).toBe('XDR_TOO_LONG');
  });

  it('a file handle over NFS4_FHSIZE', () => {
    const bytes = reply(0, [
      [53, 0, SEQ_OK],
      [10, 0, (w) => w.opaque(new Uint8Array(129))],
    ]);
    expect(typedError(() => decodeBody(bytes)).code).toBe('XDR_TOO_LONG');
  });

  it('an attribute the client never asked for (its value cannot be skipped)', () => {
    const vals = new XdrWriter().u32(0).finish();
    const bytes = reply(0, [
      [53, 0, SEQ_OK],
      [
        9,
        0,
        (w) =>
          w
            .u32(1)
            .u32(1 << 12)
            .opaque(vals),
      ],
    ]);
    expect(typedError(() => decodeBody(bytes)).message).toMatch(/attribute 12/);
  });

  it('attribute values with bytes left over', () => {
    const vals = new XdrWriter().u32(2).u32(99).finish();
    const bytes = reply(0, [
      [53, 0, SEQ_OK],
      [
        9,
        0,
        (w) =>
          w
            .u32(1)
            .u32(1 << 1)
            .opaque(vals),
      ],
    ]);
    expect(typedError(() => decodeBody(bytes)).message).toMatch(/trailing/);
  });

  it('an opcode the client never sends, and results after a failure', () => {
    expect(typedError(() => decodeBody(reply(0, [[3, 0]]))).message).toMatch(/operation 3/);
    expect(
      typedError(() =>
        decodeBody(
          reply(2, [
            [53, 0, SEQ_OK],
            [15, 2],
            [10, 0, (w) => w.opaque(new Uint8Array(4))],
          ]),
        ),
      ).message,
    ).toMatch(/goes on after/);
  });

  it('a bad nfs_ftype4, boolean, stable_how4 or nseconds', () => {
    const attr = (bit: number, body: (v: XdrWriter) => void): Uint8Array => {
      const v = new XdrWriter();
      body(v);
      const vals = v.finish();
      return reply(0, [
        [53, 0, SEQ_OK],
        [9, 0, (w) => void (writeBitmap(w, [bit]), w.opaque(vals))],
      ]);
    };
    expect(typedError(() => decodeBody(attr(1, (v) => v.u32(42)))).code).toBe('XDR_BAD_VALUE');
    expect(typedError(() => decodeBody(attr(53, (v) => v.u64(1n).u32(2e9)))).code).toBe('XDR_BAD_VALUE');
    const badWrite = reply(0, [
      [53, 0, SEQ_OK],
      [38, 0, (w) => w.u32(5).u32(7).fixedOpaque(new Uint8Array(8))],
    ]);
    expect(typedError(() => decodeBody(badWrite)).code).toBe('XDR_BAD_VALUE');
    const badBool = reply(0, [
      [53, 0, SEQ_OK],
      [25, 0, (w) => w.u32(2).u32(0)],
    ]);
    expect(typedError(() => decodeBody(badBool)).code).toBe('XDR_BAD_VALUE');
  });
});

describe('replies a healthy server rarely sends', () => {
  const stateid = (w: XdrWriter, seq: number): void =>
    void w.u32(seq).fixedOpaque(new Uint8Array(12).fill(seq));
  const openOk = (deleg: (w: XdrWriter) => void) => (w: XdrWriter) => {
    stateid(w, 1);
    w.bool(true).u64(1n).u64(2n); // change_info4
    w.u32(4); // rflags
    w.u32(0); // attrset
    deleg(w);
  };
  const open = (deleg: (w: XdrWriter) => void): OpenOk =>
    decodeBody(
      reply(0, [
        [53, 0, SEQ_OK],
        [18, 0, openOk(deleg)],
      ]),
    ).results[1]!.value as OpenOk;
  const ace = (w: XdrWriter): void => void w.u32(0).u32(0).u32(0).string('EVERYONE@');

  it('OPEN with a read, a write, or a declined delegation', () => {
    expect(open((w) => (w.u32(1), stateid(w, 7), w.bool(false), ace(w))).delegation).toMatchObject({
      type: 'read',
      stateid: { seqid: 7 },
    });
    expect(
      open((w) => (w.u32(2), stateid(w, 8), w.bool(true), w.u32(1).u64(4096n), ace(w))).delegation,
    ).toMatchObject({
      type: 'write',
      recall: true,
    });
    // why_no_delegation4: WND4_CONTENTION (1) and WND4_RESOURCE (2) carry a bool, the rest nothing.
    expect(open((w) => w.u32(3).u32(1).bool(true)).delegation).toEqual({ type: 'none' });
    expect(open((w) => w.u32(3).u32(2).bool(false)).delegation).toEqual({ type: 'none' });
    expect(open((w) => w.u32(3).u32(7)).delegation).toEqual({ type: 'none' });
    expect(typedError(() => open((w) => w.u32(9))).code).toBe('XDR_BAD_VALUE');
  });

  it('SECINFO_NO_NAME listing RPCSEC_GSS and AUTH_SYS', () => {
    const bytes = reply(0, [
      [53, 0, SEQ_OK],
      [24, 0],
      [
        52,
        0,
        (w) =>
          w
            .u32(2)
            .u32(6)
            .opaque(new Uint8Array([1, 2, 3]))
            .u32(0)
            .u32(1)
            .u32(1),
      ],
    ]);
    expect(decodeBody(bytes).results[2]!.value).toEqual([
      { flavor: 6, gss: { oid: new Uint8Array([1, 2, 3]), qop: 0, service: 1 } },
      { flavor: 1 },
    ]);
  });

  it('EXCHANGE_ID with SP4_MACH_CRED, and SP4_SSV (never asked for) refused', () => {
    const head = (w: XdrWriter): void => void w.u64(77n).u32(1).u32(0x80010000);
    const tail = (w: XdrWriter): void =>
      void w.u64(0n).opaque(new Uint8Array(4)).opaque(new Uint8Array(2)).u32(0);
    const mach = reply(0, [[42, 0, (w) => (head(w), w.u32(1).u32(0).u32(0), tail(w))]]);
    expect(decodeBody(mach).results[0]!.value).toMatchObject({ clientid: 77n, stateProtect: 'mach_cred' });
    const ssv = reply(0, [[42, 0, (w) => (head(w), w.u32(2), tail(w))]]);
    expect(typedError(() => decodeBody(ssv)).message).toMatch(/state protection 2/);
  });

  it('SETATTR failing still carries its bitmap; OP_ILLEGAL carries a status only', () => {
    const res = decodeBody(
      reply(10039, [
        [53, 0, SEQ_OK],
        [22, 0],
        [34, 10039, (w) => w.u32(0)],
      ]),
    );
    expect(res.results[2]).toEqual({ op: 34, status: 10039, value: undefined });
    expect(decodeBody(reply(10044, [[10044, 10044]])).results[0]).toEqual({
      op: 10044,
      status: 10044,
      value: undefined,
    });
  });
});

describe('arguments as RFC 7863 lays them out', () => {
  const encode = (...calls: ReturnType<typeof opCall>[]): XdrReader => {
    const w = new XdrWriter();
    COMPOUND.encode(w, { tag: 't', ops: calls });
    const bytes = w.finish();
    // A plain Uint8Array, so views read from it compare equal to plain arrays.
    const r = new XdrReader(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    expect(r.string(100)).toBe('t');
    expect(r.u32()).toBe(1); // minorversion
    expect(r.u32()).toBe(calls.length);
    return r;
  };

  it('SEQUENCE: session, sequence id, slot, highest slot, cachethis', () => {
    const sessionid = new Uint8Array(16).fill(3);
    const r = encode(
      opCall(SEQUENCE, { sessionid, sequenceid: 9, slotid: 2, highestSlotid: 5, cachethis: true }),
    );
    expect(r.u32()).toBe(53);
    expect(r.fixedOpaque(16)).toEqual(sessionid);
    expect([r.u32(), r.u32(), r.u32(), r.bool()]).toEqual([9, 2, 5, true]);
    r.done();
  });

  it('OPEN EXCLUSIVE4_1 with CLAIM_NULL: verifier and attributes together', () => {
    const verf = new Uint8Array(8).fill(4);
    const r = encode(
      opCall(OPEN, {
        shareAccess: 3,
        shareDeny: 0,
        owner: { clientid: 0x1234n, owner: new Uint8Array([1, 2, 3]) },
        create: { mode: 'exclusive4_1', verf, attrs: { mode: 0o640, owner: '1000' } },
        claim: { type: 'null', name: 'lock' },
      }),
    );
    expect(r.u32()).toBe(18);
    expect([r.u32(), r.u32(), r.u32(), r.u64()]).toEqual([0, 3, 0, 0x1234n]);
    expect(r.opaque(1024)).toEqual(new Uint8Array([1, 2, 3]));
    expect([r.u32(), r.u32()]).toEqual([1, 3]); // OPEN4_CREATE, EXCLUSIVE4_1
    expect(r.fixedOpaque(8)).toEqual(verf);
    expect(readBitmap(r)).toEqual([33, 36]);
    const vals = new XdrReader(r.opaque(1024));
    expect([vals.u32(), vals.string(100)]).toEqual([0o640, '1000']);
    vals.done();
    expect([r.u32(), r.string(100)]).toEqual([0, 'lock']); // CLAIM_NULL
    r.done();
  });

  it('CREATE of a symlink, SETATTR of times, WRITE data by reference, READDIR attribute request', () => {
    const data = new Uint8Array(5).fill(1);
    const r = encode(
      opCall(CREATE, { objtype: { type: 'symlink', target: 'to' }, name: 'l', attrs: { mode: 0o777 } }),
      opCall(SETATTR, {
        stateid: { seqid: 0, other: new Uint8Array(12) },
        attrs: { atime: 'server', mtime: { seconds: -1n, nseconds: 5 } },
      }),
      opCall(WRITE, { stateid: { seqid: 1, other: new Uint8Array(12) }, offset: 2 ** 40, stable: 2, data }),
      opCall(READDIR, {
        cookie: 7n,
        cookieverf: new Uint8Array(8),
        dircount: 100,
        maxcount: 200,
        attrs: [1, 19, 55],
      }),
      opCall(GETATTR, [4, 33]),
      opCall(READ, { stateid: { seqid: 0, other: new Uint8Array(12) }, offset: 3, count: 4 }),
    );
    expect([r.u32(), r.u32(), r.string(10), r.string(10)]).toEqual([6, 5, 'to', 'l']);
    expect(readFattr4(r)).toEqual({ mode: 0o777 });
    expect([r.u32(), r.u32()]).toEqual([34, 0]);
    r.fixedOpaque(12);
    expect(readBitmap(r)).toEqual([48, 54]);
    const times = new XdrReader(r.opaque(100));
    expect([times.u32(), times.u32(), times.u64(), times.u32()]).toEqual([0, 1, 0xffffffffffffffffn, 5]);
    expect([r.u32(), r.u32()]).toEqual([38, 1]);
    r.fixedOpaque(12);
    expect([r.u64n(), r.u32(), r.opaque(10)]).toEqual([2 ** 40, 2, data]);
    expect([r.u32(), r.u64()]).toEqual([26, 7n]);
    r.fixedOpaque(8);
    expect([r.u32(), r.u32(), readBitmap(r)]).toEqual([100, 200, [1, 19, 55]]);
    expect([r.u32(), readBitmap(r)]).toEqual([9, [4, 33]]);
    expect([r.u32(), r.u32()]).toEqual([25, 0]);
    r.fixedOpaque(12);
    expect([r.u64n(), r.u32()]).toEqual([3, 4]);
    r.done();
  });

  it('EXCHANGE_ID and SECINFO_NO_NAME', () => {
    const r = encode(
      opCall(EXCHANGE_ID, { verifier: new Uint8Array(8), ownerId: new Uint8Array([9]), flags: 0x10000 }),
      opCall(SECINFO_NO_NAME, 0),
    );
    expect(r.u32()).toBe(42);
    r.fixedOpaque(8);
    expect([r.opaque(10), r.u32(), r.u32(), r.u32()]).toEqual([new Uint8Array([9]), 0x10000, 0, 0]);
    expect([r.u32(), r.u32()]).toEqual([52, 0]);
    r.done();
  });

  it('refuses what the protocol cannot carry', () => {
    expect(() => encode(opCall(GETATTR, [256]))).toThrow(XdrError);
    expect(() =>
      encode(opCall(CREATE, { objtype: { type: 'directory' }, name: 'x'.repeat(2000), attrs: {} })),
    ).toThrow(XdrError);
    expect(() => encode(...Array.from({ length: 300 }, () => opCall(GETATTR, [1])))).toThrow(
      /300 operations/,
    );
  });

  it('round-trips seeded random bitmaps and settable attributes', () => {
    const seed = Number(process.env['FUZZ_SEED'] ?? Date.now() % 1_000_000);
    console.info(`nfs4 bitmap/fattr4 seed ${seed}`);
    const rand = prng(seed);
    for (let i = 0; i < 500; i++) {
      const bits = [
        ...new Set(Array.from({ length: Math.floor(rand() * 12) }, () => Math.floor(rand() * 256))),
      ].sort((a, b) => a - b);
      const w = new XdrWriter();
      writeBitmap(w, bits);
      expect(readBitmap(new XdrReader(w.finish())), `seed ${seed} case ${i}`).toEqual(bits);
      const attrs = {
        ...(rand() < 0.5 ? { size: Math.floor(rand() * 2 ** 40) } : {}),
        ...(rand() < 0.5 ? { mode: Math.floor(rand() * 0o7777) } : {}),
        ...(rand() < 0.5 ? { owner: String(Math.floor(rand() * 2 ** 32)) } : {}),
        ...(rand() < 0.5 ? { ownerGroup: `${Math.floor(rand() * 1000)}@example` } : {}),
      };
      const fw = new XdrWriter();
      writeFattr4(fw, attrs);
      expect(readFattr4(new XdrReader(fw.finish())), `seed ${seed} case ${i}`).toEqual(attrs);
    }
  });
});
