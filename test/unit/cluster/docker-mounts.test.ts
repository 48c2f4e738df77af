// Host mounts counted by Docker mount ID, as the volume plugin makes them: one kernel mount per
// volume and host however many containers use it, released by the last; never a dead mount
// handed out; the count lives in the mount record on the export, so it survives a restart.
import { afterEach, describe, expect, it } from 'vitest';
import { closeFakeClusters, initialisedFakeCluster } from '../../fakes/fake-cluster.js';

afterEach(closeFakeClusters);

const NFS3 = { hosts: 2, nfsVersion: '3', added: 1 } as const;
const PATH = '/var/lib/nfsvol/mnt/db';
const record = (l: { fs: { peek(p: string): Buffer | undefined } }): unknown =>
  JSON.parse(l.fs.peek('.nfsvol/mounts/db@h1.json')?.toString() ?? 'null');

describe('host mounts counted by Docker mount ID', () => {
  it('two containers share one mount; the first release keeps it, the last unmounts and forgets it', async () => {
    const l = await initialisedFakeCluster(NFS3);
    await l.cluster.createVolumes(['db']);
    const h1 = l.host(1);
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: PATH, user: 'c1' });
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: PATH, user: 'c2' });
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: PATH, user: 'c2' }); // asked twice
    expect(h1.commands.filter((c) => c[0] === 'mount')).toHaveLength(1);
    expect(record(l)).toMatchObject({ path: PATH, users: ['c1', 'c2'] });

    expect(await l.cluster.releaseMount({ volume: 'db', host: 'h1', user: 'c1' })).toBe('released');
    expect(h1.mounts.has(PATH)).toBe(true);
    expect(record(l)).toMatchObject({ users: ['c2'] });
    // The CLI's unmount and rm would pull the mount from under a container: both refuse.
    await expect(l.cluster.unmountVolume({ volume: 'db', host: 'h1' })).rejects.toMatchObject({
      code: 'VOLUME_IN_USE',
    });
    const rm = await l.cluster.removeVolumes(['db']);
    expect(rm.volumes[0]).toMatchObject({ status: 'refused', error: { code: 'VOLUME_IN_USE' } });

    expect(await l.cluster.releaseMount({ volume: 'db', host: 'h1', user: 'c2' })).toBe('unmounted');
    expect(h1.mounts.has(PATH)).toBe(false);
    expect(record(l)).toBeNull();
    // Docker asking again (or after a restart) for an ID nothing holds: nothing to do.
    expect(await l.cluster.releaseMount({ volume: 'db', host: 'h1', user: 'c2' })).toBe('not-held');
  });

  it('a counted mount survives the front end: a new process reads the count from the export', async () => {
    const l = await initialisedFakeCluster(NFS3);
    await l.cluster.createVolumes(['db']);
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: PATH, user: 'c1' });
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: PATH, user: 'c2' });
    const restarted = await l.open();
    expect(await restarted.releaseMount({ volume: 'db', host: 'h1', user: 'c1' })).toBe('released');
    expect(await restarted.releaseMount({ volume: 'db', host: 'h1', user: 'c2' })).toBe('unmounted');
    expect(l.host(1).mounts.has(PATH)).toBe(false);
  });

  it('a mount found in place whose handle went stale is mounted again, not handed to the container', async () => {
    const l = await initialisedFakeCluster(NFS3);
    await l.cluster.createVolumes(['db']);
    const h1 = l.host(1);
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: PATH, user: 'c1' });
    h1.stale.add(PATH); // the export was recreated under the mount
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: PATH, user: 'c2' });
    const ran = h1.commands.map((c) => c.join(' '));
    expect(ran.filter((c) => c.startsWith('umount -l -- '))).toEqual([`umount -l -- ${PATH}`]);
    expect(ran.filter((c) => c.startsWith('mount '))).toHaveLength(2);
    expect(h1.stale.has(PATH)).toBe(false);
    expect(record(l)).toMatchObject({ users: ['c1', 'c2'] });
  });

  it('a mount that fails for a new user takes that user back out of the record', async () => {
    const l = await initialisedFakeCluster(NFS3);
    await l.cluster.createVolumes(['db']);
    const h1 = l.host(1);
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: PATH, user: 'c1' });
    h1.stale.add(PATH);
    const exec = h1.exec.bind(h1);
    h1.exec = (name, argv) =>
      argv[0] === 'mount'
        ? { stdout: '', stderr: 'mount.nfs: Connection timed out', exitCode: 32, truncated: false }
        : exec(name, argv);
    await expect(
      l.cluster.mountVolume({ volume: 'db', host: 'h1', path: PATH, user: 'c2' }),
    ).rejects.toMatchObject({ code: 'SSH_COMMAND_FAILED' });
    expect(record(l)).toMatchObject({ users: ['c1'] });
  });

  it('mount IDs read back from the export are input: a record with a path-like ID is refused as corrupt', async () => {
    const l = await initialisedFakeCluster(NFS3);
    await l.cluster.createVolumes(['db']);
    await expect(
      l.cluster.mountVolume({ volume: 'db', host: 'h1', path: PATH, user: '../../etc' }),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
    l.fs.put(
      '.nfsvol/mounts/db@h1.json',
      JSON.stringify({
        schema: 1,
        kind: 'mount',
        volume: 'db',
        host: 'h1',
        path: PATH,
        mountedAt: '2026-01-01T00:00:00.000Z',
        users: ['c1', '-a; rm -rf /'],
      }),
    );
    await expect(l.cluster.releaseMount({ volume: 'db', host: 'h1', user: 'c1' })).rejects.toMatchObject({
      code: 'REGISTRY_CORRUPT',
    });
    expect(l.host(1).commands.filter((c) => c[0] === 'umount')).toEqual([]);
  });
});
