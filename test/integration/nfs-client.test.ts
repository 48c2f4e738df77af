/**
 * nfsvol's own NFSv3 client against a real nfs-ganesha (rpcbind + MOUNT + NFS in the lab's
 * container, reached on 127.0.0.1). Assertions look at what a user sees: the bytes and
 * attributes on the export directory behind the server, and the errors' text.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream as fsReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MountError, NfsClient, NfsError, RpcError } from '../../driver/nfs/index.js';
import { isRetriable } from '../../driver/common/errors.js';
import { startNfsServer, type NfsServer } from '../../deploy/lab/index.js';

const run = promisify(execFile);
let server: NfsServer;
let nfs: NfsClient;
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

/**
 * Runs `op`, restarting the server once `op` reports a quarter of `size` done; says how it went
 * and returns its error, if any, for the caller to check.
 */
async function acrossRestart(
  what: string,
  size: number,
  op: (progress: (bytes: number) => void) => Promise<unknown>,
): Promise<unknown> {
  let restarted: Promise<void> | undefined;
  let error: unknown;
  try {
    await op((bytes) => {
      if (!restarted && bytes > size / 4) restarted = server.restart();
    });
  } catch (err) {
    error = err;
  }
  await restarted;
  expect(restarted).toBeDefined();
  console.info(
    `${what} across a restart: ${error ? `failed retriably: ${String(error)}` : 'completed, checksum verified'}`,
  );
  return error;
}

beforeAll(async () => {
  server = await startNfsServer();
  url = `nfs://127.0.0.1/export?version=3&rpcbindport=${server.rpcbindPort}`;
  nfs = await NfsClient.connect(url);
});

afterAll(async () => {
  await nfs?.close();
  await server?.stop();
});

describe('NfsClient against nfs-ganesha (NFSv3)', () => {
  it('finds MOUNT and NFS through rpcbind, or uses the ports given', async () => {
    await using direct = await NfsClient.connect(
      `nfs://127.0.0.1:${server.nfsPort}/export?version=3&mountport=${server.mountPort}`,
    );
    expect((await direct.stat('/')).type).toBe('directory');
    expect(await nfs.exports()).toContainEqual({ dir: '/export', groups: [] });
  });

  it('creates directories with mode, uid and gid that the export shows', async () => {
    const st = await nfs.mkdir('vol-a', { mode: 0o2770, uid: 1234, gid: 5678 });
    expect(st).toMatchObject({ type: 'directory', mode: 0o2770, uid: 1234, gid: 5678 });
    const onDisk = await stat(join(server.exportDir, 'vol-a'));
    expect(onDisk.mode & 0o7777).toBe(0o2770);
    expect([onDisk.uid, onDisk.gid]).toEqual([1234, 5678]);
    await expect(nfs.mkdir('vol-a')).rejects.toMatchObject({ status: 'NFS3ERR_EXIST' });
    await nfs.mkdirp('vol-a/x/y/z', { mode: 0o700 });
    await nfs.mkdirp('vol-a/x/y/z'); // again: nothing to do
    expect((await stat(join(server.exportDir, 'vol-a/x/y/z'))).mode & 0o777).toBe(0o700);
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
    await expect(nfs.rm('files/b.txt')).rejects.toBeInstanceOf(NfsError);
    await expect(nfs.rm('files')).rejects.toMatchObject({ status: 'NFS3ERR_NOTEMPTY' });
    await nfs.rm('files', { recursive: true });
    await expect(stat(join(server.exportDir, 'files'))).rejects.toThrow(/ENOENT/);
  });

  it('creates a file exclusively: of 20 racing creators exactly one wins', async () => {
    await nfs.mkdir('locks');
    const clients = await Promise.all(Array.from({ length: 4 }, () => NfsClient.connect(url)));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        clients[i % 4]!.createExclusive('locks/owner', `racer ${i}\n`, { mode: 0o600 }),
      ),
    );
    await Promise.all(clients.map((c) => c.close()));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 'NFS3ERR_EXIST' });
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

  it('reads a file by the handle READDIRPLUS gave; EXCLUSIVE create reports the attributes a listing later shows', async () => {
    await nfs.mkdir('handles');
    const made = await nfs.createExclusive('handles/rec', '{"a":1}\n');
    await nfs.writeFile('handles/big', Buffer.alloc(3 * 1024 * 1024 + 5, 7));
    const entries = new Map((await nfs.readdir('handles')).map((e) => [e.name, e]));
    const rec = entries.get('rec')!;
    expect(rec.handle?.length).toBeGreaterThan(0);
    expect(made).toMatchObject({ type: 'file', size: 8, fileid: rec.fileid });
    expect(made?.mtime.getTime()).toBe(rec.stat?.mtime.getTime());
    expect(made?.ctime.getTime()).toBe(rec.stat?.ctime.getTime());
    expect((await nfs.readFile('handles/rec', { handle: rec.handle! })).toString()).toBe('{"a":1}\n');
    const big = await nfs.readFile('handles/big', { handle: entries.get('big')!.handle! });
    expect(big.equals(Buffer.alloc(3 * 1024 * 1024 + 5, 7))).toBe(true);
    expect((await nfs.readFile('handles/rec')).toString()).toBe('{"a":1}\n');
    await nfs.rm('handles', { recursive: true });
  });

  it('runs 64 operations at once on one connection', async () => {
    await nfs.mkdir('par');
    const payloads = Array.from({ length: 64 }, (_, i) => randomBytes(1000 + i * 997));
    await Promise.all(payloads.map((p, i) => nfs.writeFile(`par/f${i}`, p)));
    const back = await Promise.all(payloads.map((_, i) => nfs.readFile(`par/f${i}`)));
    back.forEach((b, i) => expect(b.equals(payloads[i]!)).toBe(true));
    const stats = await Promise.all(payloads.map((_, i) => nfs.stat(`par/f${i}`)));
    expect(stats.map((s) => s.size)).toEqual(payloads.map((p) => p.length));
  });

  it('writes and reads back 256 MB with matching SHA-256', async () => {
    const size = 256 * 1024 * 1024;
    const src = source(size);
    await pipeline(src.stream, nfs.createWriteStream('big.bin'));
    const want = src.digest();
    expect(await sha256File(join(server.exportDir, 'big.bin'))).toBe(want);
    const h = createHash('sha256');
    await pipeline(nfs.createReadStream('big.bin'), h);
    expect(h.digest('hex')).toBe(want);
    const local = join(await mkdtemp(join(tmpdir(), 'nfsvol-dl-')), 'big.bin');
    expect(await nfs.download('big.bin', local)).toEqual({ bytes: size });
    expect(await sha256File(local)).toBe(want);
    expect(await nfs.upload(local, 'big-up.bin')).toEqual({ bytes: size });
    expect(await sha256File(join(server.exportDir, 'big-up.bin'))).toBe(want);
    await rm(dirname(local), { recursive: true });
    await nfs.rm('big.bin');
    await nfs.rm('big-up.bin');
  });

  it('downloads to a local file like nfs-cp: any size, progress, and the local file untouched on failure', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-dl-'));
    await nfs.mkdir('dl');
    for (const size of [0, 1, 65_535, (1 << 20) + 7, 5 * (1 << 20)]) {
      const data = randomBytes(size);
      await nfs.writeFile(`dl/f-${size}`, data);
      const seen: number[] = [];
      const res = await nfs.download(`dl/f-${size}`, join(dir, 'out'), {
        chunkSize: 64 * 1024,
        onProgress: (bytes) => seen.push(bytes),
      });
      expect(res.bytes).toBe(size);
      expect((await readFile(join(dir, 'out'))).equals(data)).toBe(true);
      if (size > 0) expect(seen.at(-1)).toBe(size);
    }
    await writeFile(join(dir, 'keep'), 'mine');
    const err = await nfs.download('dl/missing', join(dir, 'keep')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NfsError);
    expect((err as NfsError).code).toBe('NFS3ERR_NOENT');
    expect(await readFile(join(dir, 'keep'), 'utf8')).toBe('mine');
    expect((await readdir(dir)).sort()).toEqual(['keep', 'out']); // no temporary file left behind
    await expect(nfs.download('dl/f-1', join(dir, 'no-such-dir', 'x'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    await rm(dir, { recursive: true });
    await nfs.rm('dl', { recursive: true });
  });

  it('uploads a local file like nfs-cp: any size, mode/uid/gid, replaced whole or not at all', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-up-'));
    await nfs.mkdir('up');
    for (const size of [0, 1, 65_535, (1 << 20) + 7, 5 * (1 << 20)]) {
      const data = randomBytes(size);
      await writeFile(join(dir, 'src'), data);
      const seen: number[] = [];
      const res = await nfs.upload(join(dir, 'src'), 'up/f', {
        chunkSize: 64 * 1024,
        commitEvery: 256 * 1024,
        mode: 0o640,
        uid: 1234,
        gid: 4321,
        onProgress: (bytes) => seen.push(bytes),
      });
      expect(res.bytes).toBe(size);
      expect((await readFile(join(server.exportDir, 'up', 'f'))).equals(data)).toBe(true);
      const st = await stat(join(server.exportDir, 'up', 'f'));
      expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o640, 1234, 4321]);
      if (size > 0) expect(seen.at(-1)).toBe(size);
    }
    const before = await readFile(join(server.exportDir, 'up', 'f'));
    const err = await nfs.upload(join(dir, 'missing'), 'up/f').catch((e: unknown) => e);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT');
    expect((await readFile(join(server.exportDir, 'up', 'f'))).equals(before)).toBe(true);
    await expect(nfs.upload(join(dir, 'src'), 'no-such-dir/f')).rejects.toMatchObject({
      code: 'NFS3ERR_NOENT',
    });
    expect(await readdir(join(server.exportDir, 'up'))).toEqual(['f']); // no temporary file left behind
    await rm(dir, { recursive: true });
    await nfs.rm('up', { recursive: true });
  });

  it('survives a server restart in the middle of a write: the file is complete, or a retriable typed error', async () => {
    const size = 128 * 1024 * 1024;
    const src = source(size);
    const error = await acrossRestart('write', size, (progress) =>
      pipeline(src.stream, counting(progress), nfs.createWriteStream('restart.bin')),
    );
    if (error) {
      expect(error instanceof RpcError || error instanceof NfsError).toBe(true);
      expect(isRetriable(error)).toBe(true);
    } else {
      expect(await sha256File(join(server.exportDir, 'restart.bin'))).toBe(src.digest());
    }
  });

  it('survives a server restart in the middle of an upload: the file is complete, or a retriable typed error', async () => {
    const size = 128 * 1024 * 1024;
    const src = source(size);
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-up-'));
    await pipeline(src.stream, createWriteStream(join(dir, 'src')));
    const error = await acrossRestart('upload', size, (onProgress) =>
      nfs.upload(join(dir, 'src'), 'restart-up.bin', { onProgress }),
    );
    if (error) {
      expect(error instanceof RpcError || error instanceof NfsError).toBe(true);
      expect(isRetriable(error)).toBe(true);
    } else {
      expect(await sha256File(join(server.exportDir, 'restart-up.bin'))).toBe(src.digest());
    }
    await rm(dir, { recursive: true });
  });

  it('survives a server restart in the middle of a read', async () => {
    const size = 128 * 1024 * 1024;
    const src = source(size);
    await pipeline(src.stream, nfs.createWriteStream('restart-read.bin'));
    const want = src.digest();
    const h = createHash('sha256');
    const error = await acrossRestart('read', size, (progress) =>
      pipeline(nfs.createReadStream('restart-read.bin'), counting(progress), h),
    );
    if (error) expect(isRetriable(error)).toBe(true);
    else expect(h.digest('hex')).toBe(want);

    // The same with download, which lends each READ its reply buffer.
    const local = join(await mkdtemp(join(tmpdir(), 'nfsvol-dl-')), 'restart.bin');
    const dlError = await acrossRestart('download', size, (onProgress) =>
      nfs.download('restart-read.bin', local, { onProgress }),
    );
    if (dlError) expect(isRetriable(dlError)).toBe(true);
    else expect(await sha256File(local)).toBe(want);
    await rm(dirname(local), { recursive: true });
  });

  it('refuses an export this client may not mount, with the reason', async () => {
    const err = await NfsClient.connect(
      `nfs://127.0.0.1/denied?version=3&rpcbindport=${server.rpcbindPort}`,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 'MNT3ERR_ACCES' });
    expect((err as Error).message).toMatch(/this client may not mount it/);
  });

  it('explains a refusal for want of a privileged source port, and passes with one', async () => {
    // Published ports go through docker-proxy, which hides the client's source port, so talk to
    // the container's own address on the bridge (a test host this run created).
    const { stdout } = await run('docker', [
      'inspect',
      '-f',
      '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
      server.containerId,
    ]);
    const ip = stdout.trim();
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const q = `version=3&nfsport=${server.nfsPort}&mountport=${server.mountPort}`;
    const err = await NfsClient.connect(`nfs://${ip}/secure?${q}&reserved=0`).catch((e: unknown) => e);
    // ganesha refuses the MNT (MNT3ERR_ACCES, as kernel mountd does) or, when the MNT passes,
    // the first NFS call (AUTH_TOOWEAK); either way the message says what to change.
    expect(err).toBeInstanceOf(MountError);
    expect(['MOUNT_PRIVILEGED_PORT', 'MNT3ERR_ACCES']).toContain((err as MountError).code);
    expect((err as Error).message).toMatch(/requires a privileged source port \(below 1024\).*"insecure"/);
    if (process.getuid?.() === 0) {
      await using ok = await NfsClient.connect(`nfs://${ip}/secure?${q}&reserved=1`);
      expect((await ok.stat('/')).type).toBe('directory');
    }
  });

  it('says clearly when the export does not exist, and when nothing serves', async () => {
    const err = await NfsClient.connect(
      `nfs://127.0.0.1/nope?version=3&rpcbindport=${server.rpcbindPort}`,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MountError);
    expect(['MNT3ERR_NOENT', 'MNT3ERR_ACCES']).toContain((err as MountError).status); // ganesha says ACCES
    expect((err as Error).message).toMatch(
      /^export \/nope does not exist on 127.0.0.1.*; exports this client may mount: \/export/,
    );
    const refused = await NfsClient.connect('nfs://127.0.0.1:1/export?version=3&mountport=1').catch(
      (e: unknown) => e,
    );
    expect(refused).toMatchObject({ code: 'RPC_CONNECT', retriable: true });
    expect((refused as Error).message).toMatch(/cannot connect to 127.0.0.1:1: ECONNREFUSED/);
  });
});
