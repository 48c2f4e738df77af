import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LabHost } from '../../deploy/lab/index.js';
import { bundleCli } from './bundle-cli.js';

const run = promisify(execFile);

/** Where dockerd finds the legacy plugin by name (`-d nfsvol`). */
export const PLUGIN_SOCKET = '/run/docker/plugins/nfsvol.sock';
/** Where the plugin mounts volumes for containers. */
export const PLUGIN_ROOT = '/var/lib/nfsvol/mnt';
/** What the bundle needs beside it: ssh2 (external to the bundle) and its dependencies. */
const MODULES = ['ssh2', 'asn1', 'safer-buffer', 'bcrypt-pbkdf', 'tweetnacl'];

let packed: Promise<{ node: Buffer; bundle: Buffer }> | undefined;

/** This machine's node (gzipped) and the CLI bundle with its modules (a tarball), made once. */
function artefacts(): Promise<{ node: Buffer; bundle: Buffer }> {
  packed ??= (async () => {
    const dist = await mkdtemp(join(tmpdir(), 'nfsvol-plugin-dist-'));
    await bundleCli(dist);
    const opts = { encoding: 'buffer' as const, maxBuffer: 256 * 1024 * 1024 };
    const node = (await run('sh', ['-c', 'gzip -1 -c "$1"', 'sh', process.execPath], opts)).stdout;
    const bundle = (
      await run(
        'tar',
        ['-czhf', '-', '-C', dist, 'nfsvol.js', 'package.json', ...MODULES.map((m) => `node_modules/${m}`)],
        opts,
      )
    ).stdout;
    return { node, bundle };
  })();
  return packed;
}

/**
 * Runs `nfsvol plugin serve --host NAME` on a lab host as a legacy plugin (a process beside
 * dockerd, its socket in /run/docker/plugins/): this machine's node and the CLI bundle copied
 * in (the VM has no node), with `configPath`'s cluster reached at the address the host uses
 * for the NFS server. Resolves when the socket is there.
 */
export async function startLabPlugin(host: LabHost, name: string, configPath: string): Promise<void> {
  const { node, bundle } = await artefacts();
  await host.check(['sh', '-c', 'gunzip > /usr/local/bin/node && chmod 755 /usr/local/bin/node'], {
    input: node,
    timeoutMs: 300_000,
  });
  await host.check(['sh', '-c', 'mkdir -p /opt/nfsvol && tar -xzf - -C /opt/nfsvol'], {
    input: bundle,
    timeoutMs: 120_000,
  });
  const config = (await readFile(configPath, 'utf8')).replace('nfs://127.0.0.1', `nfs://${host.nfsAddress}`);
  await host.check(['sh', '-c', 'mkdir -p /root/.config/nfsvol && cat > /root/.config/nfsvol/config.json'], {
    input: config,
  });
  await restartLabPlugin(host, name);
}

/** Starts (again) the plugin installed by `startLabPlugin`, stopping one that runs. */
export async function restartLabPlugin(host: LabHost, name: string): Promise<void> {
  await host.exec(['pkill', '-f', 'nfsvol.js plugin serve']);
  for (let i = 0; (await host.exec(['pgrep', '-f', 'nfsvol.js plugin serve'])).code === 0; i++) {
    if (i > 100) throw new Error(`the plugin on ${name} did not stop`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const served = async (): Promise<number> =>
    (await labPluginLog(host)).split('\n').filter((l) => l.startsWith('nfsvol plugin: serving ')).length;
  const before = await served();
  await host.check([
    'sh',
    '-c',
    'mkdir -p /run/docker/plugins && (HOME=/root nohup /usr/local/bin/node /opt/nfsvol/nfsvol.js plugin serve --host "$1" >> /var/log/nfsvol-plugin.log 2>&1 &)',
    'sh',
    name,
  ]);
  for (let i = 0; (await served()) <= before; i++) {
    if (i > 480) throw new Error(`the plugin on ${name} did not start: ${await labPluginLog(host)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The plugin's log on a lab host (for failure messages). */
export async function labPluginLog(host: LabHost): Promise<string> {
  return (await host.exec(['cat', '/var/log/nfsvol-plugin.log'])).stdout;
}
