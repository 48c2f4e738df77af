/**
 * The CLI as a real process (its own stdout, stderr and terminal, as cli/main.ts wires them)
 * over a fake cluster: an in-memory export and two fake Docker hosts. Lets tests see what a user
 * sees in a pipe or a terminal (EPIPE, the progress display) without the lab.
 *
 *   node --import tsx test/support/fake-cluster-cli.ts volume ls | head -1
 *
 * Environment: FAKE_VOLUMES=N volumes exist before the command runs (named v00000...);
 * FAKE_MKDIR_MS=N makes each directory creation on the export take N ms (a slow server).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/app.js';
import type { CliDeps } from '../../cli/context.js';
import { processIo } from '../../cli/process-io.js';
import { FakeDockerHost, fakeOpener } from '../fakes/fake-host.js';
import { MemoryNfs, sharedView } from '../fakes/memory-nfs.js';

const dir = await mkdtemp(join(tmpdir(), 'nfsvol-fake-cli-'));
const fs = new MemoryNfs();
const hosts = new Map<string, FakeDockerHost>();
for (const port of [2201, 2202]) hosts.set(`127.0.0.1:${port}`, new FakeDockerHost(`127.0.0.1:${port}`));
const env = { ...process.env, NFSVOL_CONFIG: join(dir, 'config.json') };
const cluster = { connectNfs: async () => sharedView(fs), openHost: fakeOpener(hosts) };
const silent: CliDeps = {
  io: { stdout: () => undefined, stderr: (t) => process.stderr.write(t), env },
  cluster,
};

const setup = async (...args: string[]): Promise<void> => {
  const code = await runCli(args, silent);
  if (code !== 0) throw new Error(`set-up step failed (exit ${code}): ${args.join(' ')}`);
};
await setup('init', 'nfs://127.0.0.1:2049/export', '--nfs-version', '3', '-q');
for (const [i, port] of [2201, 2202].entries()) {
  await setup(
    'host',
    'add',
    `h${i + 1}`,
    '--ssh',
    `root@127.0.0.1:${port}`,
    '--known-hosts',
    join(dir, 'known_hosts'),
    '--accept-new-host-key',
    '-q',
  );
}
const existing = Number(process.env['FAKE_VOLUMES'] ?? 0);
if (existing > 0) {
  await setup(
    'volume',
    'create',
    '-q',
    ...Array.from({ length: existing }, (_, i) => `v${String(i).padStart(5, '0')}`),
  );
}
const delay = Number(process.env['FAKE_MKDIR_MS'] ?? 0);
if (delay > 0) {
  const mkdir = fs.mkdir.bind(fs);
  fs.mkdir = async (...a: Parameters<typeof mkdir>) => {
    await new Promise((r) => setTimeout(r, delay));
    return mkdir(...a);
  };
}

const io = processIo();
process.exitCode = await runCli(process.argv.slice(2), { io: { ...io, env }, cluster });
