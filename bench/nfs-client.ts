/**
 * nfsvol's NFS client against libnfs's nfs-cp and nfs-ls, side by side on the same nfs-ganesha
 * (the lab's) and the same files: 256 MB write and read, listing 10,000 entries, and creating
 * 1,000 directories with mode/uid/gid. What matches nfs-cp (a file copied between the export and
 * a local file) is `upload` and `download`; the streams (`createWriteStream` fed by a local file
 * stream, `createReadStream` into a local file) are shown too.
 * Run: npm run bench -- nfs-client [--runs N] [--mb N]
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

const execFileP = promisify(execFile);
// Children (nfs-cp spins when its server goes away) die with the bench on Ctrl-C.
const children = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    children.abort();
    process.exit(130);
  });
}
const run = (file: string, args: string[], options: { maxBuffer?: number } = {}) =>
  execFileP(file, args, { ...options, signal: children.signal });
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

/** The streaming API into a local file: each chunk written as it arrives. */
async function streamToLocal(from: string, to: string): Promise<void> {
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

// Reads first: see the note on the writes below.
const readers: Record<string, () => Promise<unknown>> = {
  'read-libnfs': () => run('nfs-cp', [libnfs('bench/read-src.bin'), `${scratch}/out-libnfs`]),
  // Like nfs-cp: the file on the export to a local file.
  'read-nfsvol': () => nfs.download('bench/read-src.bin', `${scratch}/out-nfsvol`),
  'stream-nfsvol': () => streamToLocal('bench/read-src.bin', `${scratch}/out-stream`),
};
const readerNames = Object.keys(readers);
for (let r = 0; r < RUNS; r++) {
  // Each reader goes first in turn.
  for (let i = 0; i < readerNames.length; i++) {
    const name = readerNames[(r + i) % readerNames.length]!;
    await rm(`${scratch}/out-libnfs`, { force: true }); // nfs-cp will not overwrite
    add(name, (await timed(readers[name]!))[0]);
  }
}

// Then the writes. They come after the reads for two reasons. A read right after a 256 MB
// write competes with that write's writeback on the server's disk (both read columns swung).
// And nfs-cp starts each copy in a fresh process, while nfsvol's reads would run in a process
// that has just allocated (and freed) gigabytes of 1 MiB chunks for the writes: V8 then runs
// full GCs during reads that allocate per chunk (the stream; 0.4 -> 0.8 s of CPU in a scratch
// run). Reading first gives both a process that has done nothing else.
for (let r = 0; r < RUNS; r++) {
  // Alternate who goes first so neither always meets a warm cache.
  const order = r % 2 === 0 ? ['libnfs', 'nfsvol'] : ['nfsvol', 'libnfs'];
  for (const who of order) {
    if (who === 'libnfs') {
      add('write-libnfs', (await timed(() => run('nfs-cp', [local, libnfs(`bench/libnfs-${r}.bin`)])))[0]);
    } else {
      add('write-nfsvol', (await timed(() => nfs.upload(local, `bench/nfsvol-${r}.bin`)))[0]);
      add(
        'wstream-nfsvol',
        (
          await timed(() =>
            pipeline(
              createReadStream(local, { highWaterMark: 1 << 20 }),
              nfs.createWriteStream(`bench/stream-${r}.bin`),
            ),
          )
        )[0],
      );
    }
  }
}
await run('sync', []); // the listings below should not compete with the writes' writeback

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
    what: `write ${MB} MB from a local file (upload)`,
    ours: m('write-nfsvol'),
    baseline: m('write-libnfs'),
    baselineName: 'nfs-cp',
    target: 'ratio ≥ 1.0',
  },
  {
    what: `write ${MB} MB through createWriteStream from a local file stream`,
    ours: m('wstream-nfsvol'),
    baseline: m('write-libnfs'),
    baselineName: 'nfs-cp',
  },
  {
    what: `read ${MB} MB to a local file (download)`,
    ours: m('read-nfsvol'),
    baseline: m('read-libnfs'),
    baselineName: 'nfs-cp',
    target: 'ratio ≥ 1.0',
  },
  {
    what: `read ${MB} MB through createReadStream into a local file`,
    ours: m('stream-nfsvol'),
    baseline: m('read-libnfs'),
    baselineName: 'nfs-cp',
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
const detail = `Medians of ${RUNS} runs. nfs-ls listed ${listed} entries, nfsvol ${ours}. libnfs ${(await run('dpkg-query', ['-W', '-f=${Version}', 'libnfs13']).catch(() => ({ stdout: '?' }))).stdout} over NFSv3; nfsvol's calls move 1 MiB each, 4 in flight for upload and download (their default), 8 for the streams; upload and download reuse one buffer per call in flight, the streams get a new buffer per chunk. Reads run before writes (see bench/nfs-client.ts), each reader first in turn; the server's disk is synced after the writes. Samples (s): ${JSON.stringify(Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => +x.toFixed(3))])))}`;
console.log(out);
console.log(detail);
writeSection(
  'nfs-client',
  `npm run bench -- nfs-client${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
  `${out}\n\n${detail}\n`,
);
await nfs.rm('bench', { recursive: true });
await rm(scratch, { recursive: true, force: true });
