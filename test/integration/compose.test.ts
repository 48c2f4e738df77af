// Compose files with nfsvol volumes, brought up with Debian's docker-compose against lab hosts'
// dockerd (their sockets forwarded here over SSH): deploy/examples/compose/ as a user runs it.
// h1 is a plugin host (`driver: nfsvol` creates the volume on demand), h2 gets `local`
// definitions over SSH; both modes share one registry, so the data follows the name.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';
import { forwardDocker, type ForwardedDocker } from '../support/docker-forward.js';
import { labHostAddArgs } from '../support/lab-host.js';
import { labPluginLog, PLUGIN_ROOT, startLabPlugin } from '../support/lab-plugin.js';

const run = promisify(execFile);
const EXAMPLES = resolve(import.meta.dirname, '../../deploy/examples/compose');

async function waitForFile(path: string, lines: number, why: () => Promise<string>): Promise<string> {
  for (let i = 0; ; i++) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text.split('\n').filter((l) => l !== '').length >= lines) return text;
    if (i > 300) throw new Error(`${path} never had ${lines} line(s): ${await why()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Compose files with nfsvol volumes (Debian docker-compose)', () => {
  let server: NfsServer;
  let h1: LabHost;
  let h2: LabHost;
  let user: CliUser;
  let d1: ForwardedDocker;
  let d2: ForwardedDocker;

  beforeAll(async () => {
    let hosts: LabHost[];
    [server, hosts] = await Promise.all([startNfsServer(), startHosts(2)]);
    [h1, h2] = hosts as [LabHost, LabHost];
    user = await cliUser();
    expectCode(await user.run(['init', server.url(4.1), '-q']), 0, 'init');
    expectCode(
      await user.run([...(await labHostAddArgs(user.home, 'h1', h1)), '--plugin', '-q']),
      0,
      'add h1',
    );
    expectCode(await user.run([...(await labHostAddArgs(user.home, 'h2', h2)), '-q']), 0, 'add h2');
    await startLabPlugin(h1, 'h1', user.config);
    [d1, d2] = await Promise.all([forwardDocker(h1), forwardDocker(h2)]);
  }, 900_000);

  afterAll(async () => {
    await Promise.all([d1?.close(), d2?.close()]);
    await Promise.all([h1?.stop(), h2?.stop()]);
    await server?.stop();
  });

  const compose = async (d: ForwardedDocker, file: string, project: string, ...args: string[]) =>
    run('docker-compose', ['-f', join(EXAMPLES, file), '-p', project, ...args], {
      env: { ...process.env, DOCKER_HOST: d.dockerHost },
      timeout: 300_000,
    });

  it('driver: nfsvol with driver_opts: created through the plugin on h1 with those options, then the same data on h2', async () => {
    await compose(d1, 'plugin/compose.yaml', 'ex1', 'up', '-d');
    const started = await waitForFile(join(server.exportDir, 'appdata', 'started'), 1, () =>
      labPluginLog(h1),
    );
    const inspected = await user.run(['volume', 'inspect', 'appdata', '--json']);
    expectCode(inspected, 0, 'inspect');
    expect(JSON.parse(inspected.stdout)).toMatchObject({
      name: 'appdata',
      uid: 1000,
      gid: 1000,
      mode: 0o770,
      onDelete: 'retain',
      labels: { app: 'example' },
      mounts: [{ host: 'h1', path: `${PLUGIN_ROOT}/appdata` }],
    });

    // h2 has no plugin: the registry's next sync gives it a local definition of the same name.
    expectCode(await user.run(['sync', '-q']), 0, 'sync');
    const seen = await h2.check([
      'docker',
      'run',
      '--rm',
      '-v',
      'appdata:/data',
      'busybox',
      'cat',
      '/data/started',
    ]);
    expect(seen.stdout).toBe(started);
    // ...and h1, a plugin host, got none (its Docker has the plugin's volume of that name).
    expect((await h1.check(['docker', 'volume', 'ls', '--format', '{{.Driver}} {{.Name}}'])).stdout).toBe(
      'nfsvol appdata\n',
    );

    await compose(d1, 'plugin/compose.yaml', 'ex1', 'down');
    const after = await user.run(['volume', 'inspect', 'appdata', '--json']);
    expect(JSON.parse(after.stdout)).toMatchObject({ mounts: [] });
    // `down` without -v keeps the volume; its data stays on the export.
    expect(await readFile(join(server.exportDir, 'appdata', 'started'), 'utf8')).toBe(started);
  });

  it('external: true: a volume nfsvol made is used as is on both hosts, plugin and local definitions alike', async () => {
    expectCode(await user.run(['volume', 'create', 'shared', '--uid', '1000', '-q']), 0, 'create');
    await compose(d1, 'external/compose.yaml', 'ex2', 'up', '-d');
    await compose(d2, 'external/compose.yaml', 'ex2', 'up', '-d');
    const text = await waitForFile(join(server.exportDir, 'shared', 'seen-by'), 2, async () =>
      [await labPluginLog(h1), (await h2.exec(['docker', 'ps', '-a'])).stdout].join('\n'),
    );
    // Two containers, one on each host, appended to one file.
    expect(new Set(text.trim().split('\n')).size).toBe(2);
    const drivers = async (h: LabHost) =>
      (await h.check(['docker', 'volume', 'inspect', 'shared', '--format', '{{.Driver}}'])).stdout.trim();
    expect([await drivers(h1), await drivers(h2)]).toEqual(['nfsvol', 'local']);
    await compose(d1, 'external/compose.yaml', 'ex2', 'down');
    await compose(d2, 'external/compose.yaml', 'ex2', 'down');
    // Compose left the volume alone (external): nfsvol still has it.
    expect((await user.run(['volume', 'ls', '-q'])).stdout).toBe('appdata\nshared\n');
  });
});
