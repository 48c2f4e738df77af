/**
 * Listing: `nfsvol volume ls` with 10,000 volumes (against `ssh nfs-server ls /export`, the
 * user's way to see what is there today), and `nfsvol volume inspect` usage of a volume holding
 * 100,000 small files (against `ssh host du -s` through the kernel NFS client of a lab host,
 * its mount made fresh before each run so no cache answers).
 * Run: npm run bench -- listing [--runs 3] [--volumes 10000] [--files 100000]
 */
import { NfsClient } from '../driver/nfs/index.js';
import { mapLimit } from '../driver/concurrency.js';
import { startHosts, startNfsServer } from '../deploy/lab/index.js';
import { median, table, timed, writeSection, type Row } from './_report.js';
import { argNumber, benchArgs, benchUser, cliOk, load, names, samplesJson, sshCommand } from './_lab.js';

const RUNS = argNumber('runs', 3);
const VOLUMES = argNumber('volumes', 10_000);
const FILES = argNumber('files', 100_000);
const PER_DIR = 1000;

await using server = await startNfsServer();
const [host] = await startHosts(1);
if (!host) throw new Error('no lab host');
await using _host = host;
const mountArgs = [
  'mount',
  '-t',
  'nfs4',
  '-o',
  `vers=4.1,port=${server.nfsPort}`,
  '10.0.2.2:/export',
  '/export',
];
await host.check(['mkdir', '-p', '/export']);
await host.check(mountArgs);
const remount = async (): Promise<void> => {
  await host.check(['umount', '/export']);
  await host.check(mountArgs);
};

const user = await benchUser();
await cliOk(user, ['init', server.url(3)]);
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

const loadBefore = load();
let lsLines = 0;
let duOut = '';
let usage = { files: 0, directories: 0, bytes: 0 };
// `volume create` put its records into the listing cache: the first ls after it reads none.
const firstLs = await cliOk(user, ['volume', 'ls', '--verbose']);
await using admin = await NfsClient.connect(server.url(3));
for (let r = 0; r < RUNS; r++) {
  const order = r % 2 === 0 ? ['baseline', 'nfsvol'] : ['nfsvol', 'baseline'];
  for (const who of order) {
    if (who === 'nfsvol') {
      // No listing cache at all (as after a cache lost or written by an older nfsvol): every
      // record is read; this run writes the cache again.
      await admin.rm('.nfsvol/volumes.cache.jsonl');
      const cold = await cliOk(user, ['volume', 'ls', '--verbose']);
      if (!cold.stderr.includes(`${VOLUMES} record(s) read`)) throw new Error(`cold ls: ${cold.stderr}`);
      add('ls nfsvol no cache', cold.seconds);
      add('ls nfsvol no cache, peak RSS MiB', cold.maxRssKiB / 1024);
      const ls = await cliOk(user, ['volume', 'ls']);
      lsLines = ls.stdout.split('\n').filter(Boolean).length - 1;
      add('ls nfsvol', ls.seconds);
      const ins = await cliOk(user, ['volume', 'inspect', 'big', '--json']);
      usage = (JSON.parse(ins.stdout) as { usage: typeof usage }).usage;
      add('inspect nfsvol', ins.seconds);
    } else {
      add('ls baseline', (await timed(() => sshCommand(host, 'ls /export > /dev/null')))[0]);
      await remount();
      add('du baseline', (await timed(() => sshCommand(host, 'du -s /export/big > /tmp/du.txt')))[0]);
      duOut = (await host.check(['cat', '/tmp/du.txt'])).stdout.trim();
    }
  }
}
if (lsLines !== VOLUMES) throw new Error(`volume ls printed ${lsLines} volumes, expected ${VOLUMES}`);
if (usage.files !== FILES) throw new Error(`inspect counted ${usage.files} files, expected ${FILES}`);

const rows: Row[] = [
  {
    what: `\`volume ls\`, ${VOLUMES.toLocaleString('en')} volumes (listing cache validated)`,
    ours: median(samples['ls nfsvol']!),
    baseline: median(samples['ls baseline']!),
    baselineName: '`ssh nfs-server ls /export`',
    target: '< 1 s',
  },
  {
    what: `\`volume ls\`, ${VOLUMES.toLocaleString('en')} volumes, no listing cache (every record read)`,
    ours: median(samples['ls nfsvol no cache']!),
    baseline: median(samples['ls baseline']!),
    baselineName: '`ssh nfs-server ls /export`',
    target: '< 1 s',
  },
  {
    what: `first \`volume ls\` after the \`volume create\` of ${VOLUMES.toLocaleString('en')} volumes`,
    ours: firstLs.seconds,
    target: '< 1 s',
  },
  {
    what: `\`volume inspect\` usage, ${FILES.toLocaleString('en')} files`,
    ours: median(samples['inspect nfsvol']!),
    baseline: median(samples['du baseline']!),
    baselineName: '`ssh host du -s` on a fresh kernel NFS mount',
    target: 'ratio ≥ 1',
  },
];
const out = table(rows);
const detail = [
  `Medians of ${RUNS} runs, order alternated; every figure is a whole process (the compiled CLI, or the OpenSSH client) from start to exit. The CLI talks NFSv3 to ganesha over loopback; the lab host (qemu TCG microVM) mounts NFSv4.1.`,
  `Every \`volume ls\` validates each cache line against the record's READDIRPLUS attributes and reads (one READ by handle, 64 in flight) what does not match. The first one after the create said: \`${firstLs.stderr.trim().split('\n').pop() ?? ''}\` (peak RSS ${(firstLs.maxRssKiB / 1024).toFixed(0)} MiB); with no cache, peak RSS ${median(samples['ls nfsvol no cache, peak RSS MiB']!).toFixed(0)} MiB. Creating the ${VOLUMES - 1} volumes in one \`volume create\`: ${created.seconds.toFixed(1)} s. Filling ${FILES} files over NFS (64 in flight): ${fillSeconds.toFixed(1)} s.`,
  `Checked: \`volume ls\` printed ${lsLines} volumes; inspect counted ${usage.files} files, ${usage.directories} directories, ${usage.bytes} bytes; du printed \`${duOut}\`.`,
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
  `Samples (s): ${samplesJson(samples)}`,
].join('\n');
console.log(out);
console.log(detail);
writeSection('listing', `npm run bench -- listing${benchArgs()}`, `${out}\n\n${detail}\n`);
