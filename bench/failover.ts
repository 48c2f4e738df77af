/**
 * Failover: from the moment host 1 is powered off (SIGKILL to its VM, a power cut) to a
 * container on host 2 reading the data host 1 wrote. With nfsvol the volume is already defined on
 * host 2 (every volume is defined on every host), so the user runs the container there:
 * `ssh h2 docker run -v VOL:/data ...`. Without nfsvol, the user first defines the volume on host
 * 2 by hand: as two commands (`ssh h2 docker volume create ...`, then `ssh h2 docker run ...`) or
 * as one (`ssh h2 'docker volume create ... && docker run ...'`). All three are the same OpenSSH
 * client, one process per command, and run the same container, which checks the data's md5.
 * Run: npm run bench -- failover [--runs 3] [--mb 16]
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startHosts, startNfsServer, type LabHost } from '../deploy/lab/index.js';
import { median, table, timed, writeSection, type Row } from './_report.js';
import { inTurn } from './_cli.js';
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
let checks = 0;

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
  await h1.powerOff();
  const define = (name: string): string =>
    `docker volume create --driver local --opt type=nfs4 --opt o=addr=10.0.2.2,port=${server.nfsPort},vers=4.1 --opt device=:/export/${vol} ${name} > /dev/null`;
  const read = (name: string): string =>
    `docker run --rm --network none -v ${name}:/data busybox md5sum /data/blob`;
  const checkRead = (who: string, out: string): void => {
    if (!out.startsWith(expected)) throw new Error(`${who}: h2 read ${out}, expected ${expected}`);
    checks++;
  };
  for (const who of inTurn(['nfsvol', 'manual-two', 'manual-one'], r)) {
    if (who === 'nfsvol') {
      const [t, out] = await timed(() => sshCommand(h2, read(vol)));
      checkRead(who, out);
      add('total nfsvol', t);
      // Where is it defined? What a user may check first, from any machine (not in the total).
      const ins = await cliOk(user, ['volume', 'inspect', vol, '--json']);
      const defined = (JSON.parse(ins.stdout) as { hosts: { host: string; defined: string }[] }).hosts;
      if (!defined.some((h) => h.host === 'h2' && h.defined === 'yes')) throw new Error('not on h2');
      add('nfsvol volume inspect', ins.seconds);
    } else if (who === 'manual-two') {
      const name = `${vol}-two`;
      const [t, out] = await timed(async () => {
        await sshCommand(h2, define(name));
        return sshCommand(h2, read(name));
      });
      checkRead(who, out);
      add('total manual, two commands', t);
    } else {
      const name = `${vol}-one`;
      const [t, out] = await timed(() => sshCommand(h2, `${define(name)} && ${read(name)}`));
      checkRead(who, out);
      add('total manual, one command', t);
    }
  }
  // The cut host is reported and left pending; not on the read path, measured apart.
  const sync = await cliOk(user, ['sync'], 3);
  if (!/host h1: FAILED/.test(sync.stdout)) throw new Error(`sync did not report h1:\n${sync.stdout}`);
  add('nfsvol sync reports h1 down (exit 3)', sync.seconds);
}

const m = (k: string): number => median(samples[k]!);
const what = 'power off → container on host 2 has read the data';
const rows: Row[] = [
  {
    what,
    ours: m('total nfsvol'),
    baseline: m('total manual, two commands'),
    baselineName: '`ssh h2 docker volume create ...` + `ssh h2 docker run ...`',
  },
  {
    what,
    ours: m('total nfsvol'),
    baseline: m('total manual, one command'),
    baselineName: "`ssh h2 'docker volume create ... && docker run ...'`",
  },
  {
    what: 'not in the totals: `nfsvol volume inspect` (is it defined on h2?)',
    ours: m('nfsvol volume inspect'),
  },
  {
    what: 'off the read path: `nfsvol sync` reports h1 down, records it pending',
    ours: m('nfsvol sync reports h1 down (exit 3)'),
  },
];
const out = table(rows);
const detail = [
  `Medians of ${RUNS} power cuts; after each cut the three paths run in turns (the order reversed on every other cut), each its own container on host 2 through the OpenSSH client, each checking the md5 of ${MB} MiB written and synced on host 1 before the cut: ${checks} checks passed. Hosts: qemu TCG microVMs; NFSv4.1 to ganesha with Graceless = true (no grace period after a client dies).`,
  `Load average (1/5/15 min) before: ${loadBefore}; after: ${load()}.`,
  `Samples (s): ${samplesJson(samples)}`,
].join('\n');
console.log(out);
console.log(detail);
writeSection('failover', `npm run bench -- failover${benchArgs()}`, `${out}\n\n${detail}\n`);
