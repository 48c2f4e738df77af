// The real CLI on the lab, as a user drives it. Real NFS server (ganesha
// in a container), real Docker hosts (qemu microVMs with a kernel NFS client), real SSH.
import { execFileSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';

interface DockerVolume {
  Name: string;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

async function dockerVolumes(h: LabHost): Promise<string[]> {
  const r = await h.check(['docker', 'volume', 'ls', '--quiet', '--filter', 'label=nfsvol.managed=true']);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('nfsvol CLI on the lab', () => {
  let server: NfsServer;
  let hosts: LabHost[] = [];
  let user: CliUser;
  let knownHosts: string;

  const sshOf = (h: LabHost): string => `${h.user}@${h.sshHost}:${h.sshPort}`;
  const addArgs = (name: string, h: LabHost): string[] => [
    'host',
    'add',
    name,
    '--ssh',
    sshOf(h),
    '--identity',
    h.privateKeyPath,
    '--known-hosts',
    knownHosts,
    '--nfs-address',
    h.nfsAddress,
  ];

  beforeAll(async () => {
    [server, hosts] = await Promise.all([startNfsServer(), startHosts(2)]);
    user = await cliUser();
    knownHosts = join(user.home, 'known_hosts');
  });

  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
    await server?.stop();
  });

  it('init, then add two hosts: one known from known_hosts, one pinned with --accept-new-host-key', async () => {
    const init = await user.run(['init', server.url(3), '--nfs-version', '4.1']);
    expectCode(init, 0, 'init');
    expect(init.stdout).toMatch(/created cluster \w+/);

    const [h1, h2] = hosts as [LabHost, LabHost];
    await writeFile(knownHosts, `${h1.knownHostsLine}\n`);
    // h2 is not in known_hosts: refused without --accept-new-host-key.
    const refused = await user.run(addArgs('h2', h2));
    expectCode(refused, 1, 'unknown key');
    expect(refused.stderr).toMatch(/host key SHA256:\S+ is not in .*known_hosts.*\(HOST_KEY_UNKNOWN\)/);

    expectCode(await user.run(addArgs('h1', h1)), 0, 'add h1');
    const add2 = await user.run([...addArgs('h2', h2), '--accept-new-host-key']);
    expectCode(add2, 0, 'add h2');
    // Pinned where ssh finds it (hashed if /etc/ssh/ssh_config says HashKnownHosts yes).
    const pinned = execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${h2.sshPort}`, '-f', knownHosts], {
      encoding: 'utf8',
    });
    expect(pinned).toContain(h2.hostPublicKey.split(' ')[1]);

    const check = await user.run(['host', 'check', 'h1']);
    expectCode(check, 0, 'check h1');
    expect(check.stdout.match(/^PASS/gm)).toHaveLength(4);
  });

  it('a volume written on host 1 is read on host 2 after host 1 is powered off', async () => {
    const [h1, h2] = hosts as [LabHost, LabHost];
    const created = await user.run(['volume', 'create', 'shared', '--label', 'app=demo=1']);
    expectCode(created, 0, 'create');
    for (const h of [h1, h2]) {
      const inspect = JSON.parse(
        (await h.check(['docker', 'volume', 'inspect', 'shared'])).stdout,
      ) as DockerVolume[];
      expect(inspect[0]?.Options).toEqual({
        type: 'nfs4',
        o: `addr=10.0.2.2,port=${server.nfsPort},vers=4.1`,
        device: ':/export/shared',
      });
    }

    await h1.check([
      'docker',
      'run',
      '--name',
      'writer',
      '-v',
      'shared:/data',
      'busybox',
      'sh',
      '-c',
      'echo "written on h1" > /data/msg && sync',
    ]);
    await h1.powerOff();

    const read = await h2.check([
      'docker',
      'run',
      '--rm',
      '-v',
      'shared:/data',
      'busybox',
      'cat',
      '/data/msg',
    ]);
    expect(read.stdout).toBe('written on h1\n');
    expect(await readFile(join(server.exportDir, 'shared', 'msg'), 'utf8')).toBe('written on h1\n');
  });

  it('while host 1 is off, creates finish elsewhere (exit 3, host 1 pending); sync after it returns completes it', async () => {
    const [h1, h2] = hosts as [LabHost, LabHost];
    const r = await user.run(['volume', 'create', 'while-down']);
    expectCode(r, 3, 'create while h1 is down');
    expect(r.stdout).toMatch(/host h1: FAILED .*pending/);
    expect(r.stdout).toMatch(/host h2: ok, 1 defined/);
    const ls = JSON.parse((await user.run(['host', 'ls', '--json'])).stdout) as {
      name: string;
      pending: string[];
    }[];
    expect(ls.find((h) => h.name === 'h1')?.pending).toEqual(['define while-down']);

    await h1.powerOn();
    const sync = await user.run(['sync']);
    expectCode(sync, 0, 'sync');
    expect(sync.stdout).toMatch(/host h1: ok, 1 defined/);
    expect(await dockerVolumes(h1)).toEqual(['shared', 'while-down']);
    expect(await dockerVolumes(h2)).toEqual(['shared', 'while-down']);
    const after = JSON.parse((await user.run(['host', 'ls', '--json'])).stdout) as { pending: string[] }[];
    expect(after.every((h) => h.pending.length === 0)).toBe(true);
  });

  it('a third host added later has every volume', async () => {
    const [h3] = await startHosts(1);
    hosts.push(h3!);
    expectCode(await user.run([...addArgs('h3', h3!), '--accept-new-host-key']), 0, 'add h3');
    expect(await dockerVolumes(h3!)).toEqual(['shared', 'while-down']);
    const read = await h3!.check([
      'docker',
      'run',
      '--rm',
      '-v',
      'shared:/data',
      'busybox',
      'cat',
      '/data/msg',
    ]);
    expect(read.stdout).toBe('written on h1\n');
  });

  it('volume mount puts the volume on a host path; rm is refused while mounted', async () => {
    const h3 = hosts[2]!;
    expectCode(
      await user.run(['volume', 'mount', 'shared', '--host', 'h3', '--path', '/mnt/shared']),
      0,
      'mount',
    );
    expect((await h3.check(['cat', '/mnt/shared/msg'])).stdout).toBe('written on h1\n');
    const rm = await user.run(['volume', 'rm', 'shared']);
    expectCode(rm, 1, 'rm while mounted');
    expect(rm.stdout).toContain('shared is mounted on h3:/mnt/shared');
    expectCode(await user.run(['volume', 'unmount', 'shared', '--host', 'h3']), 0, 'unmount');
    expect((await h3.exec(['mountpoint', '-q', '/mnt/shared'])).code).not.toBe(0);

    // A container that uses the volume also blocks rm: nothing is deleted, no host loses it.
    await h3.check(['docker', 'create', '--name', 'holder', '-v', 'shared:/data', 'busybox', 'true']);
    const inUse = await user.run(['volume', 'rm', 'shared']);
    expectCode(inUse, 1, 'rm while a container uses it');
    expect(inUse.stdout).toMatch(/REFUSED shared: shared is used by containers on .*h3/);
    for (const h of hosts) expect(await dockerVolumes(h)).toContain('shared');
    expect(await readFile(join(server.exportDir, 'shared', 'msg'), 'utf8')).toBe('written on h1\n');
    await h3.check(['docker', 'rm', 'holder']);
  });

  it('rm with each policy does what it says on the export, and definitions leave every host', async () => {
    for (const [name, policy] of [
      ['p-delete', 'delete'],
      ['p-retain', 'retain'],
      ['p-archive', 'archive'],
    ] as const) {
      expectCode(
        await user.run(['volume', 'create', name, '--on-delete', policy, '-q']),
        0,
        `create ${name}`,
      );
    }
    await hosts[1]!.check([
      'docker',
      'run',
      '--rm',
      '-v',
      'p-delete:/a',
      '-v',
      'p-retain:/b',
      '-v',
      'p-archive:/c',
      'busybox',
      'sh',
      '-c',
      'for d in a b c; do echo data > /$d/f; done; sync',
    ]);
    const rm = await user.run(['volume', 'rm', 'p-delete', 'p-retain', 'p-archive', '--json']);
    expectCode(rm, 0, 'rm');
    const out = JSON.parse(rm.stdout) as { volumes: { name: string; archivedAs?: string }[] };
    const top = await readdir(server.exportDir);
    expect(top).not.toContain('p-delete');
    expect(top).toContain('p-retain');
    expect(top).not.toContain('p-archive');
    expect(await readFile(join(server.exportDir, 'p-retain', 'f'), 'utf8')).toBe('data\n');
    const archivedAs = out.volumes.find((v) => v.name === 'p-archive')?.archivedAs ?? '';
    expect(archivedAs).toMatch(/^\.nfsvol\/archive\/p-archive-\d{8}T\d{9}Z$/);
    expect(await readFile(join(server.exportDir, archivedAs, 'f'), 'utf8')).toBe('data\n');
    for (const h of hosts) expect(await dockerVolumes(h)).toEqual(['shared', 'while-down']);
  });

  it('a host whose link is cut is reported and recorded as pending while the others finish; sync after the link returns completes it', async () => {
    const h3 = hosts[2]!;
    await h3.setLink(false);
    try {
      const r = await user.run(['volume', 'create', 'during-cut']);
      expectCode(r, 3, 'create with h3 cut');
      expect(r.stdout).toMatch(/host h3: FAILED .*\(HOST_UNREACHABLE\); pending/);
      expect(r.stdout).toMatch(/host h1: ok, 1 defined/);
      expect(r.stdout).toMatch(/host h2: ok, 1 defined/);
    } finally {
      await h3.setLink(true);
    }
    const sync = await user.run(['sync', '--host', 'h3']);
    expectCode(sync, 0, 'sync after the link returns');
    expect(await dockerVolumes(h3)).toEqual(['during-cut', 'shared', 'while-down']);
  });

  it('a changed host key is refused, naming both fingerprints; other hosts still sync (exit 3)', async () => {
    const h2 = hosts[1]!;
    const before = (
      JSON.parse((await user.run(['host', 'ls', '--json'])).stdout) as { name: string; fingerprint: string }[]
    ).find((h) => h.name === 'h2')?.fingerprint;
    await h2.regenerateHostKey();
    const check = await user.run(['host', 'check', 'h2']);
    expectCode(check, 1, 'check after key change');
    expect(check.stdout).toMatch(/FAIL +ssh +h2: host key changed! expected SHA256:\S+, got SHA256:\S+/);
    expect(check.stdout).toContain(before);
    const sync = await user.run(['sync']);
    expectCode(sync, 3, 'sync with a changed key');
    expect(sync.stdout).toMatch(/host h2: FAILED .*HOST_KEY_MISMATCH/);
    expect(sync.stdout).toMatch(/host h1: ok/);
  });

  it('host rm --purge takes nfsvol off a host (mounts, definitions) and leaves the data on the export', async () => {
    const h3 = hosts[2]!;
    expectCode(
      await user.run(['volume', 'mount', 'shared', '--host', 'h3', '--path', '/mnt/purge']),
      0,
      'mount before purge',
    );
    await h3.check(['docker', 'volume', 'create', 'not-ours']);
    const r = await user.run(['host', 'rm', 'h3', '--purge']);
    expectCode(r, 0, 'host rm --purge');
    expect(r.stdout).toMatch(
      /^unmounted 1 host mount\(s\), removed 3 Docker volume\(s\) from h3\nremoved host h3\n$/,
    );
    expect(await dockerVolumes(h3)).toEqual([]);
    expect((await h3.check(['docker', 'volume', 'ls', '--quiet'])).stdout).toContain('not-ours');
    expect((await h3.exec(['mountpoint', '-q', '/mnt/purge'])).code).not.toBe(0);
    const ls = JSON.parse((await user.run(['host', 'ls', '--json'])).stdout) as { name: string }[];
    expect(ls.map((h) => h.name)).toEqual(['h1', 'h2']);
    expect(await readFile(join(server.exportDir, 'shared', 'msg'), 'utf8')).toBe('written on h1\n');
  });
});
