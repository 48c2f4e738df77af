// The CLI end to end on a v4.1-only server (no rpcbind, no MOUNT): nfsvol provisions over its
// own NFSv4.1 client (`?version=4.1` in the URL) and a lab host mounts the volume with NFSv4.1.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';
import { labHostAddArgs } from '../support/lab-host.js';

describe('nfsvol CLI on a v4.1-only server', () => {
  let server: NfsServer;
  let host: LabHost;
  let user: CliUser;

  beforeAll(async () => {
    let hosts: LabHost[];
    [server, hosts] = await Promise.all([startNfsServer({ v41Only: true }), startHosts(1)]);
    host = hosts[0]!;
    user = await cliUser();
  });

  afterAll(async () => {
    await host?.stop();
    await server?.stop();
  });

  it('init, volume create, ls, inspect and rm over NFSv4.1; a container on a host uses the volume', async () => {
    expectCode(await user.run(['init', server.url(4.1), '-q']), 0, 'init');
    expect((await stat(join(server.exportDir, '.nfsvol'))).isDirectory()).toBe(true);
    expectCode(await user.run([...(await labHostAddArgs(user.home, 'v41host', host)), '-q']), 0, 'host add');

    expectCode(
      await user.run([
        'volume',
        'create',
        'v41a',
        'v41b',
        '--uid',
        '1000',
        '--gid',
        '1001',
        '--mode',
        '0770',
        '-q',
      ]),
      0,
      'create',
    );
    for (const name of ['v41a', 'v41b']) {
      const st = await stat(join(server.exportDir, name));
      expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o770, 1000, 1001]);
    }
    await host.check([
      'docker',
      'run',
      '--rm',
      '-v',
      'v41a:/data',
      'busybox',
      'sh',
      '-c',
      'echo v41 > /data/f',
    ]);
    expect(await readFile(join(server.exportDir, 'v41a', 'f'), 'utf8')).toBe('v41\n');

    const ls = await user.run(['volume', 'ls', '--json']);
    expectCode(ls, 0, 'ls');
    const listed = JSON.parse(ls.stdout) as { name: string; uid: number; gid: number; mode: number }[];
    expect(listed.map((v) => v.name).sort()).toEqual(['v41a', 'v41b']);
    expect(listed[0]).toMatchObject({ uid: 1000, gid: 1001, mode: 0o770 });

    const ins = await user.run(['volume', 'inspect', 'v41a', '--json']);
    expectCode(ins, 0, 'inspect');
    const d = JSON.parse(ins.stdout) as { name: string; usage: { files: number }; hosts: { host: string }[] };
    expect(d).toMatchObject({ name: 'v41a', usage: { files: 1 } });
    expect(d.hosts.map((h) => h.host)).toEqual(['v41host']);

    const rm = await user.run(['volume', 'rm', 'v41a', 'v41b']);
    expectCode(rm, 0, 'rm');
    expect(rm.stdout).toMatch(/removed v41a/);
    expect(rm.stdout).toMatch(/removed v41b/);
    const after = await user.run(['volume', 'ls', '--json']);
    expect(JSON.parse(after.stdout)).toEqual([]);
    expect((await host.check(['docker', 'volume', 'ls', '--quiet'])).stdout).not.toMatch(/v41a/);
  });

  it('a typo in the URL is refused before anything is sent', async () => {
    const r = await user.run(['init', server.url(4.1).replace('version=4.1', 'version=4.2')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/version: must be 3 or 4.1, or auto/);
  });
});
