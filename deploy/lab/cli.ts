// The lab by hand: `npm run lab:up`, `npm run lab:down`, `npm run lab:build`.
//
//   tsx deploy/lab/cli.ts build [all|nfs|vm]
//   tsx deploy/lab/cli.ts up [--hosts N] [--nfs-port P] [--mount-port P] [--rpcbind-port P] [--ssh-port P]
//   tsx deploy/lab/cli.ts status
//   tsx deploy/lab/cli.ts down
//
// `up` starts the NFS server and N Docker host VMs in a persistent session ("manual") that outlives
// the command, prints how to reach everything and writes it to <cache>/run/manual/state.json.
// `down` stops that session and reaps anything left by dead test runs.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LabError } from './errors.js';
import { startHosts } from './hosts.js';
import { startNfsServer } from './nfs-server.js';
import { LabSession, listLabResources, reapOrphans, reapSessionDirs, runDir } from './session.js';
import { buildImages, type BuildTarget } from './util.js';

const MANUAL = 'manual';
const t0 = Date.now();
const say = (line: string): void => {
  process.stdout.write(`[lab ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
};

function port(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new LabError('INVALID_OPTION', `--${name} must be a port number, got "${raw}"`);
  }
  return value;
}

async function up(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      hosts: { type: 'string', default: '2' },
      'nfs-port': { type: 'string' },
      'mount-port': { type: 'string' },
      'rpcbind-port': { type: 'string' },
      'ssh-port': { type: 'string' },
    },
  });
  const n = Number(values.hosts);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new LabError('INVALID_OPTION', '--hosts must be 1..8');
  const stateFile = join(runDir(), MANUAL, 'state.json');
  if (existsSync(stateFile)) {
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as { hosts?: unknown[] };
    const running = await listLabResources(MANUAL);
    if (running.containerIds.length > 0 && running.qemuPids.length === (state.hosts?.length ?? -1)) {
      process.stdout.write(await readFile(join(runDir(), MANUAL, 'summary.txt'), 'utf8').catch(() => ''));
      say(`already up (state in ${stateFile}); run \`npm run lab:down\` first to start afresh`);
      return;
    }
    say('the previous lab is no longer (fully) running: reaping it and starting afresh');
  }
  await reapSessionDirs([join(runDir(), MANUAL)]);
  say('building images if needed');
  await buildImages('all', { onProgress: (line) => say(line) });
  const session = await LabSession.persistentSession(MANUAL);
  const sshBase = port('ssh-port', values['ssh-port'], 2221);
  say(`starting NFS server and ${n} Docker host VM(s) in parallel`);
  const started = Date.now();
  const [server, hosts] = await Promise.all([
    startNfsServer({
      session,
      nfsPort: port('nfs-port', values['nfs-port'], 12049),
      mountPort: port('mount-port', values['mount-port'], 20048),
      rpcbindPort: port('rpcbind-port', values['rpcbind-port'], 10111),
      onProgress: say,
    }).then((s) => {
      say(`NFS server ready (${Date.now() - started} ms)`);
      return s;
    }),
    startHosts(n, {
      session,
      sshPorts: Array.from({ length: n }, (_, i) => sshBase + i),
      onProgress: say,
    }).then((h) => {
      say(`${n} host(s) ready (${Date.now() - started} ms)`);
      return h;
    }),
  ]);
  for (const host of hosts) host.disconnect();
  const knownHosts = join(session.dir, 'known_hosts');
  await writeFile(knownHosts, hosts.map((h) => `${h.knownHostsLine}\n`).join(''));
  const lines = [
    '',
    'NFS server (nfs-ganesha; export read-only from here, never write it behind ganesha):',
    `  NFSv3   ${server.url(3)}`,
    `  NFSv4.1 ${server.url(4.1)}`,
    `  ports on 127.0.0.1: nfs ${server.nfsPort}, mount ${server.mountPort}, rpcbind ${server.rpcbindPort}`,
    `  export dir: ${server.exportDir}`,
    `  from the hosts: mount -t nfs4 -o vers=4.1,port=${server.nfsPort} ${server.addressFromHosts}:/export /mnt`,
    `              or: mount -t nfs -o vers=3,proto=tcp,port=${server.nfsPort},mountproto=tcp,mountport=${server.mountPort},nolock ${server.addressFromHosts}:/export /mnt`,
    '',
    ...hosts.flatMap((h) => [
      `Host ${h.name}:`,
      `  ssh -i ${h.privateKeyPath} -p ${h.sshPort} -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes root@${h.sshHost}`,
      `  known_hosts: ${h.knownHostsLine}`,
    ]),
    '',
    'Stop everything: npm run lab:down',
    '',
  ];
  const summary = lines.join('\n');
  await writeFile(join(session.dir, 'summary.txt'), summary);
  await writeFile(
    stateFile,
    `${JSON.stringify(
      {
        nfs: {
          host: server.host,
          addressFromHosts: server.addressFromHosts,
          nfsPort: server.nfsPort,
          mountPort: server.mountPort,
          rpcbindPort: server.rpcbindPort,
          exportPath: server.exportPath,
          exportDir: server.exportDir,
          urls: { v3: server.url(3), v41: server.url(4.1) },
        },
        hosts: hosts.map((h) => ({
          name: h.name,
          sshHost: h.sshHost,
          sshPort: h.sshPort,
          user: h.user,
          privateKeyPath: h.privateKeyPath,
          knownHostsLine: h.knownHostsLine,
          nfsAddress: h.nfsAddress,
        })),
        knownHostsFile: knownHosts,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(summary);
  say(`lab up: NFS server + ${n} host(s) ready ${Date.now() - started} ms after start`);
}

async function down(): Promise<void> {
  const manual = join(runDir(), MANUAL);
  const had = existsSync(manual);
  await reapSessionDirs([manual]);
  const orphans = await reapOrphans();
  say(
    `${had ? 'stopped the manual lab' : 'no manual lab was up'}; reaped ${orphans.length} orphaned session(s)`,
  );
  const left = await listLabResources();
  if (left.qemuPids.length > 0 || left.containerIds.length > 0) {
    say(
      `still running (sessions of live processes): ${left.qemuPids.length} qemu, ${left.containerIds.length} container(s)`,
    );
  }
}

async function status(): Promise<void> {
  const summary = join(runDir(), MANUAL, 'summary.txt');
  if (existsSync(summary)) process.stdout.write(await readFile(summary, 'utf8'));
  else say('no manual lab is up');
  const all = await listLabResources();
  say(`all lab sessions: ${all.qemuPids.length} qemu process(es), ${all.containerIds.length} container(s)`);
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'build': {
      const target = (rest[0] ?? 'all') as BuildTarget;
      if (!['all', 'nfs', 'vm'].includes(target)) throw new LabError('INVALID_OPTION', 'build [all|nfs|vm]');
      await buildImages(target, { onProgress: (line) => say(line) });
      say('build done');
      return;
    }
    case 'up':
      return up(rest);
    case 'down':
      return down();
    case 'status':
      return status();
    default:
      process.stderr.write('usage: cli.ts build [all|nfs|vm] | up [--hosts N] | status | down\n');
      process.exitCode = 2;
  }
}

main().then(
  // testcontainers keeps a docker socket open; nothing else is pending once main resolves.
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    const code = error instanceof LabError ? error.code : 'ERROR';
    process.stderr.write(`lab: ${code}: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
