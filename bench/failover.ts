/**
 * Failover: from the moment host 1 is powered off (SIGKILL to its VM, a power cut) to a
 * container on host 2 reading the data host 1 wrote, broken down by step. With nfsvol the
 * volume is already defined on host 2 (every volume is defined on every host), so the user runs
 * the container there; without nfsvol, the user first defines the volume on host 2 by hand
 * (`ssh host2 docker volume create --driver local --opt ...`), then runs it.
 * Run: npm run bench -- failover [--runs 3] [--mb 16]
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startHosts, startNfsServer, type LabHost } from '../deploy/lab/index.js';
import { median, table, timed, writeSection, type Row } from './_report.js';
import {
  argNumber,
  benchArgs,
  benchUser,
  cliOk,
  hostAddArgs,
  load,
  samplesJson,
  sshCommand,
} from './_lab.js';

const RUNS = argNumber('runs', 3);
const MB = argNumber('mb', 16);

await using server = await startNfsServer();
const hosts = await startHosts(2);
await using _hosts = {
  [Symbol.asyncDispose]: async () => void (await Promise.allSettled(hosts.map((h) => h.stop()))),
};
const [h1, h2] = hosts as [LabHost, LabHost];
const user = await benchUser();
await cliOk(user, ['init', server.url(3), '--nfs-version', '4.1']);
await cliOk(user, await hostAddArgs(user, 'h1', h1));
await cliOk(user, await hostAddArgs(user, 'h2', h2));

const samples: Record<string, number[]> = {};
const add = (k: string, v: number): void => void (samples[k] ??= []).push(v);
const loadBefore = load();

async function runOnH2(argv: string[]): Promise<string> {
  return (await h2.check(argv)).stdout;
}

for (let r = 0; r < RUNS; r++) {
  const vol = `fo${r}`;
  if (!h1.running) {
    // Host 1 back from the previous cut; `sync` completes what it owes.
    await h1.powerOn();
    await cliOk(user, ['sync']);
  }
  await cliOk(user, ['volume', 'create', vol]);
  // Host 1's container writes MB of random data and syncs it, then the power is cut.
  await h1.check([
    'docker',
    'run',
    '--rm',
    '--network',
    'none',
    '-v',
    `${vol}:/data`,
    'busybox',
    'sh',
    '-c',
    `dd if=/dev/urandom of=/data/blob bs=1M count=${MB} 2>/dev/null && sync`,
  ]);
  const expected = createHash('md5')
    .update(await readFile(join(server.exportDir, vol, 'blob')))
    .digest('hex');
  const order = r % 2 === 0 ? ['nfsvol', 'manual'] : ['manual', 'nfsvol'];
  await h1.powerOff();
  for (const who of order) {
    if (who === 'nfsvol') {
      const t0 = performance.now();
      // 1. The user checks where the volume is defined (and its usage) from any machine.
      const ins = await cliOk(user, ['volume', 'inspect', vol, '--json']);
      const defined = (JSON.parse(ins.stdout) as { hosts: { host: string; defined: string }[] }).hosts;
      if (!defined.some((h) => h.host === 'h2' && h.defined === 'yes')) throw new Error('not on h2');
      add('1 nfsvol volume inspect', ins.seconds);
      // 2. Host 2 already has the definition.
      add(
        '2 docker volume inspect on h2',
        (await timed(() => runOnH2(['docker', 'volume', 'inspect', vol])))[0],
      );
      // 3. The container is created on host 2 with the same -v NAME:/data ...
      const name = `reader-${r}`;
      const [tCreate] = await timed(() =>
        runOnH2([
          'docker',
          'create',
          '--name',
          name,
          '--network',
          'none',
          '-v',
          `${vol}:/data`,
          'busybox',
          'md5sum',
          '/data/blob',
        ]),
      );
      add('3 docker create on h2', tCreate);
      // 4. ... and started: the NFS mount happens here, then it reads every byte.
      const [tStart, out] = await timed(() => runOnH2(['docker', 'start', '-a', name]));
      add('4 docker start (mount + read) on h2', tStart);
      if (!out.startsWith(expected)) throw new Error(`h2 read ${out}, expected ${expected}`);
      add('total nfsvol', (performance.now() - t0) / 1000);
      await runOnH2(['docker', 'rm', name]);
    } else {
      const manual = `${vol}-manual`;
      const [t] = await timed(async () => {
        await sshCommand(
          h2,
          `docker volume create --driver local --opt type=nfs4 --opt o=addr=10.0.2.2,port=${server.nfsPort},vers=4.1 --opt device=:/export/${vol} ${manual}`,
        );
        await sshCommand(
          h2,
          `docker run --rm --network none -v ${manual}:/data busybox md5sum /data/blob | grep -q ^${expected}`,
        );
      });
      add('total manual', t);
    }
  }
  // The cut host is reported and left pending; not on the read path, measured apart.
  const sync = await cliOk(user, ['sync'], 3);
  if (!/host h1: FAILED/.test(sync.stdout)) throw new Error(`sync did not report h1:\n${sync.stdout}`);
  add('nfsvol sync reports h1 down (exit 3)', sync.seconds);
}

const m = (k: string): number => median(samples[k]!);
const steps = Object.keys(samples).filter((k) => /^\d /.test(k));
const rows: Row[] = [
  ...steps.map((k) => ({ what: `step ${k}`, ours: m(k) })),
  {
    what: 'power off → container on host 2 has read the data',
    ours: m('total nfsvol'),
    baseline: m('total manual'),
    baselineName: '`ssh h2 docker volume create ...` + `ssh h2 docker run ...`',
  },
  {
    what: 'off the read path: `nfsvol sync` reports h1 down, records it pending',
    ours: m('nfsvol sync reports h1 down (exit 3)'),
  },
];
const out = table(rows);
const detail = [
  `Medians of ${RUNS} power cuts; after each cut the nfsvol path and the manual path run in alternating order, each on its own container on host 2, both checking the md5 of ${MB} MiB written and synced on host 1 before the cut. Host steps run over one SSH connection (ssh2, as nfsvol holds it); the manual path is the OpenSSH client, one process per command. Hosts: qemu TCG microVMs; NFSv4.1 to ganesha with Graceless = true (no grace period after a client dies).`,
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
  `Samples (s): ${samplesJson(samples)}`,
].join('\n');
console.log(out);
console.log(detail);
writeSection('failover', `npm run bench -- failover${benchArgs()}`, `${out}\n\n${detail}\n`);
