import { describe, expect, it } from 'vitest';
import { LockLostError, LockTimeoutError } from '../../../driver/core/registry/errors.js';
import { LeaseManager } from '../../../driver/core/registry/lease.js';
import type { NfsSettings } from '../../../driver/core/records.js';
import { volumeRecord } from '../../fakes/records.js';
import { Registry } from '../../../driver/core/registry/registry.js';
import { FakeNfsError, MemoryNfs } from '../../fakes/memory-nfs.js';
import { prng } from '../../support/prng.js';

const nfs: NfsSettings = { version: '4.1', server: '127.0.0.1', exportPath: '/export', mountOptions: [] };

function seeded(): { seed: number; rand: () => number } {
  const seed = Number(process.env['NFSVOL_TEST_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`lease test seed ${seed} (NFSVOL_TEST_SEED=${seed} to repeat)`);
  return { seed, rand: prng(seed) };
}

/** A fake whose calls take 0-4 ms, so the bodies of overlapping holders would interleave. */
async function slowFs(rand: () => number): Promise<MemoryNfs> {
  const fs = await lockFs();
  fs.latency = () => rand() * 4;
  return fs;
}

/** A fake export with the registry's lock directory and a directory for each key used here. */
async function lockFs(): Promise<MemoryNfs> {
  const fs = new MemoryNfs();
  for (const k of ['x', 'y', 'z', 's']) await fs.mkdirp(`.nfsvol/locks/${k}`);
  return fs;
}

const genFile = (key: string, gen: number): string => `.nfsvol/locks/${key}/${String(gen).padStart(12, '0')}`;

describe('leases', () => {
  it('serialise read-modify-write across registries: no update lost, never two bodies at once', async () => {
    const { rand } = seeded();
    const fs = new MemoryNfs();
    fs.latency = () => rand() * 4;
    await Registry.init(fs, nfs);
    const regs = await Promise.all(Array.from({ length: 4 }, () => Registry.open(fs, { leaseMs: 2_000 })));
    const vol = volumeRecord('counter');
    await regs[0]!.volumes.create('counter', vol);
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 24 }, (_, i) => {
        const reg = regs[i % regs.length]!;
        return reg.withLock('counter', async (lease) => {
          inside++;
          most = Math.max(most, inside);
          const cur = await reg.volumes.get('counter');
          lease.assertHeld();
          await reg.volumes.replace('counter', { ...cur, uid: cur.uid + 1 });
          inside--;
        });
      }),
    );
    expect(most).toBe(1);
    expect((await regs[0]!.volumes.get('counter')).uid).toBe(24);
  }, 60_000);

  it('a lock whose holder died (never renewed, even an empty file) is broken after one lease, not before', async () => {
    const fs = await lockFs();
    let now = 0;
    const m = new LeaseManager(fs, '.nfsvol/locks', { leaseMs: 10_000, clock: () => now });
    fs.put(genFile('x', 7), ''); // a crash between CREATE and WRITE
    let ran = false;
    const p = m.with('x', async () => {
      ran = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    now += 9_000;
    await new Promise((r) => setTimeout(r, 100));
    expect(ran).toBe(false);
    now += 1_500;
    await p;
    expect(ran).toBe(true);
    // The breaker took generation 8 and removed the dead one below it.
    expect(fs.list('.nfsvol/locks/x')).toEqual([String(8).padStart(12, '0')]);
  });

  it('a lock stamped with any wall-clock time ages the same: a clock minutes off neither breaks nor keeps it', async () => {
    const fs = await lockFs();
    let now = 0;
    const m = new LeaseManager(fs, '.nfsvol/locks', { leaseMs: 10_000, timeoutMs: 5_000, clock: () => now });
    const future = JSON.stringify({
      schema: 1,
      kind: 'lock',
      owner: 'x',
      acquiredAt: '2099-01-01T00:00:00.000Z',
    });
    fs.put(genFile('y', 1), future, new Date(Date.now() + 3_600_000));
    const waiting = m.with('y', async () => 'ran');
    await new Promise((r) => setTimeout(r, 60));
    now += 6_000;
    await expect(waiting).rejects.toBeInstanceOf(LockTimeoutError);
    const m2 = new LeaseManager(fs, '.nfsvol/locks', { leaseMs: 10_000, clock: () => now });
    const later = m2.with('y', async () => 'ran');
    await new Promise((r) => setTimeout(r, 60));
    now += 10_001;
    expect(await later).toBe('ran');
  });

  it('a transient error while looking at a lock is not a reason to break it', async () => {
    const fs = await lockFs();
    let now = 0;
    const m = new LeaseManager(fs, '.nfsvol/locks', { leaseMs: 10_000, timeoutMs: 3_000, clock: () => now });
    fs.put(genFile('z', 1), '{}');
    fs.inject('readdir', () => new FakeNfsError('NFS3ERR_IO', 'io', true), { path: /locks\/z$/, count: 1 });
    const p = m.with('z', async () => 'ran').catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    now += 4_000; // past the wait, but not a whole lease since the stamp was seen
    expect(String(await p)).toMatch(/NFS3ERR_IO|timed out/);
    expect(fs.has(genFile('z', 1))).toBe(true);
  });

  it('a live holder is never broken while it renews, however long it works', async () => {
    const fs = await lockFs();
    const a = new LeaseManager(fs, '.nfsvol/locks', { leaseMs: 1_000 });
    const b = new LeaseManager(fs, '.nfsvol/locks', { leaseMs: 1_000, timeoutMs: 2_500 });
    const held = await a.acquire('long');
    await expect(b.with('long', async () => 'stolen')).rejects.toBeInstanceOf(LockTimeoutError);
    expect(() => held.assertHeld()).not.toThrow();
    await held.release();
    expect(await b.with('long', async () => 'ran')).toBe('ran');
  });

  it('a holder that cannot renew loses its lease: it is told, and its release touches nothing of the next holder', async () => {
    const fs = await lockFs();
    const a = new LeaseManager(fs, '.nfsvol/locks', { leaseMs: 200 });
    const held = await a.acquire('k');
    fs.inject('chmod', () => new FakeNfsError('NFS3ERR_JUKEBOX', 'server busy', true), { count: 1_000 });
    await new Promise((r) => setTimeout(r, 260));
    expect(() => held.assertHeld()).toThrow(LockLostError);
    expect(held.signal.aborted).toBe(true);
    // Another CLI now judges it stale and takes it.
    const b = new LeaseManager(fs, '.nfsvol/locks', { leaseMs: 200 });
    fs.inject('chmod', () => new Error('unused'), { count: 0 });
    const bHeld = await b.acquire('k');
    await held.release();
    const top = fs.list('.nfsvol/locks/k').at(-1)!;
    expect(`.nfsvol/locks/k/${top}`).toBe(bHeld.file);
    await bHeld.release();
  }, 20_000);

  it('two CLIs breaking the same stale lock: exactly one holds it at a time', async () => {
    const { rand } = seeded();
    const fs = await slowFs(rand);
    fs.put(genFile('s', 3), '{}');
    let now = 0;
    const clock = (): number => now;
    const ms = Array.from(
      { length: 5 },
      () => new LeaseManager(fs, '.nfsvol/locks', { leaseMs: 5_000, clock }),
    );
    let inside = 0;
    let most = 0;
    const all = Promise.all(
      ms.map((m) =>
        m.with('s', async () => {
          inside++;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 5 + rand() * 10));
          inside--;
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 80));
    now += 6_000;
    await all;
    expect(most).toBe(1);
  }, 30_000);
});

describe('leases held while something is in use (single-writer volumes)', () => {
  it('refuseLive: a live holder is refused by name at its first renewal; a holder that stopped renewing is taken over after one lease', async () => {
    const fs = await lockFs();
    const h1 = new LeaseManager(fs, '.nfsvol/locks', { leaseMs: 400, holder: 'h1' });
    const h2 = new LeaseManager(fs, '.nfsvol/locks', { leaseMs: 400, holder: 'h2' });
    const held = await h1.acquire('s');
    const t0 = performance.now();
    await expect(h2.acquire('s', { refuseLive: true })).rejects.toMatchObject({
      code: 'VOLUME_HELD',
      holder: 'h1',
    });
    // Refused on seeing a renewal (every quarter lease), without waiting out the lease.
    expect(performance.now() - t0).toBeLessThan(400);
    held.abandon(); // h1 stops renewing, as a powered-off host does
    const taken = await h2.acquire('s', { refuseLive: true });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(400);
    expect(fs.list('.nfsvol/locks/s')).toEqual([String(2).padStart(12, '0')]);
    await taken.release();
  });

  it('adoptFrom: the same holder after a restart takes its own unreleased lease at once; another holder does not', async () => {
    const fs = await lockFs();
    const before = new LeaseManager(fs, '.nfsvol/locks', { leaseMs: 60_000, holder: 'h1' });
    (await before.acquire('s')).abandon(); // the plugin on h1 stopped with containers running
    let now = 0;
    const restarted = new LeaseManager(fs, '.nfsvol/locks', {
      leaseMs: 60_000,
      holder: 'h1',
      clock: () => now,
    });
    const other = new LeaseManager(fs, '.nfsvol/locks', {
      leaseMs: 60_000,
      timeoutMs: 1_000,
      holder: 'h2',
      clock: () => now,
    });
    const p = other.acquire('s', { adoptFrom: 'h2' });
    const failed = expect(p).rejects.toMatchObject({ code: 'LOCK_TIMEOUT' });
    await new Promise((r) => setTimeout(r, 50));
    now += 2_000;
    await failed;
    const adopted = await restarted.acquire('s', { adoptFrom: 'h1' });
    expect(fs.list('.nfsvol/locks/s')).toEqual([String(2).padStart(12, '0')]);
    adopted.abandon();
  });
});
