/**
 * nfsvol's NFS client against libnfs's nfs-cp and nfs-ls, side by side on the same nfs-ganesha
 * (the lab's) and the same files: 256 MB write and read, listing 10,000 entries, and creating
 * 1,000 directories with mode/uid/gid. What matches nfs-cp (a file copied between the export and
 * a local file) is `upload` and `download`; the streams (`createWriteStream` fed by a local file
 * stream, `createReadStream` into a local file) are shown too. nfsvol's side runs as a process per
 * operation too (bench/_nfs-op.ts, bundled), so both pay start, mount and connect; every copy is
 * checked against the source's SHA-256 and every listing's count against what was made.
 * With `--against REV`, REV's bench/_nfs-op.ts (REV's client) runs the same downloads, uploads and
 * listings in turns, so one run shows whether this tree's client got slower.
 * Run: npm run bench -- nfs-client [--runs N] [--mb N] [--against REV]
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mapLimit } from '../driver/common/concurrency.js';
import { NfsClient } from '../driver/nfs/index.js';
import { startNfsServer } from '../deploy/lab/index.js';
import { median, table, timed, writeSection, type Row } from './_report.js';
import { load } from './_lab.js';
import { argString } from './_cli.js';

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

// nfsvol's operations as processes: a bundle of bench/_nfs-op.ts, built once (and REV's).
const opDir = await mkdtemp(join(tmpdir(), 'nfsvol-bench-op-'));
const esbuild = fileURLToPath(new URL('../node_modules/.bin/esbuild', import.meta.url));
async function bundleOp(entry: string, outfile: string, cwd?: string): Promise<void> {
  await run(esbuild, [
    entry,
    ...['--bundle', '--platform=node', '--format=esm', '--target=node20', '--external:ssh2'],
    ...['--log-level=warning', `--outfile=${outfile}`],
  ]).catch((err: unknown) => {
    throw new Error(`bundling ${entry}${cwd ? ` in ${cwd}` : ''}: ${String(err)}`);
  });
}
const opMain = join(opDir, 'nfs-op.mjs');
await bundleOp(fileURLToPath(new URL('./_nfs-op.ts', import.meta.url)), opMain);
const AGAINST = argString('against');
const theirs = AGAINST ? `nfsvol@${AGAINST}` : undefined;
let theirMain: string | undefined;
if (AGAINST) {
  // REV's tree from `git archive` (no worktree or ref left behind), bundled the same way.
  const root = fileURLToPath(new URL('../', import.meta.url));
  const src = join(opDir, 'src');
  await mkdir(src);
  await run('sh', ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'sh', root, AGAINST, src]);
  await symlink(join(root, 'node_modules'), join(src, 'node_modules'));
  theirMain = join(opDir, 'nfs-op-theirs.mjs');
  await bundleOp(join(src, 'bench', '_nfs-op.ts'), theirMain, src);
}
const op = (...args: string[]) =>
  run(process.execPath, [opMain, `nfs://127.0.0.1/export?${q}`, ...args], { maxBuffer: 64 << 20 });
const opTheirs = (...args: string[]) =>
  run(process.execPath, [theirMain!, `nfs://127.0.0.1/export?${q}`, ...args], { maxBuffer: 64 << 20 });

const sha256 = (file: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
const want = await sha256(local);
let checks = 0;
/** A copy is right when its bytes hash like the source's (the export's files read, never written). */
async function checkCopy(file: string): Promise<void> {
  const got = await sha256(file);
  if (got !== want) throw new Error(`${file}: sha256 ${got}, expected ${want}`);
  checks++;
}

// Both clients read the same file, written once by nfs-cp and warm in the server's cache.
await run('nfs-cp', [local, libnfs('bench/read-src.bin')]);
await checkCopy(join(server.exportDir, 'bench/read-src.bin'));

const samples: Record<string, number[]> = {};
const add = (k: string, v: number): void => void (samples[k] ??= []).push(v);
const loadBefore = load();

// Reads first: see the note on the writes below.
const readers: Record<string, string[]> = {
  'read-libnfs': ['nfs-cp', libnfs('bench/read-src.bin'), `${scratch}/out-libnfs`],
  // Like nfs-cp: the file on the export to a local file.
  'read-nfsvol': ['download', 'bench/read-src.bin', `${scratch}/out-nfsvol`],
  'stream-nfsvol': ['rstream', 'bench/read-src.bin', `${scratch}/out-stream`],
  ...(theirs ? { 'read-theirs': ['download', 'bench/read-src.bin', `${scratch}/out-theirs`] } : {}),
};
const readerNames = Object.keys(readers);
for (let r = 0; r < RUNS; r++) {
  // Each reader goes first in turn.
  for (let i = 0; i < readerNames.length; i++) {
    const name = readerNames[(r + i) % readerNames.length]!;
    const [first, ...rest] = readers[name]!;
    const out = rest[rest.length - 1]!;
    await rm(out, { force: true }); // nfs-cp will not overwrite
    const go =
      first === 'nfs-cp'
        ? () => run('nfs-cp', rest)
        : name === 'read-theirs'
          ? () => opTheirs(first!, ...rest)
          : () => op(first!, ...rest);
    add(name, (await timed(go))[0]);
    await checkCopy(out);
    await rm(out, { force: true });
  }
}

// Then the writes. They come after the reads: a read right after a 256 MB write competes with
// that write's writeback on the server's disk (both read columns swung).
for (let r = 0; r < RUNS; r++) {
  // Alternate who goes first so neither always meets a warm cache.
  const order = [
    ...(r % 2 === 0 ? ['libnfs', 'nfsvol'] : ['nfsvol', 'libnfs']),
    ...(theirs ? ['theirs'] : []),
  ];
  if (theirs && r % 2 === 1) order.reverse();
  for (const who of order) {
    if (who === 'theirs') {
      add('write-theirs', (await timed(() => opTheirs('upload', local, `bench/theirs-${r}.bin`)))[0]);
      await checkCopy(join(server.exportDir, `bench/theirs-${r}.bin`));
    } else if (who === 'libnfs') {
      add('write-libnfs', (await timed(() => run('nfs-cp', [local, libnfs(`bench/libnfs-${r}.bin`)])))[0]);
      await checkCopy(join(server.exportDir, `bench/libnfs-${r}.bin`));
    } else {
      add('write-nfsvol', (await timed(() => op('upload', local, `bench/nfsvol-${r}.bin`)))[0]);
      await checkCopy(join(server.exportDir, `bench/nfsvol-${r}.bin`));
      add('wstream-nfsvol', (await timed(() => op('wstream', local, `bench/stream-${r}.bin`)))[0]);
      await checkCopy(join(server.exportDir, `bench/stream-${r}.bin`));
    }
  }
}
await run('sync', []); // the listings below should not compete with the writes' writeback

// A directory of 10,000 entries, made once, listed by both.
await nfs.mkdir('bench/dir10k');
const names = Array.from({ length: 10_000 }, (_, i) => `entry-${String(i).padStart(5, '0')}`);
await mapLimit(names, 64, (n) => nfs.writeFile(`bench/dir10k/${n}`, ''));
const entries = (stdout: string): number => stdout.split('\n').filter((l) => l.includes('entry-')).length;
let listed = 0;
let ours = 0;
for (let r = 0; r < RUNS; r++) {
  const order = [
    ...(r % 2 === 0 ? ['libnfs', 'nfsvol'] : ['nfsvol', 'libnfs']),
    ...(theirs ? ['theirs'] : []),
  ];
  if (theirs && r % 2 === 1) order.reverse();
  for (const who of order) {
    const [tl, out] = await timed(() =>
      who === 'libnfs'
        ? run('nfs-ls', [libnfs('bench/dir10k')], { maxBuffer: 64 << 20 })
        : who === 'theirs'
          ? opTheirs('ls', 'bench/dir10k')
          : op('ls', 'bench/dir10k'),
    );
    add(`ls-${who}`, tl);
    if (who === 'libnfs') listed = entries(out.stdout);
    else if (who === 'nfsvol') ours = entries(out.stdout);
    if (entries(out.stdout) !== names.length) throw new Error(`${who} listed ${entries(out.stdout)} entries`);
    checks++;
  }
}

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
    targetMet: m('write-libnfs') >= m('write-nfsvol'),
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
    targetMet: m('read-libnfs') >= m('read-nfsvol'),
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
    targetMet: m('ls-libnfs') >= m('ls-nfsvol'),
  },
  {
    what: 'create 1,000 directories with mode/uid/gid (in process, connected; no baseline)',
    ours: m('mkdir-nfsvol'),
    target: '< 1 s',
    targetMet: m('mkdir-nfsvol') < 1,
  },
  ...(theirs
    ? (
        [
          ['read-nfsvol', 'read-theirs', `read ${MB} MB to a local file (download)`],
          ['write-nfsvol', 'write-theirs', `write ${MB} MB from a local file (upload)`],
          ['ls-nfsvol', 'ls-theirs', 'list 10,000 entries (with attributes)'],
        ] as const
      ).map(([o, t, what]) => ({
        what: `${what}: this tree against ${theirs}`,
        ours: m(o),
        baseline: m(t),
        baselineName: theirs,
        target: 'no more than 10% slower',
        targetMet: m(o) <= m(t) * 1.1,
      }))
    : []),
];
const out = table(rows);
const detail = `Medians of ${RUNS} runs; every figure but the last row is a process from start to exit (nfs-cp and nfs-ls; nfsvol's client as bench/_nfs-op.ts, bundled), each followed by a check: ${checks} passed (every copy's SHA-256 equal to the source's; nfs-ls listed ${listed} entries, nfsvol ${ours}). Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}. libnfs ${(await run('dpkg-query', ['-W', '-f=${Version}', 'libnfs13']).catch(() => ({ stdout: '?' }))).stdout} over NFSv3; nfsvol's calls move 1 MiB each, 4 in flight for upload and download (their default), 8 for the streams; upload and download reuse one buffer per call in flight, the streams get a new buffer per chunk. Reads run before writes, each reader first in turn; the server's disk is synced after the writes. Samples (s): ${JSON.stringify(Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => +x.toFixed(3))])))}`;
console.log(out);
console.log(detail);
writeSection(
  'nfs-client',
  `npm run bench -- nfs-client${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
  `${out}\n\n${detail}\n`,
);
await nfs.rm('bench', { recursive: true });
await rm(scratch, { recursive: true, force: true });
await rm(opDir, { recursive: true, force: true });
