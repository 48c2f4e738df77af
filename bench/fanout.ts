/**
 * Fan-out: defining volumes on every Docker host of the lab with one `nfsvol volume create`
 * process (directories, records, then every host's definition over SSH in parallel), against
 * what a user scripts today: `ssh HOST docker volume create --driver local --opt ... NAME` once
 * per volume per host. Growth with volumes (5/10/20 on 3 hosts) and with hosts (20 volumes on
 * 1/2/3 hosts). The baseline is measured on --baseline-volumes (default 3) volumes per host in
 * every repetition, and its per-definition cost is extrapolated linearly (one process each).
 * Run: npm run bench -- fanout [--runs 3] [--baseline-volumes 3]
 */
import { startHosts, startNfsServer, type LabHost } from '../deploy/lab/index.js';
import { median, table, timed, writeSection, type Row } from './_report.js';
import {
  argNumber,
  benchArgs,
  benchUser,
  cliOk,
  hostAddArgs,
  load,
  names,
  samplesJson,
  sshCommand,
} from './_lab.js';

const RUNS = argNumber('runs', 3);
const BASE = argNumber('baseline-volumes', 3);

await using server = await startNfsServer();
const hosts = await startHosts(3);
await using _hosts = {
  [Symbol.asyncDispose]: async () => void (await Promise.allSettled(hosts.map((h) => h.stop()))),
};

const user = await benchUser();
await cliOk(user, ['init', server.url(3), '--nfs-version', '4.1']);

const samples: Record<string, number[]> = {};
const add = (k: string, v: number): void => void (samples[k] ??= []).push(v);
const loadBefore = load();
let serial = 0;

/** The user's script: one ssh process per volume per host, one after the other. */
async function baseline(on: readonly LabHost[], vols: readonly string[]): Promise<number> {
  const [t] = await timed(async () => {
    for (const h of on) {
      for (const v of vols) {
        await sshCommand(
          h,
          `docker volume create --driver local --opt type=nfs4 --opt o=addr=10.0.2.2,port=${server.nfsPort},vers=4.1 --opt device=:/export/${v} ${v}`,
        );
      }
    }
  });
  return t / (on.length * vols.length);
}

async function nfsvol(hostCount: number, volumes: number): Promise<number> {
  const res = await cliOk(user, ['volume', 'create', ...names(`v${serial++}-`, volumes)]);
  const okLines = res.stdout
    .split('\n')
    .filter((l) => new RegExp(`^host h\\d: ok, ${volumes} defined`).test(l));
  if (okLines.length !== hostCount) throw new Error(`expected ${hostCount} hosts ok:\n${res.stdout}`);
  return res.seconds;
}

const configs: { hosts: number; volumes: number }[] = [];
for (let n = 1; n <= 3; n++) {
  const h = hosts[n - 1]!;
  await cliOk(user, await hostAddArgs(user, `h${n}`, h)); // defines the volumes so far on it (not timed)
  const sizes = n === 3 ? [5, 10, 20] : [20];
  for (const volumes of sizes) {
    configs.push({ hosts: n, volumes });
    for (let r = 0; r < RUNS; r++) {
      const order = r % 2 === 0 ? ['baseline', 'nfsvol'] : ['nfsvol', 'baseline'];
      for (const who of order) {
        if (who === 'nfsvol') add(`nfsvol ${volumes}x${n}`, await nfsvol(n, volumes));
        else
          add(
            `baseline-per-def ${volumes}x${n}`,
            await baseline(hosts.slice(0, n), names(`b${serial++}-`, BASE)),
          );
      }
    }
  }
}

// Every host has every nfsvol volume (a user's check: docker volume ls on each host).
const expected = configs.reduce((s, c) => s + c.volumes * RUNS, 0);
for (const h of hosts) {
  const ls = await h.check(['docker', 'volume', 'ls', '-q', '--filter', 'label=nfsvol.managed=true']);
  const count = ls.stdout.split('\n').filter(Boolean).length;
  if (count !== expected) throw new Error(`${h.name} has ${count} nfsvol volumes, expected ${expected}`);
}

const perDef = median(configs.map((c) => median(samples[`baseline-per-def ${c.volumes}x${c.hosts}`]!)));
const rows: Row[] = configs.map((c) => ({
  what: `${c.volumes} volumes × ${c.hosts} host${c.hosts > 1 ? 's' : ''}`,
  ours: median(samples[`nfsvol ${c.volumes}x${c.hosts}`]!),
  baseline: median(samples[`baseline-per-def ${c.volumes}x${c.hosts}`]!) * c.volumes * c.hosts,
  baselineName: `ssh docker volume create × ${c.volumes * c.hosts}, extrapolated`,
  target: c.volumes === 20 && c.hosts === 3 ? 'ratio ≥ 10×' : '',
}));
const out = table(rows);
const detail = [
  `Medians of ${RUNS} runs per row, order alternated. nfsvol: the compiled CLI, one process, end to end: directories and records on the export (NFSv3), then each host's definitions over one SSH connection per host (Docker Engine API), hosts in parallel; each row checks that every host printed "ok, N defined". Hosts are qemu microVMs (TCG) on this 2-core machine, so hosts in parallel share the same 2 cores.`,
  `Baseline: the OpenSSH client, one \`ssh HOST docker volume create ...\` process per volume per host, sequential; measured on ${BASE} volumes per host in each repetition, per-definition median ${(perDef * 1000).toFixed(0)} ms, multiplied by volumes × hosts.`,
  `Checked after the runs: each of the 3 hosts has all ${expected} nfsvol volumes.`,
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
  `Samples (s): ${samplesJson(samples)}`,
].join('\n');
console.log(out);
console.log(detail);
writeSection('fanout', `npm run bench -- fanout${benchArgs()}`, `${out}\n\n${detail}\n`);
