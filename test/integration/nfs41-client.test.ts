/**
 * nfsvol's own NFSv4.1 client against a real nfs-ganesha serving NFSv4.1 only: no rpcbind, no
 * MOUNT, one port (what EFS or Azure Files look like). The same operations as the NFSv3 client's
 * test (nfs-client.test.ts); assertions look at what a user sees: the bytes and attributes on
 * the export directory behind the server, and the errors' text.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream as fsReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MountError,
  Nfs4Client,
  NfsClient,
  NfsError,
  RpcError,
  connectNfsUrl,
} from '../../driver/nfs/index.js';
import { isRetriable } from '../../driver/common/errors.js';
import { startNfsServer, type NfsServer } from '../../deploy/lab/index.js';

let server: NfsServer;
let nfs: Nfs4Client;
let url: string;

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(fsReadStream(path), h);
  return h.digest('hex');
}

/** A deterministic stream of `size` pseudo-random bytes, hashed as it goes. */
function source(size: number, chunk = 1 << 20): { stream: Readable; digest: () => string } {
  const h = createHash('sha256');
  const block = randomBytes(chunk);
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(chunk, size - sent);
      const b = Buffer.from(block.subarray(0, n));
      b.writeUInt32BE(sent >>> 0, 0); // every block differs
      h.update(b);
      sent += n;
      this.push(b);
    },
  });
  return { stream, digest: () => h.digest('hex') };
}

/** A pass-through stream that reports the bytes that went through it. */
function counting(progress: (bytes: number) => void): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      progress(seen);
      cb(null, chunk);
    },
  });
}

beforeAll(async () => {
  server = await startNfsServer({ v41Only: true });
  url = server.url(4.1);
  nfs = await Nfs4Client.connect(url);
});

afterAll(async () => {
  await nfs?.close();
  await server?.stop();
});

describe('Nfs4Client against nfs-ganesha serving NFSv4.1 only', () => {
  it('connects with version=4.1 and version=auto; version=3 says what is missing', async () => {
    expect(server.v41Only).toBe(true);
    expect((await nfs.stat('/')).type).toBe('directory');
    await using auto = await connectNfsUrl(url.replace('version=4.1', 'version=auto'));
    expect(auto).toBeInstanceOf(Nfs4Client);
    // No rpcbind and no MOUNT here: NFSv3 cannot even find the export.
    const err = await NfsClient.connect(
      `nfs://127.0.0.1/export?version=3&nfsport=${server.nfsPort}&rpcbindport=${server.nfsPort}`,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/rpcbind|MOUNT|mount/);
  });

  it('creates directories with mode, uid and gid that the export shows', async () => {
    const st = await nfs.mkdir('vol-a', { mode: 0o2770, uid: 1234, gid: 5678 });
    expect(st).toMatchObject({ type: 'directory', mode: 0o2770, uid: 1234, gid: 5678 });
    const onDisk = await stat(join(server.exportDir, 'vol-a'));
    expect(onDisk.mode & 0o7777).toBe(0o2770);
    expect([onDisk.uid, onDisk.gid]).toEqual([1234, 5678]);
    await expect(nfs.mkdir('vol-a')).rejects.toMatchObject({ status: 'NFS4ERR_EXIST' });
    await nfs.mkdirp('vol-a/x/y/z', { mode: 0o700 });
    await nfs.mkdirp('vol-a/x/y/z'); // again: nothing to do
    expect((await stat(join(server.exportDir, 'vol-a/x/y/z'))).mode & 0o777).toBe(0o700);
    await expect(nfs.mkdirp('vol-a/x/y/z/..')).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('writes, reads, lists, renames, links, chmods and removes like a file system', async () => {
    await nfs.mkdir('files');
    await nfs.writeFile('files/a.txt', 'hello\n', { mode: 0o640, uid: 7, gid: 8 });
    expect(await readFile(join(server.exportDir, 'files/a.txt'), 'utf8')).toBe('hello\n');
    expect((await nfs.readFile('files/a.txt')).toString()).toBe('hello\n');
    await nfs.writeFile('files/a.txt', 'hi'); // truncates
    expect(await readFile(join(server.exportDir, 'files/a.txt'), 'utf8')).toBe('hi');
    expect(await nfs.stat('files/a.txt')).toMatchObject({ type: 'file', size: 2, uid: 7, gid: 8 });
    await nfs.chmod('files/a.txt', 0o600);
    await nfs.chown('files/a.txt', 70, 80);
    const st = await lstat(join(server.exportDir, 'files/a.txt'));
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o600, 70, 80]);
    await nfs.symlink('a.txt', 'files/link');
    expect(await nfs.readlink('files/link')).toBe('a.txt');
    expect(await readlink(join(server.exportDir, 'files/link'))).toBe('a.txt');
    await nfs.rename('files/a.txt', 'files/b.txt');
    const listing = await nfs.readdir('files');
    expect(listing.map((e) => e.name).sort()).toEqual(['b.txt', 'link']);
    expect(listing.find((e) => e.name === 'b.txt')?.stat).toMatchObject({ type: 'file', size: 2 });
    expect(listing.find((e) => e.name === 'link')?.stat?.type).toBe('symlink');
    expect(await nfs.exists('files/a.txt')).toBeUndefined();
    await nfs.rm('files/b.txt');
    await expect(nfs.rm('files/b.txt')).rejects.toMatchObject({ status: 'NFS4ERR_NOENT' });
    await expect(nfs.rm('files')).rejects.toMatchObject({ status: 'NFS4ERR_NOTEMPTY' });
    await nfs.rm('files', { recursive: true });
    await expect(stat(join(server.exportDir, 'files'))).rejects.toThrow(/ENOENT/);
  });

  it('creates a file exclusively: of 20 racing creators on 4 sessions exactly one wins', async () => {
    await nfs.mkdir('locks');
    const clients = await Promise.all(Array.from({ length: 4 }, () => Nfs4Client.connect(url)));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        clients[i % 4]!.createExclusive('locks/owner', `racer ${i}\n`, { mode: 0o600 }),
      ),
    );
    await Promise.all(clients.map((c) => c.close()));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 'NFS4ERR_EXIST' });
    }
    const content = await readFile(join(server.exportDir, 'locks/owner'), 'utf8');
    expect(content).toMatch(/^racer \d+\n$/);
    expect((await stat(join(server.exportDir, 'locks/owner'))).mode & 0o777).toBe(0o600);
  });

  it('lists a directory of 3,000 entries page by page, and measures usage like du', async () => {
    await nfs.mkdir('many');
    const names = Array.from({ length: 3000 }, (_, i) => `file-${i}`);
    for (let i = 0; i < names.length; i += 200) {
      await Promise.all(names.slice(i, i + 200).map((n) => nfs.writeFile(`many/${n}`, n)));
    }
    await nfs.mkdirp('many/sub/deeper');
    await nfs.writeFile('many/sub/deeper/x', Buffer.alloc(10_000, 1));
    let pages = 0;
    for await (const page of nfs.readdirPages('many', { pageBytes: 16 * 1024 })) if (page.length > 0) pages++;
    expect(pages).toBeGreaterThan(1);
    const listed = await nfs.readdir('many');
    expect(listed).toHaveLength(3001);
    expect(new Set(listed.map((e) => e.name))).toEqual(new Set([...names, 'sub']));
    expect(await readdir(join(server.exportDir, 'many'))).toHaveLength(3001);
    const u = await nfs.usage('many');
    expect(u).toMatchObject({ files: 3001, directories: 2 });
    expect(u.apparentBytes).toBe(names.reduce((s, n) => s + n.length, 0) + 10_000);
    const fs = await nfs.statfs();
    expect(fs.totalBytes).toBeGreaterThan(fs.freeBytes);
    await nfs.rm('many', { recursive: true });
    expect(await nfs.exists('many')).toBeUndefined();
  });

  it('reads a file by the handle READDIR gave; EXCLUSIVE4_1 create reports the attributes a listing later shows', async () => {
    await nfs.mkdir('handles');
    const made = await nfs.createExclusive('handles/rec', '{"a":1}\n', { uid: 42, gid: 43 });
    await nfs.writeFile('handles/big', Buffer.alloc(3 * 1024 * 1024 + 5, 7));
    const entries = new Map((await nfs.readdir('handles')).map((e) => [e.name, e]));
    const rec = entries.get('rec')!;
    expect(rec.handle?.length).toBeGreaterThan(0);
    expect(made).toMatchObject({ type: 'file', size: 8, fileid: rec.fileid, uid: 42, gid: 43 });
    expect(made?.mtime.getTime()).toBe(rec.stat?.mtime.getTime());
    // The verifier did not stay in the times: they are the server's clock at creation.
    expect(Math.abs(made!.atime.getTime() - Date.now())).toBeLessThan(3_600_000);
    expect((await nfs.readFile('handles/rec', { handle: rec.handle! })).toString()).toBe('{"a":1}\n');
    const big = await nfs.readFile('handles/big', { handle: entries.get('big')!.handle! });
    expect(big.equals(Buffer.alloc(3 * 1024 * 1024 + 5, 7))).toBe(true);
    await nfs.rm('handles', { recursive: true });
  });

  it('runs 64 operations at once within the slot table the server granted', async () => {
    expect(nfs.session.slotCount).toBeGreaterThan(1);
    await nfs.mkdir('par');
    const payloads = Array.from({ length: 64 }, (_, i) => randomBytes(1000 + i * 997));
    await Promise.all(payloads.map((p, i) => nfs.writeFile(`par/f${i}`, p)));
    const back = await Promise.all(payloads.map((_, i) => nfs.readFile(`par/f${i}`)));
    back.forEach((b, i) => expect(b.equals(payloads[i]!)).toBe(true));
    const stats = await Promise.all(payloads.map((_, i) => nfs.stat(`par/f${i}`)));
    expect(stats.map((s) => s.size)).toEqual(payloads.map((p) => p.length));
  });

  it('writes and reads back 64 MB with matching SHA-256', async () => {
    const size = 64 * 1024 * 1024;
    const src = source(size);
    await pipeline(src.stream, nfs.createWriteStream('big.bin'));
    const want = src.digest();
    expect(await sha256File(join(server.exportDir, 'big.bin'))).toBe(want);
    const h = createHash('sha256');
    await pipeline(nfs.createReadStream('big.bin'), h);
    expect(h.digest('hex')).toBe(want);
    await nfs.rm('big.bin');
  });

  it('carries on after a server restart: a new client id and session, transparently', async () => {
    await nfs.mkdir('before');
    await server.restart();
    // The server forgot the session: SEQUENCE fails, the client makes a new one and goes on.
    expect((await nfs.stat('before')).type).toBe('directory');
    await nfs.writeFile('before/after.txt', 'still here');
    expect(await readFile(join(server.exportDir, 'before/after.txt'), 'utf8')).toBe('still here');
  });

  it('survives a server restart in the middle of a write: the file is complete, or a retriable typed error', async () => {
    const size = 64 * 1024 * 1024;
    const src = source(size);
    let restarted: Promise<void> | undefined;
    let error: unknown;
    try {
      await pipeline(
        src.stream,
        counting((bytes) => {
          if (!restarted && bytes > size / 4) restarted = server.restart();
        }),
        nfs.createWriteStream('restart.bin'),
      );
    } catch (err) {
      error = err;
    }
    await restarted;
    expect(restarted).toBeDefined();
    console.info(
      `write across a restart: ${error ? `failed retriably: ${String(error)}` : 'completed, checksum verified'}`,
    );
    if (error) {
      expect(error instanceof RpcError || error instanceof NfsError).toBe(true);
      expect(isRetriable(error)).toBe(true);
    } else {
      expect(await sha256File(join(server.exportDir, 'restart.bin'))).toBe(src.digest());
    }
    // Either way the session is back: the next operations work.
    await nfs.writeFile('after-restart.txt', 'ok');
    expect(await readFile(join(server.exportDir, 'after-restart.txt'), 'utf8')).toBe('ok');
  });

  it('says clearly when the export does not exist, may not be used, and when nothing serves', async () => {
    const missing = await Nfs4Client.connect(url.replace('/export', '/nope')).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MountError);
    expect((missing as Error).message).toMatch(/^export \/nope does not exist on 127.0.0.1/);
    const denied = await Nfs4Client.connect(url.replace('/export', '/denied')).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(MountError);
    expect(['MOUNT_REFUSED', 'MOUNT_NO_EXPORT']).toContain((denied as MountError).code);
    const refused = await Nfs4Client.connect('nfs://127.0.0.1:1/export?version=4.1').catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'RPC_CONNECT', retriable: true });
    const neither = await connectNfsUrl('nfs://127.0.0.1:1/export?version=auto&mountport=1').catch(
      (e: unknown) => e,
    );
    expect((neither as Error).message).toMatch(/neither NFSv4.1 .* nor NFSv3/);
  });

  it('fails a bad path before anything is sent', async () => {
    await expect(nfs.stat('a/../../etc')).rejects.toMatchObject({ code: 'VALIDATION' });
    await expect(nfs.writeFile('x'.repeat(300), 'x')).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(NfsError).toBeDefined();
  });
});
