/**
 * Provisioning: 1,000 volumes (directory + registry record each) with ONE `nfsvol volume create`
 * process, against what a user scripts today: `ssh nfs-server mkdir -p /export/NAME` once per
 * volume. The "NFS server" the baseline logs into is a lab host with the export mounted by its
 * kernel NFS client at /export, so `mkdir -p` there makes the same directory on the same ganesha
 * export. The baseline runs --baseline-volumes (default 50) volumes per repetition and its
 * per-volume cost is extrapolated to the full count (it is one process per volume: linear).
 * Run: npm run bench -- provision [--runs 3] [--volumes 1000] [--baseline-volumes 50]
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startHosts, startNfsServer } from '../deploy/lab/index.js';
import { median, table, timed, writeSection, type Row } from './_report.js';
import { argNumber, benchArgs, benchUser, cliOk, load, names, samplesJson, sshCommand } from './_lab.js';

const RUNS = argNumber('runs', 3);
const VOLUMES = argNumber('volumes', 1000);
const BASE = argNumber('baseline-volumes', 50);

await using server = await startNfsServer();
const [host] = await startHosts(1);
if (!host) throw new Error('no lab host');
await using _host = host;
await host.check(['mkdir', '-p', '/export']);
await host.check([
  'mount',
  '-t',
  'nfs4',
  '-o',
  `vers=4.1,port=${server.nfsPort}`,
  '10.0.2.2:/export',
  '/export',
]);

const user = await benchUser();
await cliOk(user, ['init', server.url(3)]);

const samples: Record<string, number[]> = {};
const add = (k: string, v: number): void => void (samples[k] ??= []).push(v);
const loadBefore = load();

for (let r = 0; r < RUNS; r++) {
  const order = r % 2 === 0 ? ['baseline', 'nfsvol'] : ['nfsvol', 'baseline'];
  for (const who of order) {
    if (who === 'nfsvol') {
      const res = await cliOk(user, ['volume', 'create', '--quiet', ...names(`n${r}-`, VOLUMES)]);
      add('nfsvol', res.seconds);
      add('nfsvol-rss-mib', res.maxRssKiB / 1024);
    } else {
      const [t] = await timed(async () => {
        for (const n of names(`b${r}-`, BASE)) await sshCommand(host, `mkdir -p /export/${n}`);
      });
      add('baseline-per-volume', t / BASE);
    }
  }
}

// What a user would check: the directories are on the export, and one record per nfsvol volume.
const dirs = (await readdir(server.exportDir)).filter((n) => !n.startsWith('.'));
const records = (await readdir(join(server.exportDir, '.nfsvol', 'volumes'))).filter((n) =>
  n.endsWith('.json'),
);
const expectDirs = RUNS * (VOLUMES + BASE);
if (dirs.length !== expectDirs || records.length !== RUNS * VOLUMES) {
  throw new Error(
    `export holds ${dirs.length} directories (expected ${expectDirs}), ${records.length} records (expected ${RUNS * VOLUMES})`,
  );
}

const perVolume = median(samples['baseline-per-volume']!);
const ours = median(samples['nfsvol']!);
const rows: Row[] = [
  {
    what: `${VOLUMES.toLocaleString('en')} volumes, one \`nfsvol volume create\` process`,
    ours,
    baseline: perVolume * VOLUMES,
    baselineName: `\`ssh nfs-server mkdir -p\` per volume: ${(perVolume * 1000).toFixed(0)} ms × ${VOLUMES} (measured on ${BASE}, extrapolated)`,
    target: '< 2 s, ratio ≥ 100×',
  },
  {
    what: 'per volume',
    ours: (ours / VOLUMES) * 1000,
    baseline: perVolume * 1000,
    baselineName: 'ssh mkdir -p',
    unit: 'ms',
    target: '',
  },
];
const out = table(rows);
const detail = [
  `Medians of ${RUNS} runs, order alternated. nfsvol is the compiled CLI process end to end (start, read config, connect over NFSv3, ${VOLUMES} × MKDIR + EXCLUSIVE CREATE + WRITE of the record, exit), no hosts registered.`,
  `The baseline is the OpenSSH client, one process per volume, to a lab microVM whose kernel mounts the same export (NFSv4.1) at /export.`,
  `Checked after the runs: ${dirs.length} directories and ${records.length} records on the export.`,
  `Peak RSS of the CLI: ${median(samples['nfsvol-rss-mib']!).toFixed(0)} MiB. Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
  `Samples (s): ${samplesJson(samples)}`,
].join('\n');
console.log(out);
console.log(detail);
writeSection('provision', `npm run bench -- provision${benchArgs()}`, `${out}\n\n${detail}\n`);
