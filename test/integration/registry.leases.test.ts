// Leases on a real server: nfs-ganesha must report each renewal in the attributes READDIRPLUS
// returns to another client (or a live holder would look stale), and a dead holder's lease must
// pass to a waiter after one lease, never before. Two NfsClient connections stand for two CLIs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NfsClient } from '../../driver/nfs/index.js';
import { LockTimeoutError } from '../../driver/core/registry/errors.js';
import { LeaseManager } from '../../driver/core/registry/lease.js';
import { startNfsServer, type NfsServer } from '../../deploy/lab/index.js';

describe('leases on nfs-ganesha', () => {
  let server: NfsServer;
  const clients: NfsClient[] = [];
  const connect = async (): Promise<NfsClient> => {
    const c = await NfsClient.connect(server.url(3));
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startNfsServer();
    const c = await connect();
    await c.mkdirp('.nfsvol/locks');
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await server?.stop();
  });

  it('a renewing holder is never taken over, however long it holds; then the next one gets it', async () => {
    const a = new LeaseManager(await connect(), '.nfsvol/locks', { leaseMs: 1_500 });
    const b = new LeaseManager(await connect(), '.nfsvol/locks', { leaseMs: 1_500, timeoutMs: 6_000 });
    const held = await a.acquire('live');
    const started = performance.now();
    await expect(b.with('live', async () => 'taken')).rejects.toBeInstanceOf(LockTimeoutError);
    expect(performance.now() - started).toBeGreaterThan(5_000); // four leases passed meanwhile
    expect(() => held.assertHeld()).not.toThrow();
    await held.release();
    expect(await b.with('live', async () => 'next')).toBe('next');
  }, 60_000);

  it('a holder that died (its connection gone, no more renewals) is taken over after one lease', async () => {
    const dying = await connect();
    const a = new LeaseManager(dying, '.nfsvol/locks', { leaseMs: 2_000 });
    const held = await a.acquire('dead');
    await dying.close();
    const b = new LeaseManager(await connect(), '.nfsvol/locks', { leaseMs: 2_000, timeoutMs: 20_000 });
    const started = performance.now();
    expect(await b.with('dead', async () => 'ran')).toBe('ran');
    expect(performance.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(() => held.assertHeld()).toThrow(/lost the lease/);
  }, 60_000);
});
