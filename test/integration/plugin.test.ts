// The Docker volume plugin on a real Docker host: `nfsvol plugin serve` runs on a lab microVM
// (this machine's node and the bundled CLI copied in), dockerd finds it by its socket, and
// `docker volume create -d nfsvol` / `docker run -v` / `docker volume rm` go through it to the
// real export; the same volumes are the CLI's on this machine.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';
import { bundleCli } from '../support/bundle-cli.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';
import { labHostAddArgs } from '../support/lab-host.js';

const run = promisify(execFile);
const ROOT = '/var/lib/nfsvol/mnt';
const SOCKET = '/run/docker/plugins/nfsvol.sock';
/** What the bundle needs beside it: ssh2 (external to the bundle) and its dependencies. */
const MODULES = ['ssh2', 'asn1', 'safer-buffer', 'bcrypt-pbkdf', 'tweetnacl'];

describe('nfsvol plugin serve on a lab host, driven by dockerd', () => {
  let server: NfsServer;
  let host: LabHost;
  let user: CliUser;

  beforeAll(async () => {
    let hosts: LabHost[];
    [server, hosts] = await Promise.all([startNfsServer(), startHosts(1)]);
    host = hosts[0]!;
    user = await cliUser();
    expectCode(await user.run(['init', server.url(4.1), '-q']), 0, 'init');
    expectCode(await user.run([...(await labHostAddArgs(user.home, 'h1', host)), '-q']), 0, 'host add');
    // This machine's node and the CLI bundle, into the VM (it has no node of its own).
    const dist = await mkdtemp(join(tmpdir(), 'nfsvol-plugin-dist-'));
    await bundleCli(dist);
    const node = (
      await run('sh', ['-c', 'gzip -1 -c "$1"', 'sh', process.execPath], {
        encoding: 'buffer',
        maxBuffer: 256 * 1024 * 1024,
      })
    ).stdout;
    await host.check(['sh', '-c', 'gunzip > /usr/local/bin/node && chmod 755 /usr/local/bin/node'], {
      input: node,
      timeoutMs: 300_000,
    });
    const bundle = (
      await run(
        'tar',
        ['-czhf', '-', '-C', dist, 'nfsvol.js', 'package.json', ...MODULES.map((m) => `node_modules/${m}`)],
        { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
      )
    ).stdout;
    await host.check(['sh', '-c', 'mkdir -p /opt/nfsvol && tar -xzf - -C /opt/nfsvol'], {
      input: bundle,
      timeoutMs: 120_000,
    });
    // The plugin reaches the export where the host does (10.0.2.2), as the cluster this user made.
    const config = (await readFile(user.config, 'utf8')).replace(
      'nfs://127.0.0.1',
      `nfs://${host.nfsAddress}`,
    );
    await host.check(
      ['sh', '-c', 'mkdir -p /root/.config/nfsvol && cat > /root/.config/nfsvol/config.json'],
      {
        input: config,
      },
    );
    await host.check([
      'sh',
      '-c',
      'mkdir -p /run/docker/plugins && (HOME=/root nohup /usr/local/bin/node /opt/nfsvol/nfsvol.js plugin serve --host h1 > /var/log/nfsvol-plugin.log 2>&1 &)',
    ]);
    for (let i = 0; ; i++) {
      if ((await host.exec(['test', '-S', SOCKET])).code === 0) break;
      if (i > 240) {
        const log = await host.exec(['cat', '/var/log/nfsvol-plugin.log']);
        throw new Error(`the plugin did not open ${SOCKET}: ${log.stdout}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 900_000);

  afterAll(async () => {
    await host?.stop();
    await server?.stop();
  });

  const mountsOf = async (volume: string): Promise<string[]> =>
    (await host.exec(['findmnt', '-n', '-t', 'nfs,nfs4', '-o', 'TARGET'])).stdout
      .split('\n')
      .filter((t) => t === `${ROOT}/${volume}`);

  it('docker volume create -d nfsvol makes the volume the CLI sees; containers share one mount; rm goes through the registry', async () => {
    await host.check([
      'docker',
      'volume',
      'create',
      '-d',
      'nfsvol',
      '-o',
      'uid=1000',
      '-o',
      'mode=0770',
      '-o',
      'label.team=web',
      'pv1',
    ]);
    const inspected = await user.run(['volume', 'inspect', 'pv1', '--json']);
    expectCode(inspected, 0, 'inspect');
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      name: 'pv1',
      uid: 1000,
      mode: 0o770,
      labels: { team: 'web' },
    });
    // Asked again on this host, dockerd answers from its own store and does not call the plugin
    // (a Create with other options reaches the plugin from another host: test/unit/plugin).
    await host.check(['docker', 'volume', 'create', '-d', 'nfsvol', '-o', 'uid=1000', 'pv1']);
    expect(
      (await host.check(['docker', 'volume', 'ls', '--format', '{{.Driver}} {{.Name}}'])).stdout,
    ).toContain('nfsvol pv1');

    const wrote = await host.check([
      'docker',
      'run',
      '--rm',
      '-v',
      'pv1:/data',
      'busybox',
      'sh',
      '-c',
      'echo written-in-a-container > /data/f && cat /data/f',
    ]);
    expect(wrote.stdout).toBe('written-in-a-container\n');
    expect(await readFile(join(server.exportDir, 'pv1', 'f'), 'utf8')).toBe('written-in-a-container\n');
    expect(await mountsOf('pv1')).toEqual([]); // the last container gone, the mount went with it

    await host.check([
      'docker',
      'run',
      '-d',
      '--name',
      'user-a',
      '-v',
      'pv1:/data',
      'busybox',
      'sleep',
      '600',
    ]);
    await host.check([
      'docker',
      'run',
      '-d',
      '--name',
      'user-b',
      '-v',
      'pv1:/data',
      'busybox',
      'sleep',
      '600',
    ]);
    expect(await mountsOf('pv1')).toEqual([`${ROOT}/pv1`]);
    const refused = await user.run(['volume', 'rm', 'pv1']);
    expect(refused.code).toBe(1);
    expect(refused.stdout + refused.stderr).toMatch(/pv1 is mounted on h1/);
    await host.check(['docker', 'rm', '-f', 'user-a']);
    expect(await mountsOf('pv1')).toEqual([`${ROOT}/pv1`]);
    expect((await host.check(['docker', 'exec', 'user-b', 'cat', '/data/f'])).stdout).toBe(
      'written-in-a-container\n',
    );
    await host.check(['docker', 'rm', '-f', 'user-b']);
    expect(await mountsOf('pv1')).toEqual([]);

    await host.check(['docker', 'volume', 'rm', 'pv1']);
    expect((await user.run(['volume', 'ls', '-q'])).stdout).toBe('');
    // Retained by its policy (the default): the data stays on the export, the volume is gone.
    expect(await readFile(join(server.exportDir, 'pv1', 'f'), 'utf8')).toBe('written-in-a-container\n');
  });
});
