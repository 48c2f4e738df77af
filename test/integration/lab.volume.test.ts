// What the lab is for: on real Docker hosts with a kernel NFS client, a container on host 1 writes
// through an NFS-backed Docker volume, host 1 loses power, and a container on host 2 reads the
// same bytes. Once over NFSv3 (rpcbind-less: ports given, nolock) and once over NFSv4.1.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';

type Version = 3 | 4.1;

/** Kernel mount options for a direct mount of the export root. */
function mountArgs(server: NfsServer, version: Version): string[] {
  if (version === 4.1) {
    return [
      'mount',
      '-t',
      'nfs4',
      '-o',
      `vers=4.1,port=${server.nfsPort}`,
      `${server.addressFromHosts}:/export`,
    ];
  }
  const o = `vers=3,proto=tcp,port=${server.nfsPort},mountproto=tcp,mountport=${server.mountPort},nolock`;
  return ['mount', '-t', 'nfs', '-o', o, `${server.addressFromHosts}:/export`];
}

/** `docker volume create` for the local driver over NFS (the options go to mount(2) as they are). */
function volumeCreateArgs(server: NfsServer, host: LabHost, version: Version, volume: string): string[] {
  const o =
    version === 4.1
      ? `addr=${host.nfsAddress},port=${server.nfsPort},vers=4.1`
      : `addr=${host.nfsAddress},port=${server.nfsPort},mountport=${server.mountPort},vers=3,proto=tcp,mountproto=tcp,nolock`;
  const type = version === 4.1 ? 'nfs4' : 'nfs';
  return [
    ...['docker', 'volume', 'create', '--driver', 'local', '--opt', `type=${type}`, '--opt', `o=${o}`],
    ...['--opt', `device=:/export/${volume}`, volume],
  ];
}

const busybox = (volume: string, script: string): string[] => [
  ...['docker', 'run', '--rm', '--network', 'none', '-v', `${volume}:/data`, 'busybox', 'sh', '-c', script],
];

describe('lab: a Docker volume on NFS survives its host losing power', () => {
  let server: NfsServer;
  let hosts: LabHost[] = [];

  beforeAll(async () => {
    [server, hosts] = await Promise.all([startNfsServer(), startHosts(2)]);
  });

  afterAll(async () => {
    await Promise.allSettled([server?.stop(), ...hosts.map((h) => h.stop())]);
  });

  it.each([3, 4.1] as const)(
    'NFSv%s: written on host 1, read on host 2 after host 1 is powered off',
    async (version) => {
      const [h1, h2] = hosts;
      if (h1 === undefined || h2 === undefined) throw new Error('two hosts expected');
      const volume = `vol-v${String(version).replace('.', '')}-${randomBytes(4).toString('hex')}`;
      const mnt = '/mnt/lab';

      // The kernel NFS client on host 1 makes the volume's directory on the export.
      await h1.check(['mkdir', '-p', mnt]);
      await h1.check([...mountArgs(server, version), mnt]);
      const mounts = await h1.check(['grep', ` ${mnt} `, '/proc/mounts']);
      expect(mounts.stdout).toContain(version === 4.1 ? 'vers=4.1' : 'vers=3');
      await h1.check(['mkdir', `${mnt}/${volume}`]);
      await h1.check(['umount', mnt]);

      // A container on host 1 writes through a Docker volume backed by NFS.
      await h1.check(volumeCreateArgs(server, h1, version, volume));
      const written = await h1.check(
        busybox(volume, 'head -c 1048583 /dev/urandom >/data/blob && sync && sha256sum /data/blob'),
      );
      const digest = written.stdout.trim().split(/\s+/)[0] ?? '';
      expect(digest).toMatch(/^[0-9a-f]{64}$/);

      // The bytes are on the export (read from the host directory behind it).
      const onExport = await readFile(join(server.exportDir, volume, 'blob'));
      expect(createHash('sha256').update(onExport).digest('hex')).toBe(digest);

      // Host 1 loses power; a container on host 2 reads the same bytes.
      await h1.powerOff();
      expect(h1.running).toBe(false);
      await h2.check(volumeCreateArgs(server, h2, version, volume));
      const read = await h2.check(busybox(volume, 'sha256sum /data/blob'));
      expect(read.stdout.trim().split(/\s+/)[0]).toBe(digest);

      // Clean up: host 2's volume, then host 1 comes back and drops its stale definition.
      await h2.check(['docker', 'volume', 'rm', volume]);
      await h1.powerOn();
      await h1.check(['docker', 'volume', 'rm', volume]);
      expect((await h1.check(['docker', 'volume', 'ls', '-q'])).stdout).not.toContain(volume);
    },
  );
});
