/**
 * nfsvol/testing as a user's suite pays for it: time to a ready `startCluster({ hosts: 2 })` (NFS
 * server, two booted hosts, registry created, both registered) from cached images, its teardown,
 * the memory each host takes, and the leak test: a test process SIGKILLed mid-test leaves nothing
 * running once the module starts again.
 *
 *   npm run bench -- testing [--runs N]
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  buildImages,
  LabSession,
  listLabResources,
  pollUntil,
  reapOrphans,
  run,
} from '../deploy/lab/index.js';
import { startCluster } from '../deploy/testing/index.js';
import { argNumber, benchArgs, load, samplesJson } from './_lab.js';
import { median, table, timed, writeSection, type Row } from './_report.js';

const RUNS = argNumber('runs', 3);
const quiet = (): void => undefined;
const samples: Record<string, number[]> = { ready: [], teardown: [], hostRssMiB: [], nfsMiB: [] };

/** Resident memory of a process, MiB (VmRSS). */
async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
  return kib / 1024;
}

/** A container's memory as cgroup v1 accounts it (docker stats' MemUsage), MiB. */
async function containerMiB(id: string): Promise<number> {
  const { stdout } = await run(['docker', 'stats', '--no-stream', '--format', '{{.MemUsage}}', id]);
  const m = /^([\d.]+)\s*(KiB|MiB|GiB)/.exec(stdout.trim());
  if (m === null) return Number.NaN;
  const factor = { KiB: 1 / 1024, MiB: 1, GiB: 1024 }[m[2] as 'KiB' | 'MiB' | 'GiB'];
  return Number(m[1]) * factor;
}

// Cached images only: the build check happens once, before any timing.
await buildImages('all', { onProgress: quiet });
const session = await LabSession.current();
const loadBefore = load();

for (let i = 0; i < RUNS; i++) {
  const [ready, lab] = await timed(() => startCluster({ hosts: 2, onProgress: quiet }));
  samples['ready']!.push(ready);
  const { qemuPids } = await listLabResources(session.id);
  for (const pid of qemuPids) samples['hostRssMiB']!.push(await rssMiB(pid));
  samples['nfsMiB']!.push(await containerMiB(lab.nfs.getId()));
  const [teardown] = await timed(() => lab.stop());
  samples['teardown']!.push(teardown);
  console.log(`run ${i + 1}: ready ${ready.toFixed(1)} s, teardown ${teardown.toFixed(1)} s`);
}

// The leak test: a child (a user's test process) starts a cluster and is SIGKILLed mid-test.
const child = spawn(
  process.execPath,
  ['--import', 'tsx', fileURLToPath(new URL('./_testing-child.ts', import.meta.url))],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const line = await new Promise<string>((resolve, reject) => {
  const lines = createInterface({ input: child.stdout });
  lines.once('line', resolve);
  child.once('exit', (code) => reject(new Error(`leak child exited with ${code} before starting`)));
});
const started = JSON.parse(line) as { session: string; container: string };
const atKill = await listLabResources(started.session);
child.kill('SIGKILL');
const [reaped] = await timed(() =>
  pollUntil(
    'the killed test process’s VM and container gone',
    async () => {
      const left = await listLabResources(started.session);
      return left.qemuPids.length === 0 && left.containerIds.length === 0 ? true : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  ),
);
// The next start of the module reaps sessions whose owner is dead (here: nothing is left to reap).
await reapOrphans();
const afterNextStart = await listLabResources(started.session);
const leaked = afterNextStart.qemuPids.length + afterNextStart.containerIds.length;
if (leaked > 0) throw new Error(`leak: ${JSON.stringify(afterNextStart)}`);

const m = (k: string): number => median(samples[k]!);
const rows: Row[] = [
  {
    what: 'ready `startCluster({ hosts: 2 })` from cached images',
    ours: m('ready'),
    target: '≤ 20 s',
    targetMet: m('ready') <= 20,
  },
  { what: 'teardown (`stop()`: cluster closed, VMs killed, container removed)', ours: m('teardown') },
  { what: 'memory per host (qemu RSS, 1024 MiB guest)', ours: m('hostRssMiB'), unit: 'MiB' },
  { what: 'memory of the NFS server container', ours: m('nfsMiB'), unit: 'MiB' },
  {
    what: `leak test: SIGKILLed test process (${atKill.qemuPids.length} VM, ${atKill.containerIds.length} container) → all gone`,
    ours: reaped,
    target: 'nothing left after the next start',
    targetMet: leaked === 0,
  },
];
const out = table(rows);
const detail = [
  `Medians of ${RUNS} runs, each a fresh startCluster (NFS server and both hosts started in parallel, registry created, both hosts registered over SSH) then stop(). Hosts: qemu TCG microVMs (no KVM), 1 vCPU each, on a 2-core machine. Memory: VmRSS of each qemu process right after the cluster was ready; the container's from docker stats.`,
  `Leak test: a child process started startCluster({ hosts: 1 }) and was SIGKILLed; the time is from the kill until listLabResources showed neither its VM nor its container (the session's detached reaper); then reapOrphans() (what the next start runs) found nothing of it.`,
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
  `Samples: ${samplesJson(samples)}`,
].join('\n');
console.log(out);
console.log(detail);
writeSection('testing', `npm run bench -- testing${benchArgs()}`, `${out}\n\n${detail}\n`);
