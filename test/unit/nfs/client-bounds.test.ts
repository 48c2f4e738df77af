import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { NfsClient } from '../../../driver/nfs/client.js';
import type { ReaddirOptions } from '../../../driver/nfs/types.js';
import { prng, randomBytes } from '../../support/prng.js';
import { PROC, startFakeNfs, type ReadReply } from './fake-nfs-server.js';
import { settled, until, useFakeClock } from './fake-time.js';

describe('NfsClient against a server that stops answering', () => {
  for (const [how, timeoutMs, url, options] of [
    ['at the defaults', 30_000, '', {}],
    ['with ?timeout= in the URL', 2_000, '&timeout=2000', {}],
    ['with the timeoutMs option', 1_500, '&timeout=2000', { timeoutMs: 1_500 }],
  ] as const) {
    it(`fails the call within ${timeoutMs} ms in total, retries included, ${how}`, async () => {
      useFakeClock();
      try {
        await using srv = await startFakeNfs({ silent: [PROC.GETATTR] });
        await using nfs = await NfsClient.connect(srv.url + url, options);
        const outcome = nfs.stat('f');
        await until(() => srv.calls.includes(PROC.GETATTR), 'GETATTR to arrive');
        await vi.advanceTimersByTimeAsync(timeoutMs - 1);
        expect(await settled(outcome)).toBe('pending');
        await vi.advanceTimersByTimeAsync(1);
        const got = await settled(outcome);
        expect(got).not.toBe('pending');
        const err = (got as { error: Error }).error;
        expect(err).toMatchObject({ code: 'RPC_TIMEOUT', retriable: true });
        expect(err.message).toMatch(
          new RegExp(`^NFS GETATTR to 127\\.0\\.0\\.1:\\d+: no reply within ${timeoutMs} ms`),
        );
      } finally {
        vi.useRealTimers();
      }
    });
  }
});

/** What `p` rejected with (fails the test if it resolved). */
async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; retriable?: boolean }> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

const verf = (n: number): Uint8Array => new Uint8Array(8).fill(n);
const entry = (name: string, cookie: bigint) => ({ fileid: cookie + 1000n, name, cookie });

/** Lists `path`, counting entries; stops (failing the test) past `limit`, where a listing would not end. */
async function listAll(nfs: NfsClient, path: string, options: ReaddirOptions = {}, limit = 50_000) {
  const names: string[] = [];
  try {
    for await (const e of nfs.readdirIter(path, options)) {
      names.push(e.name);
      if (names.length > limit) throw new Error(`listing did not end: over ${limit} entries`);
    }
  } catch (error) {
    return { names, error: error as Error & { code?: string; retriable?: boolean } };
  }
  return { names, error: undefined };
}

describe('NfsClient listing against a hostile server', () => {
  it('fails with NFS_PROTOCOL, naming the directory, when the resume cookie does not advance', async () => {
    await using srv = await startFakeNfs({
      // Every reply: the same two entries, no end.
      readdirplus: () => ({ cookieverf: verf(1), entries: [entry('a', 1n), entry('b', 2n)], eof: false }),
    });
    await using nfs = await NfsClient.connect(srv.url);
    const { names, error } = await listAll(nfs, 'vols/d');
    expect(error).toMatchObject({ code: 'NFS_PROTOCOL', retriable: false, path: '/vols/d' });
    expect(error?.message).toMatch(
      /^READDIRPLUS \/vols\/d: NFS_PROTOCOL \(server gave resume cookie 2 again/,
    );
    expect(names).toEqual(['a', 'b', 'a', 'b']);
  });

  it('fails when the server starts again from cookie 0, changing the cookieverf each time', async () => {
    let reply = 0;
    await using srv = await startFakeNfs({
      readdirplus: ({ cookie }) => {
        reply++;
        // Pages of 100 entries; after the third, the resume cookie is 0 again.
        const start = cookie === 0n ? 0n : cookie;
        const entries = Array.from({ length: 100 }, (_, i) =>
          entry(`f${start + BigInt(i)}`, start + BigInt(i) + 1n),
        );
        if (start >= 200n) entries[99] = { ...entries[99]!, cookie: 0n };
        return { cookieverf: verf(reply), entries, eof: false };
      },
    });
    await using nfs = await NfsClient.connect(srv.url);
    const { names, error } = await listAll(nfs, 'd');
    expect(error).toMatchObject({ code: 'NFS_PROTOCOL', path: '/d' });
    expect(names).toHaveLength(300);
  });

  it('fails on a cycle through several cookies (seeded)', async () => {
    const seed = Number(process.env['SEED'] ?? Date.now() % 100_000);
    console.log(`listing cycle seed=${seed}`);
    const rand = prng(seed);
    for (let round = 0; round < 5; round++) {
      // A chain of pages whose last one points back into the chain.
      const pages = 1 + Math.floor(rand() * 6);
      const back = Math.floor(rand() * pages);
      const cookies = Array.from({ length: pages }, (_, i) => BigInt(1 + i) * 1_000_003n);
      await using srv = await startFakeNfs({
        readdirplus: ({ cookie }) => {
          const i = cookie === 0n ? 0 : cookies.indexOf(cookie) + 1;
          const next = i < pages ? cookies[i]! : cookies[back]!;
          return { cookieverf: verf(0), entries: [entry(`p${i}`, next)], eof: false };
        },
      });
      await using nfs = await NfsClient.connect(srv.url);
      const { names, error } = await listAll(nfs, 'd');
      expect(error).toMatchObject({ code: 'NFS_PROTOCOL' });
      expect(names.length).toBeLessThanOrEqual(pages + 1);
    }
  });

  it('stops a listing that never ends at maxEntries with NFS_TOO_LARGE', async () => {
    await using srv = await startFakeNfs({
      readdirplus: ({ cookie }) => ({
        cookieverf: verf(0),
        entries: Array.from({ length: 500 }, (_, i) =>
          entry(`f${cookie + BigInt(i)}`, cookie + BigInt(i) + 1n),
        ),
        eof: false,
      }),
    });
    await using nfs = await NfsClient.connect(srv.url);
    const { names, error } = await listAll(nfs, 'big', { maxEntries: 10_000 });
    expect(error).toMatchObject({ code: 'NFS_TOO_LARGE', retriable: false, path: '/big' });
    expect(error?.message).toContain('more than 10000 entries');
    expect(names).toHaveLength(10_000);
    await expect(nfs.readdir('big', { maxEntries: 0 })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('rm -r fails instead of looping when the server keeps listing what it removed', async () => {
    await using srv = await startFakeNfs({
      dirs: ['d'],
      readdirplus: () => ({ cookieverf: verf(0), entries: [entry('x', 1n), entry('y', 2n)], eof: true }),
    });
    await using nfs = await NfsClient.connect(srv.url);
    const err = await rejection(nfs.rm('d', { recursive: true }));
    expect(err).toMatchObject({ code: 'NFS_PROTOCOL' });
    expect(err.message).toMatch(/server still lists x after removing it/);
    expect(srv.calls.filter((p) => p === PROC.REMOVE)).toHaveLength(2);
  });
});

/** A file's bytes served by READ, as a server would (EOF at its end, attributes with its size). */
function fileOf(bytes: Uint8Array): (a: { offset: number; count: number }) => ReadReply {
  return ({ offset, count }) => {
    const data = bytes.subarray(offset, offset + count);
    return { data, eof: offset + data.length >= bytes.length, size: bytes.length };
  };
}

const zeros = new Uint8Array(1 << 20);

describe('NfsClient reads against a hostile server', () => {
  it('reads a file whole up to maxBytes, and refuses one byte more from the size the server reports', async () => {
    const bytes = Buffer.from(randomBytes(prng(31), 300_000));
    await using srv = await startFakeNfs({ read: fileOf(bytes) });
    await using nfs = await NfsClient.connect(srv.url);
    expect((await nfs.readFile('f', { maxBytes: 300_000 })).equals(bytes)).toBe(true);
    const reads = srv.calls.filter((p) => p === PROC.READ).length;
    const err = await rejection(nfs.readFile('f', { maxBytes: 299_999 }));
    expect(err).toMatchObject({ code: 'NFS_TOO_LARGE', retriable: false, path: '/f' });
    expect(err.message).toBe(
      'READ /f: NFS_TOO_LARGE (the server reports 300000 bytes, over maxBytes (299999))',
    );
    // Known from the first reply's attributes: nothing more was read.
    expect(srv.calls.filter((p) => p === PROC.READ).length).toBe(reads + 1);
    await expect(nfs.readFile('f', { maxBytes: -1 })).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('reads a file that shrank since GETATTR to its new end: empty replies past the end are no error', async () => {
    const bytes = Buffer.from(randomBytes(prng(33), 100_000));
    await using srv = await startFakeNfs({ size: 300_000, read: fileOf(bytes) });
    await using nfs = await NfsClient.connect(srv.url);
    const chunks: Buffer[] = [];
    for await (const c of nfs.createReadStream('f', { concurrency: 8 })) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    const local = join(tmpdir(), `nfsvol-bounds-shrank-${process.pid}`);
    try {
      expect(await nfs.download('f', local, { concurrency: 8 })).toEqual({ bytes: 100_000 });
      expect(readFileSync(local).equals(bytes)).toBe(true);
    } finally {
      rmSync(local, { force: true });
    }
  });

  it('stops a READ that never reports EOF at the default maxBytes (64 MiB) with NFS_TOO_LARGE', async () => {
    // Attributes that always claim a little more than was read: a file that grows without end.
    await using srv = await startFakeNfs({
      read: ({ offset, count }) => ({ data: zeros.subarray(0, count), eof: false, size: offset + count + 1 }),
    });
    await using nfs = await NfsClient.connect(srv.url);
    const err = await rejection(nfs.readFile('endless'));
    expect(err).toMatchObject({ code: 'NFS_TOO_LARGE', path: '/endless' });
    expect(err.message).toContain(`over maxBytes (${64 * 1024 * 1024})`);
  }, 60_000); // 64 MiB through a fake server in this process: seconds on a busy machine

  it('stops at maxBytes when the replies carry no attributes at all', async () => {
    await using srv = await startFakeNfs({
      read: ({ count }) => ({ data: zeros.subarray(0, count), eof: false }),
    });
    await using nfs = await NfsClient.connect(srv.url);
    const err = await rejection(nfs.readFile('endless', { maxBytes: 1 << 20 }));
    expect(err).toMatchObject({ code: 'NFS_TOO_LARGE', path: '/endless' });
    // No read is planned past maxBytes: a bounded number of READs was sent.
    expect(srv.calls.filter((p) => p === PROC.READ).length).toBeLessThanOrEqual(1 + (1 << 20) / 65536 + 8);
  });

  it('fails with NFS_PROTOCOL when a READ returns no data and no EOF, instead of returning a short file', async () => {
    const bytes = Buffer.from(randomBytes(prng(32), 200_000));
    await using srv = await startFakeNfs({
      read: ({ offset, count }) =>
        offset >= 100_000
          ? { data: new Uint8Array(0), eof: false, size: bytes.length }
          : fileOf(bytes)({ offset, count: Math.min(count, 100_000 - offset) }),
    });
    await using nfs = await NfsClient.connect(srv.url);
    const err = await rejection(nfs.readFile('f'));
    expect(err).toMatchObject({ code: 'NFS_PROTOCOL', path: '/f' });
    expect(err.message).toContain('no data and no end of file at offset 100000');
    await expect(nfs.download('f', join(tmpdir(), `nfsvol-bounds-${process.pid}`))).rejects.toMatchObject({
      code: 'NFS_PROTOCOL',
    });
  });

  it('fails with NFS_PROTOCOL when READ keeps returning data past the size its attributes report', async () => {
    await using srv = await startFakeNfs({
      read: ({ count }) => ({ data: zeros.subarray(0, count), eof: false, size: 100_000 }),
    });
    await using nfs = await NfsClient.connect(srv.url);
    const err = await rejection(nfs.readFile('f'));
    expect(err).toMatchObject({ code: 'NFS_PROTOCOL', path: '/f' });
    expect(err.message).toContain('past the end of the file it reports (100000 bytes)');
  });

  it('a read stream and a download check data past the GETATTR size with GETATTR when replies carry no attributes', async () => {
    await using srv = await startFakeNfs({
      size: 100_000,
      read: ({ count }) => ({ data: zeros.subarray(0, count), eof: false }),
    });
    await using nfs = await NfsClient.connect(srv.url);
    let got = 0;
    let error: unknown;
    try {
      for await (const c of nfs.createReadStream('f')) {
        got += (c as Buffer).length;
        if (got > 100 << 20) throw new Error('the stream did not end');
      }
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'NFS_PROTOCOL', path: '/f' });
    expect((error as Error).message).toContain('past the end of the file it reports (100000 bytes)');
    const local = join(tmpdir(), `nfsvol-bounds-${process.pid}`);
    const copy = await rejection(nfs.download('f', local));
    expect(copy).toMatchObject({ code: 'NFS_PROTOCOL', path: '/f' });
    expect(existsSync(local)).toBe(false);
  });
});
