/**
 * Choosing the client from the URL (version=3|4.1|auto), and the NFSv4.1 client's lease upkeep,
 * against the in-process NFSv4.1 server.
 */
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectNfsUrl } from '../../../../driver/nfs/connect.js';
import { Nfs4Client } from '../../../../driver/nfs/nfs4/client.js';
import { formatNfsUrl, parseNfsUrl } from '../../../../driver/nfs/nfs-url.js';
import { FakeNfs41Server } from './fake-nfs41-server.js';

let server: FakeNfs41Server | undefined;

afterEach(async () => {
  vi.useRealTimers();
  await server?.close();
  server = undefined;
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('version in the URL', () => {
  it('parses 3, 4.1 and auto, and formats them back', () => {
    for (const v of ['3', '4.1', 'auto']) {
      const t = parseNfsUrl(`nfs://server/export?version=${v}`);
      expect(String(t.version)).toBe(v);
      expect(parseNfsUrl(formatNfsUrl(t))).toEqual(t);
    }
    expect(() => parseNfsUrl('nfs://server/export?version=4')).toThrow(/must be 3 or 4.1, or auto/);
  });

  it('version=4.1 and version=auto give the NFSv4.1 client when the server speaks it', async () => {
    server = await FakeNfs41Server.start();
    for (const v of ['4.1', 'auto']) {
      await using nfs = await connectNfsUrl(`nfs://127.0.0.1:${server.port}/export?version=${v}`);
      expect(nfs).toBeInstanceOf(Nfs4Client);
      expect((await nfs.stat('')).type).toBe('directory');
    }
  });

  it('version=auto reports both failures when nothing answers', async () => {
    const port = await closedPort();
    const err = await connectNfsUrl(`nfs://127.0.0.1:${port}/export?version=auto&mountport=${port}`).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'NFS_CONNECT' });
    expect((err as Error).message).toMatch(
      /neither NFSv4.1 \(.*ECONNREFUSED.*\) nor NFSv3 \(.*ECONNREFUSED.*\)/,
    );
  });
});

describe('lease upkeep', () => {
  it('sends a SEQUENCE alone every third of the lease while idle, and nothing once closed', async () => {
    server = await FakeNfs41Server.start();
    let now = 1_000_000;
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const nfs = await Nfs4Client.connect(`nfs://127.0.0.1:${server.port}/export?version=4.1`, {
      now: () => now,
    });
    const pings = (): number => server!.compounds.filter((c) => c.length === 1 && c[0] === 53).length;
    // The fake server grants a 90 s lease: a renewal is due after 30 s of silence.
    now += 10_000;
    vi.advanceTimersByTime(30_000);
    expect(pings()).toBe(0); // the clock says 10 s idle: not yet
    now += 30_000;
    vi.advanceTimersByTime(30_000);
    await vi.waitFor(() => expect(pings()).toBe(1));
    await nfs.close();
    now += 60_000;
    vi.advanceTimersByTime(60_000);
    expect(pings()).toBe(1);
    expect(server.compounds.slice(-2)).toEqual([[44], [57]]);
  });
});
