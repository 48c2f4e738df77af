// NFSv3 end to end on the lab: host mounts go through mount.nfs (which must not need the
// server's rpcbind on port 111) and Docker definitions through mount(2).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';
import { HOSTILE_NAMES } from '../fakes/hostile-inputs.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';
import { labHostAddArgs } from '../support/lab-host.js';

describe('nfsvol CLI on the lab with NFSv3', () => {
  let server: NfsServer;
  let host: LabHost;
  let user: CliUser;

  beforeAll(async () => {
    let hosts: LabHost[];
    [server, hosts] = await Promise.all([startNfsServer(), startHosts(1)]);
    host = hosts[0]!;
    user = await cliUser();
  });

  afterAll(async () => {
    await host?.stop();
    await server?.stop();
  });

  it('checks the host with a real v3 mount, and a v3 volume works in a container and on a host path', async () => {
    expectCode(
      await user.run([
        'init',
        server.url(3),
        '--nfs-version',
        '3',
        '--mount-options',
        'hard,timeo=600',
        '-q',
      ]),
      0,
      'init',
    );
    expectCode(await user.run([...(await labHostAddArgs(user.home, 'v3host', host)), '-q']), 0, 'host add');
    const check = await user.run(['host', 'check', 'v3host', '--json']);
    expectCode(check, 0, 'host check');
    expect((JSON.parse(check.stdout) as { checks: { check: string; ok: boolean }[] }).checks).toEqual([
      expect.objectContaining({ check: 'ssh', ok: true }),
      expect.objectContaining({ check: 'docker', ok: true }),
      expect.objectContaining({ check: 'nfs-kernel', ok: true }),
      expect.objectContaining({ check: 'nfs-mount', ok: true }),
    ]);

    expectCode(
      await user.run(['volume', 'create', 'v3vol', '--uid', '1000', '--mode', '0770', '-q']),
      0,
      'create',
    );
    await host.check([
      'docker',
      'run',
      '--rm',
      '-v',
      'v3vol:/data',
      'busybox',
      'sh',
      '-c',
      'echo v3 > /data/f',
    ]);
    expect(await readFile(join(server.exportDir, 'v3vol', 'f'), 'utf8')).toBe('v3\n');

    expectCode(
      await user.run(['volume', 'mount', 'v3vol', '--host', 'v3host', '--path', '/mnt/v3', '-q']),
      0,
      'mount',
    );
    expect((await host.check(['cat', '/mnt/v3/f'])).stdout).toBe('v3\n');
    expectCode(await user.run(['volume', 'unmount', 'v3vol', '--host', 'v3host', '-q']), 0, 'unmount');
  });

  it('hostile names and options are refused (exit 2) or stored as plain text; no injected command runs on the host', async () => {
    const canary = '/tmp/nfsvol-canary';
    const inject = `$(touch ${canary})`;
    const runs = await Promise.all([
      ...HOSTILE_NAMES.filter((n) => !n.includes('\0')).map((n) => user.run(['volume', 'create', n])),
      user.run(['volume', 'create', `x${inject}`]),
      user.run(['volume', 'create', 'okname', '--label', `bad key=${inject}`]),
      user.run(['volume', 'mount', 'v3vol', '--host', 'v3host', '--path', `/mnt/${inject}/../x`]),
      user.run(['volume', 'mount', 'v3vol', '--host', `v3host;touch ${canary}`, '--path', '/mnt/x']),
      user.run(['host', 'add', 'evil', '--ssh', `root@127.0.0.1;touch ${canary}`]),
      user.run([
        'host',
        'add',
        'evil',
        '--ssh',
        `root@127.0.0.1:${host.sshPort}`,
        '--nfs-address',
        `\`touch ${canary}\``,
      ]),
    ]);
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^nfsvol: .+ \((VALIDATION|USAGE)\)\n$/);
    }
    // A label value is data, stored in the registry and never sent to a shell.
    expectCode(
      await user.run(['volume', 'create', 'labelled', '--label', `cmd=${inject};\`touch ${canary}\``, '-q']),
      0,
      'create',
    );
    const ins = JSON.parse((await user.run(['volume', 'inspect', 'labelled', '--json'])).stdout) as {
      labels: Record<string, string>;
    };
    expect(ins.labels['cmd']).toBe(`${inject};\`touch ${canary}\``);
    expectCode(await user.run(['sync', '-q']), 0, 'sync');
    expect((await host.exec(['test', '-e', canary])).code).not.toBe(0);
    expect((await host.exec(['sh', '-c', 'ls /mnt'])).stdout).not.toMatch(/touch/);
  });
});
