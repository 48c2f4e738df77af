/**
 * nfsvol's NFSv4.1 client beside its NFSv3 client on the same nfs-ganesha (the lab's, serving
 * both) and the same work: what provisioning does (directories with mode/uid/gid, registry-sized
 * records written, read and listed, a tree removed) and a large file streamed both ways.
 * Prints a table; it does not write BENCHMARKS.md.
 * Run: npm run bench -- nfs41 [--runs N] [--count N] [--mb N]
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { mapLimit } from '../driver/common/concurrency.js';
import { Nfs4Client, NfsClient, type NfsFs } from '../driver/nfs/index.js';
import { startNfsServer } from '../deploy/lab/index.js';
import { median, table, timed, type Row } from './_report.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg('runs', 3);
const COUNT = arg('count', 1000);
const MB = arg('mb', 64);
const CONCURRENCY = 32;

await using server = await startNfsServer();
const clients: [string, NfsFs][] = [
  ['NFSv3', await NfsClient.connect(server.url(3))],
  ['NFSv4.1', await Nfs4Client.connect(server.url(4.1))],
];

function source(size: number): Readable {
  const block = randomBytes(1 << 20);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(block.length, size - sent);
      sent += n;
      this.push(block.subarray(0, n));
    },
  });
}

const steps: [string, (nfs: NfsFs, dir: string) => Promise<unknown>][] = [
  [
    `mkdir ${COUNT} (mode, uid, gid)`,
    (nfs, dir) =>
      mapLimit(
        Array.from({ length: COUNT }, (_, i) => i),
        CONCURRENCY,
        (i) => nfs.mkdir(`${dir}/v${i}`, { mode: 0o770, uid: 1000, gid: 1000 }),
      ),
  ],
  [
    `stat ${COUNT}`,
    (nfs, dir) =>
      mapLimit(
        Array.from({ length: COUNT }, (_, i) => i),
        CONCURRENCY,
        (i) => nfs.stat(`${dir}/v${i}`),
      ),
  ],
  [
    `writeFile ${COUNT} x 300 B`,
    (nfs, dir) =>
      mapLimit(
        Array.from({ length: COUNT }, (_, i) => i),
        CONCURRENCY,
        (i) => nfs.writeFile(`${dir}/v${i}/record.json`, JSON.stringify({ i, pad: 'x'.repeat(280) })),
      ),
  ],
  [
    `readFile ${COUNT}`,
    (nfs, dir) =>
      mapLimit(
        Array.from({ length: COUNT }, (_, i) => i),
        CONCURRENCY,
        (i) => nfs.readFile(`${dir}/v${i}/record.json`),
      ),
  ],
  [`readdir ${COUNT}`, (nfs, dir) => nfs.readdir(dir)],
  [`rm -r (${COUNT} dirs, ${COUNT} files)`, (nfs, dir) => nfs.rm(dir, { recursive: true })],
  [`write ${MB} MB stream`, (nfs, dir) => pipeline(source(MB << 20), nfs.createWriteStream(`${dir}.bin`))],
  [
    `read ${MB} MB stream`,
    async (nfs, dir) => {
      await pipeline(nfs.createReadStream(`${dir}.bin`), createHash('sha256'));
      await nfs.rm(`${dir}.bin`);
    },
  ],
];

const results = new Map<string, number[]>();
for (let run = 0; run < RUNS; run++) {
  for (const [name, nfs] of clients) {
    const dir = `bench-${name}-${run}`;
    await nfs.mkdir(dir);
    for (const [step, fn] of steps) {
      const [ms] = await timed(() => fn(nfs, dir));
      const key = `${step}\0${name}`;
      results.set(key, [...(results.get(key) ?? []), ms]);
    }
  }
}
// "nfsvol" is the NFSv4.1 client, "baseline" the NFSv3 one: a ratio above 1 means 4.1 is faster.
const rows: Row[] = steps.map(([step]) => ({
  what: step,
  ours: median(results.get(`${step}\0NFSv4.1`) ?? []),
  baseline: median(results.get(`${step}\0NFSv3`) ?? []),
  baselineName: 'NFSv3 client',
}));
console.log(
  `NFSv4.1 client vs NFSv3 client: median of ${RUNS} runs, ${CONCURRENCY} calls in flight, lab ganesha on loopback`,
);
console.log(table(rows));
for (const [, nfs] of clients) await nfs.close();
