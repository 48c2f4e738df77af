/**
 * Fan-out: defining N volumes on H Docker hosts of the lab. nfsvol: one `nfsvol volume create`
 * process (directories and records on the export, then every host's definitions over one SSH
 * connection per host, hosts in parallel). Against what a user does by hand, on the same hosts
 * (the definitions happen on the Docker hosts either way, so the lab's microVMs are fair here):
 * - batched: one `ssh HOST 'for v in ...; do docker volume create ...; done'` per host, the hosts
 *   in parallel (`&` and `wait` in a user's script);
 * - per definition: `ssh HOST docker volume create ... NAME` once per volume per host, in turn,
 *   over a reused connection (ControlMaster), and with a new connection each.
 * Everything is measured in full and checked after each run (`docker volume ls` on every host).
 * With `--against REV`, REV's CLI runs the same creates in turns, on an NFS server of its own.
 * The per-definition baselines run in the first --per-def-runs runs only (they take longest).
 * Run: npm run bench -- fanout [--runs 3] [--configs 20x1,5x3,20x3] [--per-def-runs 1] [--boot-timeout 600] [--against REV]
 */
import { startHosts, startNfsServer, type LabHost } from '../deploy/lab/index.js';
import { median, table, timed, writeSection, type Row } from './_report.js';
import {
  argNumber,
  benchArgs,
  benchUser,
  cliOk,
  closeControl,
  hostAddArgs,
  load,
  names,
  samplesJson,
  sshCommand,
  type BenchUser,
} from './_lab.js';
import { argString, cliVariants, inTurn } from './_cli.js';

const RUNS = argNumber('runs', 3);
const PER_DEF_RUNS = argNumber('per-def-runs', 1);
const CONFIGS = (argString('configs') ?? '20x1,5x3,20x3').split(',').map((c) => {
  const [v, h] = c.split('x').map(Number);
  if (!v || !h || h > 3) throw new Error(`--configs: ${c} is not VOLUMESxHOSTS with at most 3 hosts`);
  return { volumes: v, hosts: h };
});
const HOSTS = Math.max(...CONFIGS.map((c) => c.hosts));

const variants = await cliVariants();
// Each CLI gets its own NFS server and registry, and adds the hosts itself: CLIs of different
// revisions may keep host records in different shapes, and neither may read the other's.
const servers = await Promise.all(variants.map(() => startNfsServer()));
await using _servers = {
  [Symbol.asyncDispose]: async () => void (await Promise.allSettled(servers.map((s) => s.stop()))),
};
const server = servers[0]!;
// A loaded 2-core machine can take minutes to boot emulated VMs: wait longer than the lab's default.
const hosts = await startHosts(HOSTS, { bootTimeoutMs: argNumber('boot-timeout', 600) * 1000 });
await using _hosts = {
  [Symbol.asyncDispose]: async () => void (await Promise.allSettled(hosts.map((h) => h.stop()))),
};

const users = new Map<string, BenchUser>();
for (const [i, v] of variants.entries()) {
  const u = await benchUser(v.main);
  await cliOk(u, ['init', servers[i]!.url(3), '--nfs-version', '4.1']);
  users.set(v.label, u);
}

const samples: Record<string, number[]> = {};
const add = (k: string, v: number): void => void (samples[k] ??= []).push(v);
const loadBefore = load();
let serial = 0;
let checks = 0;

const defineCmd = (v: string): string =>
  `docker volume create --driver local --opt type=nfs4 --opt o=addr=10.0.2.2,port=${server.nfsPort},vers=4.1 --opt device=:/export/${v} ${v}`;

/** A user's check: `docker volume ls` on each host lists every name with this prefix. */
async function checkDefined(on: readonly LabHost[], prefix: string, count: number): Promise<void> {
  await Promise.all(
    on.map(async (h) => {
      const ls = await h.check(['docker', 'volume', 'ls', '-q', '--filter', `name=${prefix}`]);
      const got = ls.stdout.split('\n').filter((l) => l.startsWith(prefix)).length;
      if (got !== count) throw new Error(`${h.name} has ${got} volumes named ${prefix}*, expected ${count}`);
    }),
  );
  checks++;
}

async function baseline(kind: string, on: readonly LabHost[], vols: readonly string[]): Promise<number> {
  const [t] = await timed(async () => {
    if (kind === 'batched') {
      const script = vols.map(defineCmd).join(' && ');
      await Promise.all(on.map((h) => sshCommand(h, script)));
    } else {
      const control = kind === 'per-def-cm';
      for (const h of on) for (const v of vols) await sshCommand(h, defineCmd(v), { control });
    }
  });
  return t;
}

let enabledHosts = 0;
for (const c of [...CONFIGS].sort((a, b) => a.hosts - b.hosts)) {
  // Hosts are added as the configurations need them; `host add` defines the volumes so far (untimed).
  while (enabledHosts < c.hosts) {
    const h = hosts[enabledHosts]!;
    for (const u of users.values()) await cliOk(u, await hostAddArgs(u, `h${enabledHosts + 1}`, h));
    enabledHosts++;
  }
  const on = hosts.slice(0, c.hosts);
  const key = `${c.volumes}x${c.hosts}`;
  const contenders = [...variants.map((v) => v.label), 'batched', 'per-def-cm', 'per-def-fresh'];
  for (let r = 0; r < RUNS; r++) {
    for (const who of inTurn(contenders, r)) {
      if (who.startsWith('per-def') && r >= PER_DEF_RUNS) continue;
      const prefix = `f${serial++}-`;
      const vols = names(prefix, c.volumes);
      const user = users.get(who);
      if (user) {
        const res = await cliOk(user, ['volume', 'create', ...vols]);
        const ok = res.stdout
          .split('\n')
          .filter((l) => new RegExp(`^host h\\d: ok, ${c.volumes} defined`).test(l));
        if (ok.length !== c.hosts) throw new Error(`expected ${c.hosts} hosts ok:\n${res.stdout}`);
        add(`${who} ${key}`, res.seconds);
      } else {
        add(`${who} ${key}`, await baseline(who, on, vols));
      }
      await checkDefined(on, prefix, c.volumes);
    }
  }
  await Promise.all(on.map(closeControl));
}

const m = (k: string): number => median(samples[k]!);
const rows: Row[] = [];
for (const c of CONFIGS) {
  const key = `${c.volumes}x${c.hosts}`;
  const what = `${c.volumes} volumes × ${c.hosts} host${c.hosts > 1 ? 's' : ''}`;
  const ours = m(`nfsvol ${key}`);
  const defs = c.volumes * c.hosts;
  for (const [who, name] of [
    ['batched', `one \`ssh HOST 'docker volume create … && …'\` per host, hosts in parallel`],
    ['per-def-cm', `\`ssh HOST docker volume create …\` × ${defs} in turn, reused connection`],
    ['per-def-fresh', `\`ssh HOST docker volume create …\` × ${defs} in turn, new connection each`],
  ] as const) {
    rows.push({ what, ours, baseline: m(`${who} ${key}`), baselineName: name });
  }
  for (const v of variants.slice(1)) {
    const theirs = m(`${v.label} ${key}`);
    rows.push({
      what: `${what}: this tree against ${v.label}`,
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
  `What ran: ${RUNS} runs per configuration, the contenders in turns (the order reversed on every other run); the per-definition baselines in the first ${Math.min(PER_DEF_RUNS, RUNS)} run(s) only. Each contender defined its own new volumes, and each run was checked with \`docker volume ls\` on every host: ${checks} checks passed; nfsvol's runs also printed "ok, N defined" for every host.`,
  `nfsvol: the bundled CLI as a process, end to end: directories and records on the export (NFSv3), then each host's definitions over one SSH connection per host (Docker Engine API), hosts in parallel. Baselines: the OpenSSH client. Hosts are qemu microVMs under TCG on this 2-core machine, so hosts in parallel share the same 2 cores (for nfsvol and for the batched baseline alike).`,
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
  `Samples (s): ${samplesJson(samples)}`,
].join('\n');
console.log(out);
console.log(detail);
writeSection('fanout', `npm run bench -- fanout${benchArgs()}`, `${out}\n\n${detail}\n`);
