/**
 * nfsvol's NFS client against libnfs's nfs-cp and nfs-ls, side by side on the same nfs-ganesha
 * (the lab's) and the same files: 256 MB write and read, listing 10,000 entries, and creating
 * 1,000 directories with mode/uid/gid. Run: npm run bench -- nfs-client [--runs N] [--mb N]
 */
import { execFile } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, openSync, writeSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { pipeline } from 'node:stream/promises';
import { mapLimit } from '../driver/concurrency.js';
import { NfsClient } from '../driver/nfs/index.js';
import { startNfsServer } from '../deploy/lab/index.js';
import { median, table, timed, writeSection, type Row } from './_report.js';

const run = promisify(execFile);
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg('runs', 3);
const MB = arg('mb', 256);

const scratch = '/dev/shm/nfsvol-bench';
await rm(scratch, { recursive: true, force: true });
await mkdir(scratch, { recursive: true });
const local = `${scratch}/src.bin`;
{
  const block = randomBytes(1 << 20);
  const ws = createWriteStream(local);
  for (let i = 0; i < MB; i++) ws.write(block);
  await new Promise<void>((resolve, reject) =>
    ws.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

await using server = await startNfsServer();
const q = `version=3&nfsport=${server.nfsPort}&mountport=${server.mountPort}`;
const libnfs = (path: string): string => `nfs://127.0.0.1/export/${path}?${q}`;
await using nfs = await NfsClient.connect(`nfs://127.0.0.1/export?${q}`);
await nfs.mkdir('bench');

async function copyToLocal(from: string, to: string): Promise<void> {
  const fd = openSync(to, 'w');
  try {
    for await (const chunk of nfs.createReadStream(from)) writeSync(fd, chunk as Buffer);
  } finally {
    closeSync(fd);
  }
}

// Both clients read the same file, written once by nfs-cp and warm in the server's cache.
await run('nfs-cp', [local, libnfs('bench/read-src.bin')]);

const samples: Record<string, number[]> = {};
const add = (k: string, v: number): void => void (samples[k] ??= []).push(v);

for (let r = 0; r < RUNS; r++) {
  // Alternate who goes first so neither always meets a warm cache.
  const order = r % 2 === 0 ? ['libnfs', 'nfsvol'] : ['nfsvol', 'libnfs'];
  for (const who of order) {
    if (who === 'libnfs') {
      await rm(`${scratch}/out-libnfs`, { force: true }); // nfs-cp will not overwrite
      add('write-libnfs', (await timed(() => run('nfs-cp', [local, libnfs(`bench/libnfs-${r}.bin`)])))[0]);
      add(
        'read-libnfs',
        (await timed(() => run('nfs-cp', [libnfs('bench/read-src.bin'), `${scratch}/out-libnfs`])))[0],
      );
    } else {
      add(
        'write-nfsvol',
        (
          await timed(() =>
            pipeline(
              createReadStream(local, { highWaterMark: 1 << 20 }),
              nfs.createWriteStream(`bench/nfsvol-${r}.bin`),
            ),
          )
        )[0],
      );
      // Like nfs-cp: each chunk goes to the local file as it arrives.
      add('read-nfsvol', (await timed(() => copyToLocal('bench/read-src.bin', `${scratch}/out-nfsvol`)))[0]);
    }
  }
}

// A directory of 10,000 entries, made once, listed by both.
await nfs.mkdir('bench/dir10k');
const names = Array.from({ length: 10_000 }, (_, i) => `entry-${String(i).padStart(5, '0')}`);
await mapLimit(names, 64, (n) => nfs.writeFile(`bench/dir10k/${n}`, ''));
let listed = 0;
for (let r = 0; r < RUNS; r++) {
  const [tl, out] = await timed(() => run('nfs-ls', [libnfs('bench/dir10k')], { maxBuffer: 64 << 20 }));
  add('ls-libnfs', tl);
  listed = out.stdout.split('\n').filter((l) => l.includes('entry-')).length;
  add('ls-nfsvol', (await timed(() => nfs.readdir('bench/dir10k')))[0]);
}
const ours = (await nfs.readdir('bench/dir10k')).length;

for (let r = 0; r < RUNS; r++) {
  const dir = `bench/mkdir-${r}`;
  await nfs.mkdir(dir);
  const [t] = await timed(() =>
    mapLimit(
      Array.from({ length: 1000 }, (_, i) => i),
      64,
      (i) => nfs.mkdir(`${dir}/vol-${i}`, { mode: 0o770, uid: 1000 + i, gid: 1000 }),
    ),
  );
  add('mkdir-nfsvol', t);
}

const m = (k: string): number => median(samples[k]!);
const rows: Row[] = [
  {
    what: `write ${MB} MB`,
    ours: m('write-nfsvol'),
    baseline: m('write-libnfs'),
    baselineName: 'nfs-cp',
    target: 'ratio ≥ 1.0',
  },
  {
    what: `read ${MB} MB`,
    ours: m('read-nfsvol'),
    baseline: m('read-libnfs'),
    baselineName: 'nfs-cp',
    target: 'ratio ≥ 1.0',
  },
  {
    what: 'list 10,000 entries (with attributes)',
    ours: m('ls-nfsvol'),
    baseline: m('ls-libnfs'),
    baselineName: 'nfs-ls',
    target: 'ratio ≥ 1.0',
  },
  { what: 'create 1,000 directories with mode/uid/gid', ours: m('mkdir-nfsvol'), target: '< 1 s' },
];
const out = table(rows);
const detail = `Medians of ${RUNS} runs. nfs-ls listed ${listed} entries, nfsvol ${ours}. libnfs ${(await run('dpkg-query', ['-W', '-f=${Version}', 'libnfs13']).catch(() => ({ stdout: '?' }))).stdout} over NFSv3; nfsvol keeps 8 READ/WRITE calls of 1 MiB in flight. Samples (s): ${JSON.stringify(Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => +x.toFixed(3))])))}`;
console.log(out);
console.log(detail);
writeSection(
  'nfs-client',
  `npm run bench -- nfs-client${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
  `${out}\n\n${detail}\n`,
);
await nfs.rm('bench', { recursive: true });
await rm(scratch, { recursive: true, force: true });
