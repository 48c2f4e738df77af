/**
 * The Docker volume plugin against what a user does without it, on one lab host.
 *
 * 1. Per-container start: `docker run --rm -v VOL:/data busybox true` with VOL a plugin volume
 *    (`-d nfsvol`: dockerd asks `nfsvol plugin serve` to Mount and Unmount it) against the same
 *    export directory defined by hand as a `local` NFS volume (what the SSH mode defines). Timed
 *    inside the VM by a shell loop (date +%s%N around each run), so SSH is not counted, the two in
 *    turns (A B, then B A, ...) in the same loop because the machine is shared and noisy.
 * 2. Making 100 volumes: `docker volume create -d nfsvol NAME` 100 times in a shell loop on the
 *    host (timed inside the VM) against one `nfsvol volume create` of 100 names from this machine
 *    (the CLI process, end to end). Each run is checked from both sides: `nfsvol volume ls` here
 *    and `docker volume ls` (the plugin's List) on the host list all 100.
 * Run: npm run bench -- plugin [--runs 20] [--create-runs 2] [--boot-timeout 600]
 */
import { startHosts, startNfsServer } from '../deploy/lab/index.js';
import { startLabPlugin } from '../test/support/lab-plugin.js';
import { median, quantile, table, writeSection, type Row } from './_report.js';
import { argNumber, benchArgs, benchUser, cliOk, hostAddArgs, load, names, samplesJson } from './_lab.js';
import { inTurn } from './_cli.js';

const RUNS = argNumber('runs', 20);
const CREATE_RUNS = argNumber('create-runs', 2);
const CREATES = 100;
// Long enough for a whole loop of container starts on an emulated, loaded VM.
const LOOP_TIMEOUT_MS = 3_600_000;

const server = await startNfsServer();
await using _server = server;
// A loaded 2-core machine can take minutes to boot an emulated VM: wait longer than the lab's default.
const [host] = await startHosts(1, { bootTimeoutMs: argNumber('boot-timeout', 600) * 1000 });
await using _host = host!;
const h = host!;

const user = await benchUser();
await cliOk(user, ['init', server.url(4.1)]);
await cliOk(user, await hostAddArgs(user, 'h1', h));
await startLabPlugin(h, 'h1', user.config);
const loadBefore = load();
const samples: Record<string, number[]> = {};
const add = (k: string, v: number): void => void (samples[k] ??= []).push(v);

// --- 1. per-container start -------------------------------------------------------------
const PLUGIN_VOL = 'bp-start';
const LOCAL_VOL = 'bp-start-local';
await h.check(['docker', 'volume', 'create', '-d', 'nfsvol', PLUGIN_VOL]);
// By hand, as the SSH mode defines it: the same directory of the export, under another name
// (one dockerd cannot have two volumes of one name).
await h.check([
  'docker',
  'volume',
  'create',
  '--driver',
  'local',
  '--opt',
  'type=nfs4',
  '--opt',
  `o=addr=${h.nfsAddress},port=${server.nfsPort},vers=4.1`,
  '--opt',
  `device=:${server.exportPath}/${PLUGIN_VOL}`,
  LOCAL_VOL,
]);
// Both are the same data, and each has run a container once before the timing (warm caches).
await h.check([
  'docker',
  'run',
  '--rm',
  '--network',
  'none',
  '-v',
  `${PLUGIN_VOL}:/data`,
  'busybox',
  'sh',
  '-c',
  'echo same > /data/probe',
]);
const probe = await h.check([
  'docker',
  'run',
  '--rm',
  '--network',
  'none',
  '-v',
  `${LOCAL_VOL}:/data`,
  'busybox',
  'cat',
  '/data/probe',
]);
if (probe.stdout !== 'same\n')
  throw new Error(`the local definition does not see the plugin volume's data: ${probe.stdout}`);

// Prints `VOLUME NANOSECONDS` per run; names and counts come in as positional arguments.
const START_LOOP = [
  'one() {',
  '  t0=$(date +%s%N)',
  '  docker run --rm --network none -v "$1:/data" busybox true || exit 1',
  '  t1=$(date +%s%N)',
  '  echo "$1 $((t1 - t0))"',
  '}',
  'i=0',
  'while [ "$i" -lt "$1" ]; do',
  '  if [ $((i % 2)) -eq 0 ]; then one "$2"; one "$3"; else one "$3"; one "$2"; fi',
  '  i=$((i + 1))',
  'done',
].join('\n');
const startOut = await h.check(['sh', '-c', START_LOOP, 'sh', String(RUNS), PLUGIN_VOL, LOCAL_VOL], {
  timeoutMs: LOOP_TIMEOUT_MS,
});
for (const line of startOut.stdout.trim().split('\n')) {
  const [vol, ns] = line.split(' ');
  add(vol === PLUGIN_VOL ? 'start plugin' : 'start local', Number(ns) / 1e9);
}
const mounted = (await h.exec(['findmnt', '-n', '-t', 'nfs,nfs4', '-o', 'TARGET'])).stdout.trim();
if (mounted !== '') throw new Error(`mounts left after the last container: ${mounted}`);

// --- 2. 100 volumes ----------------------------------------------------------------------
// Prints the loop's nanoseconds; prefix and count are positional arguments.
const CREATE_LOOP = [
  't0=$(date +%s%N)',
  'i=0',
  'while [ "$i" -lt "$2" ]; do',
  '  docker volume create -d nfsvol "$1$(printf %05d "$i")" > /dev/null || exit 1',
  '  i=$((i + 1))',
  'done',
  't1=$(date +%s%N)',
  'echo $((t1 - t0))',
].join('\n');

async function checkCreated(prefix: string): Promise<void> {
  const cli = (await cliOk(user, ['volume', 'ls', '-q'])).stdout
    .split('\n')
    .filter((l) => l.startsWith(prefix));
  const dockerLs = await h.check(['docker', 'volume', 'ls', '-q', '--filter', `name=${prefix}`]);
  const docker = dockerLs.stdout.split('\n').filter((l) => l.startsWith(prefix));
  if (cli.length !== CREATES || docker.length !== CREATES) {
    throw new Error(
      `${prefix}*: nfsvol volume ls lists ${cli.length}, docker volume ls ${docker.length}, expected ${CREATES}`,
    );
  }
}

let serial = 0;
let checks = 0;
for (let r = 0; r < CREATE_RUNS; r++) {
  for (const who of inTurn(['cli', 'docker'], r)) {
    const prefix = `bc${serial++}-`;
    if (who === 'cli') {
      const res = await cliOk(user, ['volume', 'create', ...names(prefix, CREATES)]);
      add('create cli', res.seconds);
    } else {
      const out = await h.check(['sh', '-c', CREATE_LOOP, 'sh', prefix, String(CREATES)], {
        timeoutMs: LOOP_TIMEOUT_MS,
      });
      add('create docker', Number(out.stdout.trim()) / 1e9);
    }
    await checkCreated(prefix);
    checks++;
  }
}

// --- report ------------------------------------------------------------------------------
const ms = (s: number): string => `${(s * 1000).toFixed(0)} ms`;
const rows: Row[] = [];
for (const [label, pick] of [
  ['median', median],
  ['p90', (xs: readonly number[]) => quantile(xs, 0.9)],
] as const) {
  const plugin = pick(samples['start plugin']!);
  const local = pick(samples['start local']!);
  const allowed = Math.max(0.1, local * 0.1);
  rows.push({
    what: `\`docker run --rm -v VOL:/data busybox true\`, ${label} of ${RUNS}: plugin volume (nfsvol column) against the \`local\` NFS definition; plugin − local = ${plugin >= local ? '+' : '−'}${ms(Math.abs(plugin - local))}`,
    ours: plugin,
    baseline: local,
    baselineName: '`local` driver, `type=nfs4`, same export directory',
    target: `plugin adds at most ${ms(allowed)} (100 ms or 10%, the larger)`,
    targetMet: plugin - local <= allowed,
  });
}
rows.push({
  what: `${CREATES} volumes, median of ${CREATE_RUNS}: one \`nfsvol volume create\` of ${CREATES} names from this machine (nfsvol column)`,
  ours: median(samples['create cli']!),
  baseline: median(samples['create docker']!),
  baselineName: `\`docker volume create -d nfsvol NAME\` × ${CREATES} in a shell loop on the host, through the plugin`,
});
const out = table(rows);
const detail = [
  `What ran: one lab host (qemu microVM, **TCG-emulated, no KVM**, 1 vCPU, on this 2-core machine shared with other work), \`nfsvol plugin serve\` on it as a legacy plugin (this machine's node and the CLI bundle copied in), one nfs-ganesha server; NFSv4.1 for both volumes, the same mount options (\`port=N,vers=4.1\`). Absolute times are those of an emulated CPU, many times a real host's: compare the two columns, not the figures with a real machine.`,
  `Container starts: ${RUNS} of each, the two volumes in turns in one shell loop on the host (plugin then local, then local then plugin, ...), each run timed there with \`date +%s%N\` so SSH is not counted, after one untimed run of each (which also checked that the \`local\` definition reads what a container wrote through the plugin volume). The lab's dockerd has no bridge, so each run has \`--network none\`. Every run mounts and unmounts the NFS volume (no other container holds it): for the plugin that is its Mount (mount record on the export, kernel mount) and Unmount; for \`local\`, dockerd's own mount. No NFS mount was left after the last run.`,
  `Making ${CREATES} volumes: ${CREATE_RUNS} run(s) of each, in turns; the plugin loop timed inside the VM (its ${CREATES} \`docker volume create\` processes, each a Create through dockerd to the plugin), the CLI as one process on this machine, end to end (the host is a plugin host, so the CLI writes directories and records only: the plugin serves them to dockerd). After each run both \`nfsvol volume ls\` here and \`docker volume ls\` on the host listed all ${CREATES}: ${checks} checks passed.`,
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
  `Samples (s): ${samplesJson(samples)}`,
].join('\n');
console.log(out);
console.log(detail);
writeSection('plugin', `npm run bench -- plugin${benchArgs()}`, `${out}\n\n${detail}\n`);
