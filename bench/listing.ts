/**
 * Listing: `nfsvol volume ls` with 10,000 volumes, and `nfsvol volume inspect` usage of a volume
 * holding 100,000 small files, against what a user runs by hand on the NAS, natively (an OpenSSH
 * sshd on 127.0.0.1 reading the exported directory: reads only, so ganesha's cache stays right):
 * `ssh nas ls /export` and `ssh nas du -s /export/big`, each with a new connection and over a
 * reused one (ControlMaster). With `--against REV`, REV's CLI runs the same steps in turns.
 * Run: npm run bench -- listing [--runs 3] [--volumes 10000] [--files 100000] [--against REV]
 */
import { NfsClient } from '../driver/nfs/index.js';
import { mapLimit } from '../driver/common/concurrency.js';
import { startNfsServer } from '../deploy/lab/index.js';
import { median, table, timed, writeSection, type Row } from './_report.js';
import { argNumber, benchArgs, benchUser, cliOk, load, names, samplesJson, type BenchUser } from './_lab.js';
import { cliVariants, inTurn } from './_cli.js';
import { shq, startLoopbackSshd } from './_sshd.js';

const RUNS = argNumber('runs', 3);
const VOLUMES = argNumber('volumes', 10_000);
const FILES = argNumber('files', 100_000);
const PER_DIR = 1000;

await using server = await startNfsServer();
await using sshd = await startLoopbackSshd();
const variants = await cliVariants();
const users = new Map<string, BenchUser>();
for (const v of variants) {
  const u = await benchUser(v.main);
  await cliOk(u, ['init', server.url(3)]);
  users.set(v.label, u);
}
const user = users.get('nfsvol')!;
const samples: Record<string, number[]> = {};
const add = (k: string, v: number): void => void (samples[k] ??= []).push(v);

const created = await cliOk(user, ['volume', 'create', '--quiet', ...names('vol-', VOLUMES - 1)]);
await cliOk(user, ['volume', 'create', 'big']);

// 100,000 small files in `big`, 1,000 per directory, written over NFS (not behind ganesha's back).
const [fillSeconds] = await timed(async () => {
  await using nfs = await NfsClient.connect(server.url(3));
  const dirs = Array.from({ length: Math.ceil(FILES / PER_DIR) }, (_, d) => d);
  for (const d of dirs) await nfs.mkdir(`big/d${d}`);
  await mapLimit(
    Array.from({ length: FILES }, (_, i) => i),
    64,
    (i) => nfs.writeFile(`big/d${Math.floor(i / PER_DIR)}/f${i}`, `file ${i}\n`),
  );
});
// What the du baseline is checked against: the files as the NAS itself counts them (untimed).
const found = Number((await sshd.ssh(`find ${shq(`${server.exportDir}/big`)} -type f | wc -l`)).trim());
if (found !== FILES) throw new Error(`find counted ${found} files in big, expected ${FILES}`);

const loadBefore = load();
let checks = 0;
const duOut: string[] = [];
// `volume create` put its records into the listing cache: the first ls after it reads none.
const firstLs = await cliOk(user, ['volume', 'ls', '--verbose']);
await using admin = await NfsClient.connect(server.url(3));
const lsCount = (stdout: string, header: number): number =>
  stdout.split('\n').filter(Boolean).length - header;
const expectCount = (what: string, got: number, want: number): void => {
  if (got !== want) throw new Error(`${what}: ${got}, expected ${want}`);
  checks++;
};
const exportDir = shq(server.exportDir);
const contenders = [...variants.map((v) => v.label), 'ssh', 'ssh-cm'];
for (let r = 0; r < RUNS; r++) {
  for (const who of inTurn(contenders, r)) {
    const u = users.get(who);
    if (u) {
      // No listing cache at all (as after a cache lost or written by an older nfsvol): every
      // record is read; this run writes the cache again.
      await admin.rm('.nfsvol/volumes.cache.jsonl');
      const cold = await cliOk(u, ['volume', 'ls', '--verbose']);
      if (!cold.stderr.includes(`${VOLUMES} record(s) read`)) throw new Error(`cold ls: ${cold.stderr}`);
      expectCount(`${who} volume ls (no cache) lines`, lsCount(cold.stdout, 1), VOLUMES);
      add(`${who} ls no cache`, cold.seconds);
      add(`${who} ls no cache, peak RSS MiB`, cold.maxRssKiB / 1024);
      const ls = await cliOk(u, ['volume', 'ls']);
      expectCount(`${who} volume ls lines`, lsCount(ls.stdout, 1), VOLUMES);
      add(`${who} ls`, ls.seconds);
      const ins = await cliOk(u, ['volume', 'inspect', 'big', '--json']);
      const usage = (JSON.parse(ins.stdout) as { usage: { files: number } }).usage;
      expectCount(`${who} inspect files`, usage.files, FILES);
      add(`${who} inspect`, ins.seconds);
    } else {
      const control = who === 'ssh-cm';
      // The reused connection is open before the timed command, as it would be for a user.
      if (control) await sshd.ssh('true', { control });
      const [tl, out] = await timed(() => sshd.ssh(`ls ${exportDir}`, { control }));
      expectCount(`${who} ls lines`, lsCount(out, 0), VOLUMES);
      add(`${who} ls`, tl);
      const [td, du] = await timed(() => sshd.ssh(`du -s ${exportDir}/big`, { control }));
      if (!/^\d+\s/.test(du)) throw new Error(`du printed ${du}`);
      checks++;
      duOut.push(du.trim().split(/\s/)[0]!);
      add(`${who} du`, td);
      if (control) await sshd.closeMaster();
    }
  }
}

const m = (k: string): number => median(samples[k]!);
const rows: Row[] = [];
const n = VOLUMES.toLocaleString('en');
for (const [key, what, target] of [
  ['ls', `\`volume ls\`, ${n} volumes (listing cache validated)`, 1],
  ['ls no cache', `\`volume ls\`, ${n} volumes, no listing cache (every record read)`, 1],
] as const) {
  rows.push({
    what,
    ours: m(`nfsvol ${key}`),
    target: `< ${target} s`,
    targetMet: m(`nfsvol ${key}`) < target,
  });
  rows.push({
    what,
    ours: m(`nfsvol ${key}`),
    baseline: m('ssh ls'),
    baselineName: '`ssh nas ls /export`, new connection',
  });
  rows.push({
    what,
    ours: m(`nfsvol ${key}`),
    baseline: m('ssh-cm ls'),
    baselineName: '`ssh nas ls /export`, reused connection',
  });
}
rows.push({
  what: `first \`volume ls\` after the \`volume create\` of ${n} volumes (one run)`,
  ours: firstLs.seconds,
  target: '< 1 s',
  targetMet: firstLs.seconds < 1,
});
const inspect = `\`volume inspect\` usage, ${FILES.toLocaleString('en')} files`;
rows.push({
  what: inspect,
  ours: m('nfsvol inspect'),
  baseline: m('ssh du'),
  baselineName: '`ssh nas du -s /export/big`, new connection',
});
rows.push({
  what: inspect,
  ours: m('nfsvol inspect'),
  baseline: m('ssh-cm du'),
  baselineName: '`ssh nas du -s /export/big`, reused connection',
});
for (const v of variants.slice(1)) {
  for (const key of ['ls', 'ls no cache', 'inspect']) {
    const ours = m(`nfsvol ${key}`);
    const theirs = m(`${v.label} ${key}`);
    rows.push({
      what: `${key}: this tree against ${v.label}`,
      ours,
      baseline: theirs,
      baselineName: v.label,
      target: 'no more than 10% slower',
      targetMet: ours <= theirs * 1.1,
    });
  }
}
const out = table(rows);
const detail = [
  `What ran: ${RUNS} runs, the contenders in turns (the order reversed on every other run); every figure is a whole process (the bundled CLI, or the OpenSSH client) from start to exit, and every one was checked: ${checks} checks passed (\`volume ls\` and \`ls\` each listed ${VOLUMES} volumes, \`inspect\` counted ${FILES} files, \`du\` printed a size: ${[...new Set(duOut)].join(', ')} KiB; \`find\` on the NAS counted ${found} files).`,
  `The CLI talks NFSv3 to ganesha (in its container) over loopback; \`ls\` and \`du\` run natively in the exported directory through an sshd on 127.0.0.1, so they read the NAS's own disk and page cache, which stays warm between runs; the reused connection was opened before its timed commands.`,
  `Every \`volume ls\` validates each cache line against the record's READDIRPLUS attributes and reads what does not match. The first one after the create said: \`${firstLs.stderr.trim().split('\n').pop() ?? ''}\` (peak RSS ${(firstLs.maxRssKiB / 1024).toFixed(0)} MiB); with no cache, peak RSS ${m('nfsvol ls no cache, peak RSS MiB').toFixed(0)} MiB. Not timed against anything: creating the ${VOLUMES - 1} volumes in one \`volume create\`: ${created.seconds.toFixed(1)} s; filling ${FILES} files over NFS (64 in flight): ${fillSeconds.toFixed(1)} s.`,
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
  `Samples (s): ${samplesJson(Object.fromEntries(Object.entries(samples).filter(([k]) => !k.includes('RSS'))))}`,
].join('\n');
console.log(out);
console.log(detail);
writeSection('listing', `npm run bench -- listing${benchArgs()}`, `${out}\n\n${detail}\n`);
