/**
 * nfsvol's main job, end to end, on the built-in lab (an nfs-ganesha server and three Docker
 * hosts booted as qemu microVMs with a real kernel NFS client, sshd and dockerd). Every step is
 * printed as the command a user would type, with its output. Run by `bash deploy/demo/run.sh`
 * (which installs what is missing first), or `npx tsx deploy/demo/demo.ts` when the lab is built.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHosts, startNfsServer, type LabHost } from '../lab/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = join(ROOT, 'dist', 'nfsvol.js'); // npm run build
const color = process.stdout.isTTY
  ? (c: number, s: string) => `\x1b[${c}m${s}\x1b[0m`
  : (_: number, s: string) => s;
const bold = (s: string): string => color(1, s);
const dim = (s: string): string => color(2, s);

const steps: { title: string; seconds: number }[] = [];
async function step<T>(title: string, fn: () => Promise<T>): Promise<T> {
  console.log(`\n${bold(`== ${steps.length + 1}. ${title}`)}`);
  const t0 = performance.now();
  const v = await fn();
  steps.push({ title, seconds: (performance.now() - t0) / 1000 });
  return v;
}

const indent = (s: string): string =>
  s
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

/** Shell-style quoting for display only: nothing here is ever run through a shell. */
const shown = (argv: readonly string[]): string =>
  argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');

async function main(): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'nfsvol-demo-'));
  const config = join(home, 'config.json');
  const knownHosts = join(home, 'known_hosts');
  const env = { ...process.env, NFSVOL_CONFIG: config, HOME: home, SSH_AUTH_SOCK: '' };
  const cli = existsSync(BUILT) ? [BUILT] : ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];

  /** Runs the real CLI as a user would, prints `$ nfsvol ...` and its output; fails on a non-zero exit. */
  const nfsvol = (args: readonly string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      console.log(`${color(36, '$ nfsvol')} ${shown(args)}`);
      execFile(
        process.execPath,
        [...cli, ...args],
        { env, cwd: ROOT, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          if (stdout.trim()) console.log(indent(stdout));
          // Progress lines (stderr) repeat what stdout says once a command succeeds.
          if (err && stderr.trim()) console.log(indent(stderr));
          if (err) reject(new Error(`nfsvol ${args[0]} failed (exit ${String(err.code)})`));
          else resolve(stdout);
        },
      );
    });

  /** Runs a command on a lab host over SSH (as `ssh host ...` would) and prints it. */
  const onHost = async (h: LabHost, argv: readonly string[]): Promise<string> => {
    console.log(`${color(36, `$ ssh ${h.name}`)} ${shown(argv)}`);
    const r = await h.check(argv);
    if (r.stdout.trim()) console.log(indent(r.stdout));
    return r.stdout;
  };

  console.log(bold('nfsvol demo: shared, persistent Docker volumes on NFS, across hosts'));
  console.log(dim(`config ${config}; the lab is torn down at the end`));

  const [server, hosts] = await step(
    'bring up the lab: an NFS server and three Docker hosts (microVMs)',
    async () => {
      const started = await Promise.all([startNfsServer(), startHosts(3, { namePrefix: 'host' })]);
      const [s, hs] = started;
      console.log(
        indent(
          `NFS server nfs-ganesha on 127.0.0.1 (NFSv3 port ${s.nfsPort}, MOUNT ${s.mountPort}); hosts reach it as ${s.addressFromHosts}`,
        ),
      );
      for (const h of hs) console.log(indent(`${h.name}: ssh ${h.user}@${h.sshHost} -p ${h.sshPort}`));
      return started;
    },
  );
  const [h1, h2, h3] = hosts as [LabHost, LabHost, LabHost];
  try {
    // The user's known_hosts already lists host1 and host2; host3 will be pinned on first use.
    await writeFile(knownHosts, `${h1.knownHostsLine}\n${h2.knownHostsLine}\n`);
    const addHost = (h: LabHost, extra: string[] = []): Promise<string> =>
      nfsvol([
        'host',
        'add',
        h.name,
        '--ssh',
        `${h.user}@${h.sshHost}:${h.sshPort}`,
        '--identity',
        h.privateKeyPath,
        '--known-hosts',
        knownHosts,
        '--nfs-address',
        h.nfsAddress,
        ...extra,
      ]);

    await step('create the cluster registry on the export (no mount on this machine)', () =>
      nfsvol(['init', server.url(3), '--nfs-version', '4.1']),
    );
    await step('register two Docker hosts over SSH (host keys checked against known_hosts)', async () => {
      await addHost(h1);
      await addHost(h2);
      await nfsvol(['host', 'ls']);
    });
    await step('create a volume: a directory on the export, defined on every host', async () => {
      await nfsvol([
        'volume',
        'create',
        'appdata',
        '--uid',
        '1000',
        '--gid',
        '1000',
        '--mode',
        '0770',
        '--label',
        'app=demo',
      ]);
      await onHost(h2, ['docker', 'volume', 'ls', '--filter', 'label=nfsvol.managed=true']);
    });
    const written = await step('a container on host1 writes data to the volume', async () => {
      const out = await onHost(h1, [
        'docker',
        'run',
        '--name',
        'app',
        '-v',
        'appdata:/data',
        'busybox',
        'sh',
        '-c',
        'head -c 1048576 /dev/urandom > /data/blob && date > /data/written-at && sync && sha256sum /data/blob',
      ]);
      return out.split(' ')[0] ?? '';
    });
    await step('host1 loses power', async () => {
      console.log(`${color(36, '$')} ${dim('(qemu of host1 killed: no shutdown, no unmount)')}`);
      await h1.powerOff();
    });
    const read = await step(
      'the container is recreated on host2 with the same -v appdata:/data',
      async () => {
        const out = await onHost(h2, [
          'docker',
          'run',
          '--rm',
          '--name',
          'app',
          '-v',
          'appdata:/data',
          'busybox',
          'sh',
          '-c',
          'cat /data/written-at && sha256sum /data/blob',
        ]);
        return out.trim().split('\n').pop()?.split(' ')[0] ?? '';
      },
    );
    console.log(indent(`checksum written on host1: ${written}`));
    console.log(indent(`checksum read on host2:    ${read}`));
    if (!written || written !== read) throw new Error('the data did not survive the move');
    console.log(indent(bold('the data survived the move: checksums match')));

    await step('a third host joins and gets every volume', async () => {
      await addHost(h3, ['--accept-new-host-key']);
      await onHost(h3, ['docker', 'volume', 'ls', '--filter', 'label=nfsvol.managed=true']);
      await onHost(h3, [
        'docker',
        'run',
        '--rm',
        '-v',
        'appdata:/data',
        'busybox',
        'sha256sum',
        '/data/blob',
      ]);
    });
    await step('inspect the volume: where it lives, its usage, where it is defined', () =>
      nfsvol(['volume', 'inspect', 'appdata']),
    );
  } finally {
    await step('tear down the lab', async () => {
      await Promise.all(hosts.map((h) => h.stop()));
      await server.stop();
      await rm(home, { recursive: true, force: true });
    });
  }

  console.log(`\n${bold('time per step')}`);
  const total = steps.reduce((s, x) => s + x.seconds, 0);
  for (const [i, s] of steps.entries())
    console.log(`  ${String(i + 1).padStart(2)}. ${s.seconds.toFixed(1).padStart(6)} s  ${s.title}`);
  console.log(`      ${total.toFixed(1).padStart(6)} s  in all. Nothing is left running.`);
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
