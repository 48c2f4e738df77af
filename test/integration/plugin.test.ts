// The Docker volume plugin on a real Docker host: `nfsvol plugin serve` runs on a lab microVM
// (this machine's node and the bundled CLI copied in), dockerd finds it by its socket, and
// `docker volume create -d nfsvol` / `docker run -v` / `docker volume rm` go through it to the
// real export; the same volumes are the CLI's on this machine.
import { cp, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';
import { labHostAddArgs } from '../support/lab-host.js';
import { PLUGIN_ROOT as ROOT, restartLabPlugin, startLabPlugin } from '../support/lab-plugin.js';

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
    await startLabPlugin(host, 'h1', user.config);
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

  it('a mount whose handle went stale (the volume directory recreated, the server restarted) is mounted again for the next container', async () => {
    await host.check(['docker', 'volume', 'create', '-d', 'nfsvol', 'pv2']);
    await host.check([
      'docker',
      'run',
      '-d',
      '--name',
      'holder',
      '-v',
      'pv2:/data',
      'busybox',
      'sh',
      '-c',
      'echo before > /data/f && sleep 600',
    ]);
    const dir = join(server.exportDir, 'pv2');
    for (let i = 0; !(await readFile(join(dir, 'f'), 'utf8').catch(() => '')); i++) {
      if (i > 100) throw new Error('the container did not write');
      await new Promise((r) => setTimeout(r, 200));
    }
    // Restored from a copy: same content, new inodes, so every handle to the old one is stale.
    await cp(dir, `${dir}.new`, { recursive: true, preserveTimestamps: true });
    await rm(dir, { recursive: true });
    await rename(`${dir}.new`, dir);
    await server.restart();
    const probe = await host.exec(['timeout', '20', 'stat', '-f', `${ROOT}/pv2`]);
    expect(probe.code).not.toBe(0); // the mount the plugin made is dead

    const read = await host.check(['docker', 'run', '--rm', '-v', 'pv2:/data', 'busybox', 'cat', '/data/f'], {
      timeoutMs: 180_000,
    });
    expect(read.stdout).toBe('before\n');
    await host.check(['docker', 'rm', '-f', 'holder']);
  });

  it('a restarted plugin keeps the count: the container that mounted before the restart releases the mount after it', async () => {
    await host.check(['docker', 'volume', 'create', '-d', 'nfsvol', 'pv3']);
    await host.check(['docker', 'run', '-d', '--name', 'long', '-v', 'pv3:/data', 'busybox', 'sleep', '600']);
    expect(await mountsOf('pv3')).toEqual([`${ROOT}/pv3`]);
    await restartLabPlugin(host, 'h1');
    expect(await mountsOf('pv3')).toEqual([`${ROOT}/pv3`]);
    await host.check(['docker', 'rm', '-f', 'long']);
    expect(await mountsOf('pv3')).toEqual([]);
    const inspected = await user.run(['volume', 'inspect', 'pv3', '--json']);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ mounts: [] });
  });
});
