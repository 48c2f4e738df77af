// What can change after create, on the lab: a cluster whose server address is wrong for a host
// is moved with `cluster set --server`, after which `docker run -v` works there; a volume's
// mount options change on the host where it is free and are owed where a container holds it,
// until `sync`; owner and mode reach the directory on the export.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';

describe('nfsvol CLI: changing a cluster and a volume after create, on the lab', () => {
  let server: NfsServer;
  let host: LabHost;
  let user: CliUser;

  beforeAll(async () => {
    let hosts: LabHost[];
    [server, hosts] = await Promise.all([startNfsServer(), startHosts(1)]);
    host = hosts[0]!;
    user = await cliUser();
    expectCode(await user.run(['init', server.url(3), '--nfs-version', '4.1']), 0, 'init');
    // No --nfs-address: the host gets the cluster's server address, 127.0.0.1, which is the
    // CLI machine's loopback and, inside the VM, the VM itself.
    const add = await user.run([
      'host',
      'add',
      'h1',
      '--ssh',
      `${host.user}@${host.sshHost}:${host.sshPort}`,
      '--identity',
      host.privateKeyPath,
      '--known-hosts',
      join(user.home, 'known_hosts'),
      '--accept-new-host-key',
    ]);
    expectCode(add, 0, 'host add');
  });

  afterAll(async () => {
    await host?.stop();
    await server?.stop();
  });

  const optionsOn = async (volume: string): Promise<string> => {
    const r = await host.check(['docker', 'volume', 'inspect', '--format', '{{index .Options "o"}}', volume]);
    return r.stdout.trim();
  };

  it('cluster set --server moves the definitions: a container that could not mount the volume now can', async () => {
    expectCode(await user.run(['volume', 'create', 'moved']), 0, 'create');
    expect(await optionsOn('moved')).toContain('addr=127.0.0.1');
    const before = await host.exec(['docker', 'run', '--rm', '-v', 'moved:/data', 'busybox', 'true']);
    expect(before.code).not.toBe(0);

    const set = await user.run(['cluster', 'set', '--server', host.nfsAddress]);
    expectCode(set, 0, 'cluster set');
    expect(set.stdout).toMatch(/host h1: ok, 0 defined, 0 removed, 1 redefined/);
    expect(await optionsOn('moved')).toContain(`addr=${host.nfsAddress}`);
    await host.check([
      'docker',
      'run',
      '--rm',
      '-v',
      'moved:/data',
      'busybox',
      'sh',
      '-c',
      'echo moved > /data/f',
    ]);
    expect((await stat(join(server.exportDir, 'moved', 'f'))).size).toBe(6);
  });

  it('volume update --mount-options: owed while a container holds the volume, finished by sync', async () => {
    expectCode(await user.run(['volume', 'create', 'tuned']), 0, 'create');
    await host.check(['docker', 'create', '--name', 'holder', '-v', 'tuned:/data', 'busybox', 'true']);
    const upd = await user.run(['volume', 'update', 'tuned', '--mount-options', 'soft,timeo=50']);
    expectCode(upd, 3, 'update while held');
    expect(upd.stdout).toMatch(/tuned failed: .*\(VOLUME_IN_USE\)/);
    expect(await optionsOn('tuned')).not.toContain('soft');
    expect((await user.run(['host', 'ls'])).stdout).toContain('sync tuned');

    expectCode(await user.run(['sync']), 1, 'sync while still held (its only host failed)');
    await host.check(['docker', 'rm', 'holder']);
    expectCode(await user.run(['sync']), 0, 'sync once free');
    expect(await optionsOn('tuned')).toMatch(/soft,timeo=50$/);
    await host.check(['docker', 'run', '--rm', '-v', 'tuned:/data', 'busybox', 'touch', '/data/ok']);
  });

  it('volume update --uid --gid --mode: the directory on the export gets them', async () => {
    expectCode(
      await user.run(['volume', 'update', 'tuned', '--uid', '999', '--gid', '998', '--mode', '0700']),
      0,
      'update',
    );
    const st = await stat(join(server.exportDir, 'tuned'));
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([999, 998, 0o700]);
    const inspect = JSON.parse((await user.run(['volume', 'inspect', 'tuned', '--json'])).stdout) as {
      uid: number;
      mode: number;
    };
    expect([inspect.uid, inspect.mode]).toEqual([999, 0o700]);
  });
});
