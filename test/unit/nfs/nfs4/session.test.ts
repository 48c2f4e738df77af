/**
 * The NFSv4.1 session against an in-process server (fake-nfs41-server.ts) that scripts the
 * faults a real server produces: a lost session or client id, DELAY and GRACE, a reply lost with
 * the connection, state revoked, a shrinking slot table, and owners it cannot map.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RpcConnection } from '../../../../driver/nfs/rpc/index.js';
import { NfsError } from '../../../../driver/nfs/nfs-error.js';
import { Nfs4Client, Nfs4OwnerError, parseOwner } from '../../../../driver/nfs/nfs4/client.js';
import { CREATE, GETFH, PUTROOTFH } from '../../../../driver/nfs/nfs4/index.js';
import { Nfs4Session, OpList } from '../../../../driver/nfs/nfs4/session.js';
import { FakeNfs41Server } from './fake-nfs41-server.js';

const noSleep = (): Promise<void> => Promise.resolve();

let server: FakeNfs41Server;
let conn: RpcConnection;

beforeEach(async () => {
  server = await FakeNfs41Server.start(4);
  conn = new RpcConnection({ host: '127.0.0.1', port: server.port, maxInFlight: 64, timeoutMs: 5000 });
});

afterEach(async () => {
  await conn.close();
  await server.close();
});

async function session(options: ConstructorParameters<typeof Nfs4Session>[1] = {}): Promise<Nfs4Session> {
  const s = new Nfs4Session(conn, { sleep: noSleep, ...options });
  await s.establish();
  return s;
}

function rootFh(): OpList {
  const ops = new OpList();
  ops.add(PUTROOTFH, undefined);
  ops.add(GETFH, undefined);
  return ops;
}

function mkdirOps(name: string): OpList {
  const ops = new OpList();
  ops.add(PUTROOTFH, undefined);
  ops.add(CREATE, { objtype: { type: 'directory' }, name, attrs: { mode: 0o755 } }, `/${name}`);
  return ops;
}

/** Per slot, the sequence ids the server accepted, which must go up by one each time. */
function checkSlotOrder(): void {
  const bySlot = new Map<number, number[]>();
  for (const s of server.sequences) bySlot.set(s.slot, [...(bySlot.get(s.slot) ?? []), s.seqid]);
  for (const [slot, ids] of bySlot) {
    for (let i = 1; i < ids.length; i++) {
      expect(ids[i]! - ids[i - 1]!, `slot ${slot}: ${ids.join(',')}`).toBeGreaterThanOrEqual(0);
      expect(ids[i]! - ids[i - 1]!, `slot ${slot}: ${ids.join(',')}`).toBeLessThanOrEqual(1);
    }
  }
}

describe('Nfs4Session', () => {
  it('opens with EXCHANGE_ID, CREATE_SESSION, RECLAIM_COMPLETE and closes with DESTROY_SESSION, DESTROY_CLIENTID', async () => {
    const s = await session();
    expect(server.compounds.slice(0, 3)).toEqual([[42], [43], [53, 58]]);
    await s.destroy();
    expect(server.compounds.slice(-2)).toEqual([[44], [57]]);
  });

  it('keeps many COMPOUNDs in flight but never more than the slots granted, each slot in order', async () => {
    const s = await session();
    server.faults.holdUntil = 4;
    const results = await Promise.all(
      Array.from({ length: 40 }, () => s.run(rootFh(), { idempotent: true })),
    );
    expect(results).toHaveLength(40);
    expect(server.maxOutstanding).toBe(4);
    expect(new Set(server.sequences.map((q) => q.slot))).toEqual(new Set([0, 1, 2, 3]));
    checkSlotOrder();
  });

  it('uses fewer slots when the server lowers its target', async () => {
    const s = await session();
    server.faults.targetHighest = 1;
    await s.run(rootFh(), { idempotent: true });
    const before = server.sequences.length;
    await Promise.all(Array.from({ length: 20 }, () => s.run(rootFh(), { idempotent: true })));
    expect(s.slotCount).toBe(2);
    expect(server.sequences.slice(before).every((q) => q.slot <= 1)).toBe(true);
  });

  it('BADSESSION: makes a new session on the same client id and runs the request there', async () => {
    const s = await session();
    server.faults.sequence.push(10052);
    await s.run(rootFh(), { idempotent: true });
    const kinds = server.compounds
      .slice(3)
      .map((c) => (c[0] === 53 ? `SEQ+${c.slice(1).join(',')}` : `${c[0]}`));
    // The fake stops reading a COMPOUND at the failed SEQUENCE, so the first shows no operations.
    expect(kinds).toEqual(['SEQ+', '43', 'SEQ+58', 'SEQ+24,10']);
  });

  it('a restarted server (BADSESSION, then STALE_CLIENTID): new client id, session, RECLAIM_COMPLETE', async () => {
    const s = await session();
    server.restart();
    const r = await s.run(mkdirOps('after-restart'), {});
    expect(r).toBeDefined();
    expect(server.compounds.slice(3).map((c) => c[0])).toEqual([53, 43, 42, 43, 53, 53]);
    expect(server.created.get('after-restart')).toBe(1);
  });

  it('DELAY and GRACE: waits and runs the request again, on fresh sequence ids; gives up after the bound', async () => {
    const s = await session({ retries: 4 });
    server.faults.op.push(10008, 10013, 10008);
    await s.run(rootFh(), { idempotent: true });
    checkSlotOrder();
    server.faults.op.push(...Array<number>(10).fill(10008));
    const err = await s.run(rootFh(), { idempotent: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NfsError);
    expect(err).toMatchObject({ status: 'NFS4ERR_DELAY', retriable: true });
    server.faults.op.length = 0;
  });

  it('a reply lost with the connection: resent on the same slot and sequence id, run once, answered from the cache', async () => {
    const s = await session();
    server.faults.dropReplies = 1;
    await s.run(mkdirOps('once'), {});
    const creates = server.sequences.filter((q) => q.ops.includes(6));
    expect(creates.length).toBeGreaterThanOrEqual(1);
    expect(server.created.get('once')).toBe(1);
    // Non-idempotent requests ask the server to cache their reply.
    expect(server.sequences.find((q) => q.ops.includes(6))?.cachethis).toBe(true);
    // A second mkdir of the same name is a real EXIST, not a replay.
    await expect(s.run(mkdirOps('once'), {})).rejects.toMatchObject({ status: 'NFS4ERR_EXIST' });
  });

  it('acts on SEQUENCE status flags: revoked state noted, RECLAIM_COMPLETE after a restart', async () => {
    const seen: number[] = [];
    const s = await session({ onStatusFlags: (f) => seen.push(f) });
    server.faults.statusFlags.push(0x10, 0x100);
    await s.run(rootFh(), { idempotent: true });
    expect(s.stateRevoked).toBe(true);
    await s.run(rootFh(), { idempotent: true });
    await s.ping();
    expect(seen).toEqual([0x10, 0x100]);
    expect(server.compounds.slice(3).some((c) => c[0] === 53 && c[1] === 58)).toBe(true);
  });

  it('ping renews the lease with a SEQUENCE alone', async () => {
    const s = await session();
    await s.ping();
    expect(server.compounds.at(-1)).toEqual([53]);
  });
});

describe('Nfs4Client owners', () => {
  it('refuses numeric owners the server cannot map with a typed error that says what to change', async () => {
    await using nfs = await Nfs4Client.connect(`nfs://127.0.0.1:${server.port}/export?version=4.1`, {
      sleep: noSleep,
    });
    server.faults.badOwner = true;
    const err = await nfs.mkdir('owned', { uid: 1000, gid: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Nfs4OwnerError);
    expect(err).toMatchObject({ status: 'NFS4ERR_BADOWNER', op: 'CREATE', path: '/owned' });
    expect((err as Error).message).toMatch(/refused owner "1000\/1000".*Allow_Numeric_Owners/);
    const chown = await nfs.chown('', 5, 6).catch((e: unknown) => e);
    expect(chown).toBeInstanceOf(Nfs4OwnerError);
  });

  it('reads owner strings: numbers, number@domain, root, and names it cannot map as nobody', () => {
    expect(parseOwner('1000')).toBe(1000);
    expect(parseOwner('1000@example.org')).toBe(1000);
    expect(parseOwner('root@localdomain')).toBe(0);
    expect(parseOwner('alice@example.org')).toBe(65534);
    expect(parseOwner('99999999999')).toBe(65534);
  });
});
