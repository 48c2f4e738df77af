import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as nfs3 from '../../../driver/nfs/nfs3/index.js';
import * as mount3 from '../../../driver/nfs/mount3/index.js';
import { GETPORT } from '../../../driver/nfs/portmap/index.js';
import {
  RecordDecoder,
  RpcError,
  decodeRpcReply,
  encodeRecord,
  type Procedure,
} from '../../../driver/nfs/rpc/index.js';
import { XdrError } from '../../../driver/nfs/xdr/index.js';
import { mutate, prng } from '../../support/prng.js';

/** Replies captured from nfs-ganesha 4.x by test/support/capture-golden.ts. */
const golden = JSON.parse(readFileSync(new URL('./golden/ganesha-v3.json', import.meta.url), 'utf8')) as {
  prog: number;
  proc: number;
  hex: string;
}[];

const procedures = new Map<string, Procedure<never, unknown>>();
for (const mod of [nfs3, mount3]) {
  for (const v of Object.values(mod)) {
    if (typeof v === 'object' && v !== null && 'proc' in v && 'decode' in v) {
      const p = v as Procedure<never, unknown>;
      const prog = mod === nfs3 ? 100003 : 100005;
      procedures.set(`${prog}/${p.proc}`, p);
    }
  }
}
procedures.set('100000/3', GETPORT as Procedure<never, unknown>);

function decodeWhole(proc: Procedure<never, unknown>, record: Uint8Array): unknown {
  const reply = decodeRpcReply(record);
  if (!reply.ok) throw reply.error;
  const value = proc.decode(reply.results);
  reply.results.done(`${proc.name} reply`);
  return value;
}

const cases = golden.map((g) => ({
  ...g,
  bytes: Buffer.from(g.hex, 'hex'),
  procedure: procedures.get(`${g.prog}/${g.proc}`)!,
}));

describe('golden replies from a real nfs-ganesha', () => {
  it('covers every procedure nfsvol calls', () => {
    const names = new Set(
      cases.map(
        (c) => `${c.prog === 100005 ? 'MOUNT' : c.prog === 100000 ? 'PORTMAP' : 'NFS'} ${c.procedure.name}`,
      ),
    );
    for (const n of [
      'GETATTR',
      'SETATTR',
      'LOOKUP',
      'ACCESS',
      'READLINK',
      'READ',
      'WRITE',
      'CREATE',
      'MKDIR',
      'SYMLINK',
      'REMOVE',
      'RMDIR',
      'RENAME',
      'READDIRPLUS',
      'FSSTAT',
      'FSINFO',
      'PATHCONF',
      'COMMIT',
    ]) {
      expect(names).toContain(`NFS ${n}`);
    }
    for (const n of ['MNT', 'UMNT', 'EXPORT']) expect(names).toContain(`MOUNT ${n}`);
    expect(names).toContain('PORTMAP GETPORT');
  });

  it.each(cases.map((c) => [`${c.procedure.name} (${c.prog}/${c.proc})`, c] as const))(
    'decodes %s exactly, consuming every byte',
    (_name, c) => {
      expect(() => decodeWhole(c.procedure, c.bytes)).not.toThrow();
    },
  );

  it('decodes what a user would check: attributes, names, export list', () => {
    const find = (prog: number, proc: number, ok = true) =>
      cases
        .filter((c) => c.prog === prog && c.proc === proc)
        .map((c) => decodeWhole(c.procedure, c.bytes) as { ok?: boolean; value?: unknown; status?: number })
        .find((v) => v.ok === undefined || v.ok === ok)!;
    const mkdir = find(100003, 9) as {
      value: { objAttributes: { type: string; mode: number; uid: number } };
    };
    expect(mkdir.value.objAttributes).toMatchObject({ type: 'directory', mode: 0o750, uid: 1000 });
    expect(find(100003, 9, false)).toMatchObject({ ok: false, status: 17 });
    expect(find(100003, 3, false)).toMatchObject({ ok: false, status: 2 });
    const rdp = find(100003, 17) as { value: { entries: { name: string }[]; eof: boolean } };
    expect(rdp.value.entries.map((e) => e.name)).toEqual(
      expect.arrayContaining(['lock', 'link', 'renamed.txt']),
    );
    expect(rdp.value.eof).toBe(true);
    const exports = cases.find((c) => c.prog === 100005 && c.proc === 5)!;
    expect(decodeWhole(exports.procedure, exports.bytes)).toEqual([{ dir: '/export', groups: [] }]);
    const read = find(100003, 6) as { value: { data: Uint8Array; eof: boolean } };
    expect(Buffer.from(read.value.data).toString()).toBe('golden bytes\n');
  });

  it('reassembles every reply split at every offset', () => {
    for (const c of cases) {
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
    for (const c of cases) {
      for (let cut = 0; cut < c.bytes.length; cut++) {
        let err: unknown;
        try {
          decodeWhole(c.procedure, c.bytes.subarray(0, cut));
        } catch (e) {
          err = e;
        }
        expect(err, `${c.procedure.name} cut at ${cut}`).toBeDefined();
        expect(
          err instanceof XdrError || err instanceof RpcError,
          `${c.procedure.name} cut at ${cut}: ${String(err)}`,
        ).toBe(true);
      }
    }
  });

  it('fuzz (seed 5531, 20000 mutated replies): a value or a typed error, never anything else', () => {
    const rand = prng(5531);
    let typed = 0;
    for (let i = 0; i < 20_000; i++) {
      const c = cases[Math.floor(rand() * cases.length)]!;
      try {
        decodeWhole(c.procedure, mutate(rand, c.bytes));
      } catch (err) {
        if (!(err instanceof XdrError || err instanceof RpcError)) throw err;
        typed++;
      }
    }
    expect(typed).toBeGreaterThan(1000);
  });
});
