/**
 * Memory: peak RSS (GNU time %M) of the CLI process for provisioning (one `volume create` of
 * 1k, 10k, 30k volumes, the names in a file given with --from) and listing (`volume ls` of 1k, 11k, 41k volumes, the registry as it grows;
 * each both with the listing cache removed and with a warm one). The baseline column is the CLI's own RSS
 * at the smallest size: the ratio shows how flat it stays.
 * Run: npm run bench -- memory [--sizes 1000,10000,30000]
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NfsClient } from '../driver/nfs/index.js';
import { startNfsServer } from '../deploy/lab/index.js';
import { table, writeSection, type Row } from './_report.js';
import { benchArgs, benchUser, cliOk, load, names } from './_lab.js';

const i = process.argv.indexOf('--sizes');
const SIZES = (i > 0 ? (process.argv[i + 1] ?? '') : '1000,10000,30000').split(',').map(Number);

// Every CLI run also reports its largest live heap (see _heap.mjs); it forces no GC.
process.env.NODE_OPTIONS = `--import ${pathToFileURL(fileURLToPath(new URL('./_heap.mjs', import.meta.url))).href}`;
const liveMiB = (r: { stderr: string }): number => {
  const m = /nfsvol-bench-heap: max-live (\d+)/.exec(r.stderr);
  return m ? Number(m[1]) / 1048576 : Number.NaN;
};

await using server = await startNfsServer();
const user = await benchUser();
await cliOk(user, ['init', server.url(3)]);
await using admin = await NfsClient.connect(server.url(3));
const loadBefore = load();
const idle = await cliOk(user, ['volume', 'ls']);

const mib = (kib: number): number => kib / 1024;
const create: { n: number; rss: number; live: number; s: number }[] = [];
const lsCold: { n: number; rss: number; live: number; s: number }[] = [];
const lsWarm: { n: number; rss: number; live: number; s: number }[] = [];
let total = 0;
for (const [k, n] of SIZES.entries()) {
  // A file, as a user creating thousands would: argv that long is slow to parse (yargs).
  const list = join(user.home, `names-${k}.txt`);
  await writeFile(list, names(`m${k}-`, n).join('\n'));
  const c = await cliOk(user, ['volume', 'create', '--quiet', '--from', list]);
  create.push({ n, rss: mib(c.maxRssKiB), live: liveMiB(c), s: c.seconds });
  total += n;
  // With the listing cache removed, this ls reads every record (and writes the cache again).
  await admin.rm('.nfsvol/volumes.cache.jsonl').catch(() => undefined);
  const cold = await cliOk(user, ['volume', 'ls', '--json']);
  const listed = (JSON.parse(cold.stdout) as unknown[]).length;
  if (listed !== total) throw new Error(`ls listed ${listed}, expected ${total}`);
  lsCold.push({ n: total, rss: mib(cold.maxRssKiB), live: liveMiB(cold), s: cold.seconds });
  const warm = await cliOk(user, ['volume', 'ls', '--json']);
  lsWarm.push({ n: total, rss: mib(warm.maxRssKiB), live: liveMiB(warm), s: warm.seconds });
}

const rowsOf = (what: string, xs: { n: number; rss: number }[]): Row[] =>
  xs.map((x) => ({
    what: `${what}, ${x.n.toLocaleString('en')} volumes`,
    ours: x.rss,
    baseline: xs[0]!.rss,
    baselineName: `the same at ${xs[0]!.n.toLocaleString('en')}`,
    unit: 'MiB',
    target: 'flat (ratio ≈ 1)',
  }));
const rows: Row[] = [
  ...rowsOf('`volume create` peak RSS', create),
  ...rowsOf('`volume ls --json` peak RSS, no listing cache', lsCold),
  ...rowsOf('`volume ls --json` peak RSS, cached', lsWarm),
];
const out = table(rows).replace('ratio (baseline / nfsvol)', 'ratio (smallest / this)');
const detail = [
  `Peak RSS of the compiled CLI process (GNU time %M), one run per size. \`volume ls\` with an empty registry: ${mib(idle.maxRssKiB).toFixed(0)} MiB (Node itself and the CLI's modules).`,
  `Largest live heap (V8 heap in use right after a full GC, in the same runs; what the process holds, without the garbage not yet collected) in MiB: create ${create.map((x) => `${x.n}: ${x.live.toFixed(1)}`).join(', ')}; ls without cache ${lsCold.map((x) => `${x.n}: ${x.live.toFixed(1)}`).join(', ')}; ls cached ${lsWarm.map((x) => `${x.n}: ${x.live.toFixed(1)}`).join(', ')}.`,
  `Wall times (s): create ${create.map((x) => `${x.n}: ${x.s.toFixed(2)}`).join(', ')}; ls without cache ${lsCold.map((x) => `${x.n}: ${x.s.toFixed(2)}`).join(', ')}; ls cached ${lsWarm.map((x) => `${x.n}: ${x.s.toFixed(2)}`).join(', ')}.`,
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
].join('\n');
console.log(out);
console.log(detail);
writeSection('memory', `npm run bench -- memory${benchArgs()}`, `${out}\n\n${detail}\n`);
