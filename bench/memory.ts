/**
 * Memory: peak RSS (GNU time %M) of the CLI process for provisioning (one `volume create` of
 * 1k, 10k, 30k volumes, the names in a file given with --from) and listing (`volume ls` of 1k, 11k, 41k volumes, the registry as it grows;
 * each both with the listing cache removed and with a warm one). The baseline column is the CLI's own RSS
 * at the smallest size: the ratio shows how flat it stays. Then, at the largest size, the CLI as
 * shipped beside the same CLI with V8's default heap sizing (see cli/heap.ts), twice each.
 * Run: npm run bench -- memory [--sizes 1000,10000,30000]
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NfsClient } from '../driver/nfs/index.js';
import { startNfsServer } from '../deploy/lab/index.js';
import { median, table, writeSection, type Row } from './_report.js';
import {
  argNumber,
  benchArgs,
  benchUser,
  cliOk,
  load,
  names,
  type BenchUser,
  type CliRun,
  type RunOptions,
} from './_lab.js';

const RUNS = argNumber('runs', 3);
const i = process.argv.indexOf('--sizes');
const SIZES = (i > 0 ? (process.argv[i + 1] ?? '') : '1000,10000,30000').split(',').map(Number);

// Every CLI run also reports its largest live heap (see _heap.mjs); it forces no GC.
process.env.NODE_OPTIONS = `--import ${pathToFileURL(fileURLToPath(new URL('./_heap.mjs', import.meta.url))).href}`;
const liveMiB = (r: { stderr: string }): number => {
  const m = /nfsvol-bench-heap: max-live (\d+)/.exec(r.stderr);
  return m ? Number(m[1]) / 1048576 : Number.NaN;
};

const mib = (kib: number): number => kib / 1024;
interface Point {
  n: number;
  rss: number;
  live: number;
  s: number;
}
const point = (n: number, r: CliRun): Point => ({ n, rss: mib(r.maxRssKiB), live: liveMiB(r), s: r.seconds });
const create: Point[] = [];
const lsCold: Point[] = [];
const lsWarm: Point[] = [];
const loadBefore = load();
let idle: CliRun | undefined;

/** `volume ls --json`, with the listing cache removed first when `cold`; checks the count. */
async function ls(
  u: BenchUser,
  admin: NfsClient,
  total: number,
  cold: boolean,
  opts: RunOptions = {},
): Promise<CliRun> {
  // With the listing cache removed, this ls reads every record (and writes the cache again).
  if (cold) await admin.rm('.nfsvol/volumes.cache.jsonl').catch(() => undefined);
  const r = await cliOk(u, ['volume', 'ls', '--json'], 0, opts);
  const listed = (JSON.parse(r.stdout) as unknown[]).length;
  if (listed !== total) throw new Error(`ls listed ${listed}, expected ${total}`);
  return r;
}

// The registry grown through every size, RUNS times, each time on a fresh export.
for (let run = 0; run < RUNS; run++) {
  await using server = await startNfsServer();
  const u = await benchUser();
  await cliOk(u, ['init', server.url(3)]);
  await using admin = await NfsClient.connect(server.url(3));
  idle = await cliOk(u, ['volume', 'ls']);
  let total = 0;
  for (const [k, n] of SIZES.entries()) {
    // A file, as a user creating thousands would: argv that long is slow to parse (yargs).
    const list = join(u.home, `names-${k}.txt`);
    await writeFile(list, names(`m${k}-`, n).join('\n'));
    create.push(point(n, await cliOk(u, ['volume', 'create', '--quiet', '--from', list])));
    total += n;
    lsCold.push(point(total, await ls(u, admin, total, true)));
    lsWarm.push(point(total, await ls(u, admin, total, false)));
  }
}

// Side by side at the largest size: the CLI with V8's default heap sizing (node's own flags win
// over the CLI's, see cli/heap.ts) against the CLI as shipped. Each create on a fresh export, in
// the order defaults, shipped, shipped, defaults; on each, the listings both ways in turns.
const largest = SIZES[SIZES.length - 1]!;
const V8_DEFAULTS = ['--semi-space-growth-factor=2', '--heap-growing-percent=0'];
type Who = 'ours' | 'defaults';
// Without the live-heap probe: it costs a little at every GC, and the CLI's small young
// generation means many more GCs, so it would tilt the times against the CLI as shipped.
delete process.env.NODE_OPTIONS;
const samples = (): Record<'create' | 'lsCold' | 'lsWarm', Point[]> => ({
  create: [],
  lsCold: [],
  lsWarm: [],
});
const side: Record<Who, ReturnType<typeof samples>> = { ours: samples(), defaults: samples() };
const as = (who: Who): RunOptions => (who === 'defaults' ? { nodeArgs: V8_DEFAULTS } : {});
for (const [round, who] of (['defaults', 'ours', 'ours', 'defaults'] as const).entries()) {
  await using server = await startNfsServer();
  const other = await benchUser();
  await cliOk(other, ['init', server.url(3)]);
  await using admin = await NfsClient.connect(server.url(3));
  const list = join(other.home, 'names.txt');
  await writeFile(list, names(`d${round}-`, largest).join('\n'));
  side[who].create.push(
    point(largest, await cliOk(other, ['volume', 'create', '--quiet', '--from', list], 0, as(who))),
  );
  const lsAs = async (cold: boolean, w: Who): Promise<void> => {
    side[w][cold ? 'lsCold' : 'lsWarm'].push(point(largest, await ls(other, admin, largest, cold, as(w))));
  };
  const [a, b]: Who[] = round % 2 ? ['ours', 'defaults'] : ['defaults', 'ours'];
  await lsAs(true, a!);
  await lsAs(true, b!);
  await lsAs(false, b!);
  await lsAs(false, a!);
}
const mid = (xs: Point[]): Point => ({
  n: largest,
  rss: median(xs.map((x) => x.rss)),
  live: median(xs.map((x) => x.live)),
  s: median(xs.map((x) => x.s)),
});

/** Peak RSS grouped by size: median, min and max over the runs. */
const bySize = (xs: readonly Point[]): { n: number; rss: number[] }[] =>
  [...new Set(xs.map((x) => x.n))].map((n) => ({ n, rss: xs.filter((x) => x.n === n).map((x) => x.rss) }));
// "Flat": peak RSS at a size no more than 10% above the smallest size's (medians).
const FLAT = 1.1;
const growth = (what: string, xs: readonly Point[]): string[] => {
  const g = bySize(xs);
  const base = median(g[0]!.rss);
  return g.map(({ n, rss }) => {
    const med = median(rss);
    const ratio = med / base;
    const met = ratio <= FLAT ? 'met' : '**MISSED**';
    return `| ${what}, ${n.toLocaleString('en')} volumes | ${med.toFixed(1)} MiB (${Math.min(...rss).toFixed(1)}–${Math.max(...rss).toFixed(1)}) | ${ratio.toFixed(2)}× | flat: ≤ ${FLAT.toFixed(2)}× (${met}) |`;
  });
};
const lastRun = (xs: readonly Point[]): Point[] => xs.slice(-SIZES.length);
const growthTable = [
  `| what | peak RSS, median of ${RUNS} runs (min–max) | against the smallest size | target |`,
  '| --- | --- | --- | --- |',
  ...growth('`volume create`', create),
  ...growth('`volume ls --json`, no listing cache', lsCold),
  ...growth('`volume ls --json`, cached', lsWarm),
].join('\n');
const at = `${largest.toLocaleString('en')} volumes`;
const sizing = (what: string, ours: Point, defaults: Point): Row => ({
  what,
  ours: ours.rss,
  baseline: defaults.rss,
  baselineName: "V8's default heap sizing",
  unit: 'MiB',
  target: '',
});
const kinds = [
  ['create', '`volume create`'],
  ['lsCold', '`volume ls --json`, no listing cache,'],
  ['lsWarm', '`volume ls --json`, cached,'],
] as const;
const sideRows: Row[] = kinds.map(([k, what]) =>
  sizing(`${what} peak RSS, ${at}`, mid(side.ours[k]), mid(side.defaults[k])),
);
const out = [
  growthTable,
  `The CLI's heap sizing (cli/heap.ts) against V8's defaults, at ${at}: medians of 2 creates each (each on a fresh export, in the order defaults, shipped, shipped, defaults) and of 4 listings each (both ways in turns on each of those registries), run without the live-heap probe:`,
  table(sideRows),
].join('\n\n');
const detail = [
  `Peak RSS of the compiled CLI process (GNU time %M); the registry grown through the sizes ${RUNS} times, each on a fresh export; the figures below are from the last of those runs. \`volume ls\` with an empty registry: ${mib(idle?.maxRssKiB ?? Number.NaN).toFixed(0)} MiB (Node itself and the CLI's modules).`,
  `Largest live heap (V8 heap in use right after a full GC, in the same runs; what the process holds, without the garbage not yet collected) in MiB: create ${lastRun(
    create,
  )
    .map((x) => `${x.n}: ${x.live.toFixed(1)}`)
    .join(', ')}; ls without cache ${lastRun(lsCold)
    .map((x) => `${x.n}: ${x.live.toFixed(1)}`)
    .join(', ')}; ls cached ${lastRun(lsWarm)
    .map((x) => `${x.n}: ${x.live.toFixed(1)}`)
    .join(', ')}.`,
  `Wall times (s): create ${lastRun(create)
    .map((x) => `${x.n}: ${x.s.toFixed(2)}`)
    .join(', ')}; ls without cache ${lastRun(lsCold)
    .map((x) => `${x.n}: ${x.s.toFixed(2)}`)
    .join(', ')}; ls cached ${lastRun(lsWarm)
    .map((x) => `${x.n}: ${x.s.toFixed(2)}`)
    .join(', ')}.`,
  `Wall times (s), medians, V8's defaults vs as shipped, ${at}: ${kinds.map(([k]) => `${k} ${mid(side.defaults[k]).s.toFixed(2)} vs ${mid(side.ours[k]).s.toFixed(2)}`).join('; ')}. Samples (peak RSS MiB / s): ${JSON.stringify(Object.fromEntries((['defaults', 'ours'] as const).map((w) => [w, Object.fromEntries(kinds.map(([k]) => [k, side[w][k].map((x) => `${x.rss.toFixed(1)}/${x.s.toFixed(2)}`)]))])))}.`,
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
].join('\n');
console.log(out);
console.log(detail);
writeSection('memory', `npm run bench -- memory${benchArgs()}`, `${out}\n\n${detail}\n`);
