// What docs/consistency.md promises, tested the way each promise was once broken: records
// forged on the export, races between commands, crashes between steps, failures swallowed.
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster } from '../../../driver/cluster/cluster.js';
import type { NfsFs } from '../../../driver/nfs/types.js';
import { closeFakeClusters, fakeCluster, initialisedFakeCluster } from '../../fakes/fake-cluster.js';
import { FakeNfsError, MemoryNfs, sharedView } from '../../fakes/memory-nfs.js';

afterEach(closeFakeClusters);

/** Every cluster here: NFSv3, three fake Docker hosts (each test registers the first few). */
const NFS3 = { hosts: 3, nfsVersion: '3' } as const;

const mountRecord = (volume: string, h: string, path: string): string =>
  JSON.stringify({ schema: 1, kind: 'mount', volume, host: h, path, mountedAt: '2026-01-01T00:00:00.000Z' });

/** A view of the fake export that runs `hook` once, just before the first call matching `when`. */
function withHook(
  fs: MemoryNfs,
  when: (op: string, path: string) => boolean,
  hook: () => Promise<void>,
): NfsFs {
  const view = sharedView(fs);
  let fired = false;
  return new Proxy(view, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const path = typeof args[0] === 'string' ? args[0] : '';
        if (!fired && when(String(prop), path)) {
          fired = true;
          return hook().then(() => (v as (...a: unknown[]) => unknown).apply(target, args));
        }
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe('records read from the export are input', () => {
  it('a mount record whose path is an option (-a) is refused: rm --force runs no umount at all', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 1 });
    await l.cluster.createVolumes(['pgdata'], { onDelete: 'delete' });
    l.fs.put('.nfsvol/mounts/pgdata@h1.json', mountRecord('pgdata', 'h1', '-a'));
    const res = await l.cluster.removeVolumes(['pgdata'], { force: true });
    expect(res.volumes[0]).toMatchObject({ status: 'failed', error: { code: 'REGISTRY_CORRUPT' } });
    expect(l.host(1).commands.filter((c) => c[0] === 'umount')).toEqual([]);
    expect(l.fs.has('pgdata')).toBe(true);
  });

  it('volume unmount of a record naming a system directory, or a path the host does not mount from this volume, unmounts nothing', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 1 });
    await l.cluster.createVolumes(['pgdata']);
    l.fs.put('.nfsvol/mounts/pgdata@h1.json', mountRecord('pgdata', 'h1', '/var/lib/docker'));
    await expect(l.cluster.unmountVolume({ volume: 'pgdata', host: 'h1' })).rejects.toMatchObject({
      code: 'REGISTRY_CORRUPT',
    });
    l.host(1).mounts.set('/srv/other', '10.0.2.2:/export/other');
    l.fs.put('.nfsvol/mounts/pgdata@h1.json', mountRecord('pgdata', 'h1', '/srv/other'));
    await expect(l.cluster.unmountVolume({ volume: 'pgdata', host: 'h1' })).rejects.toMatchObject({
      code: 'MOUNT_MISMATCH',
    });
    expect(l.host(1).mounts.has('/srv/other')).toBe(true);
    expect(l.host(1).commands.filter((c) => c[0] === 'umount')).toEqual([]);
  });

  it('a record filed under another name (or a cache line naming another volume) is not taken for it', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 1 });
    await l.cluster.createVolumes(['v1', 'v2']);
    await l.cluster.listVolumes(); // writes the listing cache
    const cache = l.fs.peek('.nfsvol/volumes.cache.jsonl')!.toString();
    // Keep v1's stamp, swap in v2's record: without the key check ls showed v2 twice and sync
    // removed v1's definitions everywhere.
    const lines = cache.trim().split('\n');
    const v1 = JSON.parse(lines[0]!) as [string, string, string];
    const v2 = JSON.parse(lines[1]!) as [string, string, string];
    l.fs.put('.nfsvol/volumes.cache.jsonl', `${JSON.stringify([v1[0], v1[1], v2[2]])}\n${lines[1]}\n`);
    expect((await l.cluster.listVolumes()).map((v) => v.name)).toEqual(['v1', 'v2']);
    const sync = await l.cluster.sync();
    expect(sync.ok).toBe(true);
    expect([...l.host(1).volumes.keys()].sort()).toEqual(['v1', 'v2']);
    l.fs.put('.nfsvol/volumes/v1.json', l.fs.peek('.nfsvol/volumes/v2.json')!);
    await expect(l.cluster.inspectVolume('v1')).rejects.toMatchObject({ code: 'REGISTRY_CORRUPT' });
  });

  it('a record file of megabytes is refused at the cap, not read whole', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 0 });
    l.fs.put('.nfsvol/volumes/huge.json', Buffer.alloc(2 * 1024 * 1024, 0x20));
    await expect(l.cluster.inspectVolume('huge')).rejects.toMatchObject({ code: 'REGISTRY_CORRUPT' });
    await expect(l.cluster.listVolumes()).rejects.toThrow(/huge\.json/);
  });

  it('an init URL whose host carries mount options is refused before anything is written', async () => {
    const fs = new MemoryNfs();
    await expect(
      Cluster.init({ connectNfs: async () => sharedView(fs), url: 'nfs://nas,vers=3/export' }),
    ).rejects.toMatchObject({ code: 'VALIDATION' });
    expect(fs.has('.nfsvol')).toBe(false);
  });
});

describe('commands that race', () => {
  it('sync does not remove the definition of a volume created while it ran', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 2 });
    await l.cluster.createVolumes(['old']);
    const creator = await l.open();
    // Another CLI creates a volume right after the sync has listed the volumes: the sync's
    // list is older than the hosts' state when it reaches them.
    const syncing = await l.open(
      withHookAfterVolumeListing(l.fs, async () => {
        await creator.createVolumes(['fresh']);
      }),
    );
    const report = await syncing.sync();
    expect(report.ok).toBe(true);
    for (const i of [1, 2]) expect([...l.host(i).volumes.keys()].sort()).toEqual(['fresh', 'old']);
  });

  it('rm waits for a slow mount of the same volume (the lease is renewed), then refuses: data kept', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 1, extra: { registry: { leaseMs: 300 } } });
    await l.cluster.createVolumes(['db'], { onDelete: 'delete' });
    await l.fs.writeFile('db/data', 'precious');
    l.host(1).delayMs.set('mount', 1_200); // four leases long
    const other = await l.open(undefined, { registry: { leaseMs: 300, lockTimeoutMs: 10_000 } });
    const mounting = l.cluster.mountVolume({ volume: 'db', host: 'h1', path: '/mnt/db' });
    await new Promise((r) => setTimeout(r, 150));
    const removing = other.removeVolumes(['db']);
    await mounting;
    const res = await removing;
    expect(res.volumes[0]).toMatchObject({ status: 'refused', error: { code: 'VOLUME_IN_USE' } });
    expect(l.fs.peek('db/data')?.toString()).toBe('precious');
  }, 30_000);

  it('mount records before it mounts: a CLI killed in between leaves a record, so rm refuses; a failed mount leaves neither', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 1 });
    await l.cluster.createVolumes(['db'], { onDelete: 'delete' });
    await l.fs.writeFile('db/data', 'precious');
    const h1 = l.host(1);
    const exec = h1.exec.bind(h1);
    let recordedFirst: boolean | undefined;
    h1.exec = (name, argv) => {
      if (argv[0] === 'mount') recordedFirst = l.fs.has('.nfsvol/mounts/db@h1.json');
      return exec(name, argv);
    };
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: '/mnt/db' });
    expect(recordedFirst).toBe(true);
    // A mount the host refuses takes its record back with it.
    await l.cluster.unmountVolume({ volume: 'db', host: 'h1' });
    h1.exec = (name, argv) =>
      argv[0] === 'mount'
        ? { stdout: '', stderr: 'mount.nfs: access denied', exitCode: 32, truncated: false }
        : exec(name, argv);
    await expect(l.cluster.mountVolume({ volume: 'db', host: 'h1', path: '/mnt/db' })).rejects.toThrow();
    expect(l.fs.has('.nfsvol/mounts/db@h1.json')).toBe(false);
    // A record left by a killed mount (nothing mounted): rm refuses, the data stays.
    l.fs.put('.nfsvol/mounts/db@h1.json', mountRecord('db', 'h1', '/mnt/db'));
    const res = await l.cluster.removeVolumes(['db']);
    expect(res.volumes[0]).toMatchObject({ status: 'refused', error: { code: 'VOLUME_IN_USE' } });
    expect(l.fs.peek('db/data')?.toString()).toBe('precious');
  });

  it('mount racing unmount of the same volume and host: never a mount without its record', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 1 });
    await l.cluster.createVolumes(['db']);
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: '/mnt/db' });
    l.host(1).delayMs.set('umount', 400);
    const other = await l.open();
    const unmounting = l.cluster.unmountVolume({ volume: 'db', host: 'h1' });
    await new Promise((r) => setTimeout(r, 100));
    await other.mountVolume({ volume: 'db', host: 'h1', path: '/mnt/db' });
    await unmounting;
    expect(l.host(1).mounts.has('/mnt/db')).toBe(true);
    expect(l.fs.has('.nfsvol/mounts/db@h1.json')).toBe(true);
  });

  it('create racing rm: a create that finds the tombstone is refused, retriable; one that runs after gets a directory', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 1 });
    await l.cluster.createVolumes(['cache'], { onDelete: 'delete' });
    // rm is interrupted after its tombstone (the data step fails): a create now is refused.
    l.fs.inject('rm', () => new FakeNfsError('NFS3ERR_IO', 'io', false), { path: /^cache$/ });
    const rm1 = await l.cluster.removeVolumes(['cache']);
    expect(rm1.volumes[0]?.status).toBe('failed');
    const c1 = await l.cluster.createVolumes(['cache']);
    expect(c1.volumes[0]).toMatchObject({ status: 'failed', error: { code: 'VOLUME_BEING_REMOVED' } });
    // A removal that deletes the old directory between a create's MKDIR and its record.
    const rmOld = await l.open();
    const creator = await l.open(
      withHook(
        l.fs,
        (op, path) => op === 'createExclusive' && path === '.nfsvol/volumes/cache.json',
        async () => {
          await rmOld.removeVolumes(['cache']);
        },
      ),
    );
    const c2 = await creator.createVolumes(['cache']);
    expect(c2.volumes[0]?.status).toBe('created');
    expect((await l.fs.stat('cache')).type).toBe('directory');
  });
});

describe('a crash at any step leaves what the next command completes', () => {
  it('rm removes the record last: after a failed delete, running it again completes it', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 1 });
    await l.cluster.createVolumes(['tmp1'], { onDelete: 'delete' });
    await l.fs.writeFile('tmp1/f', 'x');
    l.fs.inject('rm', () => new FakeNfsError('NFS3ERR_IO', 'io', false), { path: /^tmp1$/ });
    const first = await l.cluster.removeVolumes(['tmp1']);
    expect(first.volumes[0]).toMatchObject({ status: 'failed', state: 'removing' });
    expect(first.volumes[0]?.error?.message).toMatch(/run volume rm tmp1 again to finish/);
    expect((await l.cluster.listVolumes()).map((v) => v.name)).toEqual(['tmp1']);
    // Marked for removal: nothing attaches it meanwhile.
    await expect(l.cluster.mountVolume({ volume: 'tmp1', host: 'h1', path: '/mnt/tmp1' })).rejects.toThrow(
      /removed|removing/,
    );
    const again = await l.cluster.removeVolumes(['tmp1']);
    expect(again.volumes[0]?.status).toBe('removed');
    expect(l.fs.has('tmp1')).toBe(false);
    expect(l.fs.has('.nfsvol/volumes/tmp1.json')).toBe(false);
  });

  it('rm whose handles go stale mid-delete (the server restarted) resolves them afresh and finishes', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 1 });
    await l.cluster.createVolumes(['tmp2', 'tmp3'], { onDelete: 'delete' });
    await l.fs.writeFile('tmp2/f', 'x');
    l.fs.inject('rm', () => new FakeNfsError('NFS3ERR_STALE', 'stale handle', false), { path: /^tmp2$/ });
    l.fs.inject('rm', () => new FakeNfsError('NFS3ERR_STALE', 'stale handle', false), {
      path: /^\.nfsvol\/volumes\/tmp3/,
    });
    const res = await l.cluster.removeVolumes(['tmp2', 'tmp3']);
    expect(res.volumes.map((v) => v.status)).toEqual(['removed', 'removed']);
    expect(l.fs.has('tmp2')).toBe(false);
    expect((await l.cluster.listVolumes()).map((v) => v.name)).toEqual([]);
  });

  it('an init interrupted between CREATE and WRITE is completed by the next init; other commands say so', async () => {
    const f = await fakeCluster();
    for (const d of ['volumes', 'hosts', 'mounts', 'pending', 'locks', 'tmp', 'archive'])
      await f.fs.mkdirp(`.nfsvol/${d}`);
    f.fs.put('.nfsvol/cluster.json', '');
    await expect(f.open()).rejects.toThrow(/init.*interrupted; run it again/);
    const { created } = await f.init('4.1');
    expect(created).toBe(true);
    await f.open();
  });

  it('a host add interrupted between CREATE and WRITE does not block the name', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 0 });
    l.fs.put('.nfsvol/hosts/h1.json', '');
    expect(await l.cluster.listHosts()).toEqual([]);
    await l.cluster.addHost({ name: 'h1', ssh: 'root@127.0.0.1:2201', acceptNewHostKey: true });
    expect((await l.cluster.listHosts()).map((h) => h.name)).toEqual(['h1']);
  });
});

describe('nothing is deleted that may be in use, and nothing reported that did not happen', () => {
  it('a host that cannot be asked blocks deleting the data (not retaining it); --force goes on and leaves it pending', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 2 });
    await l.cluster.createVolumes(['db'], { onDelete: 'delete' });
    await l.cluster.createVolumes(['keep'], { onDelete: 'retain' });
    await l.fs.writeFile('db/data', 'precious');
    l.host(2).reachable = false;
    const res = await l.cluster.removeVolumes(['db', 'keep']);
    expect(res.volumes.map((v) => [v.name, v.status, v.error?.code])).toEqual([
      ['db', 'refused', 'VOLUME_USE_UNKNOWN'],
      ['keep', 'removed', undefined],
    ]);
    expect(l.fs.peek('db/data')?.toString()).toBe('precious');
    expect([...l.host(1).volumes.keys()]).toEqual(['db']); // put back
    const forced = await l.cluster.removeVolumes(['db'], { force: true });
    expect(forced.volumes[0]?.status).toBe('removed');
    expect((await l.cluster.listHosts()).find((h) => h.name === 'h2')?.pending).toContain('remove db');
  });

  it('--force with a umount that fails does not remove the volume', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 1 });
    await l.cluster.createVolumes(['db'], { onDelete: 'delete' });
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: '/mnt/db' });
    const h = l.host(1);
    // The host still has it mounted but umount fails (busy).
    const exec = h.exec.bind(h);
    h.exec = (name, argv) =>
      argv[0] === 'umount'
        ? { stdout: '', stderr: 'umount: /mnt/db: target is busy.', exitCode: 32, truncated: false }
        : exec(name, argv);
    const res = await l.cluster.removeVolumes(['db'], { force: true });
    expect(res.volumes[0]?.status).toBe('failed');
    expect(l.fs.has('db')).toBe(true);
    expect((await l.cluster.listVolumes()).map((v) => v.name)).toEqual(['db']);
  });

  it('create over an existing directory applies the owner and mode asked for, and records what the directory has', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 0 });
    await l.fs.mkdir('olddata', { mode: 0o777, uid: 0, gid: 0 });
    await l.cluster.createVolumes(['olddata'], { uid: 999, gid: 999, mode: 0o700 });
    const st = await l.fs.stat('olddata');
    expect([st.uid, st.gid, st.mode]).toEqual([999, 999, 0o700]);
    await l.fs.mkdir('kept', { mode: 0o750, uid: 5, gid: 6 });
    await l.cluster.createVolumes(['kept']);
    const v = (await l.cluster.listVolumes()).find((x) => x.name === 'kept')!;
    expect([v.uid, v.gid, v.mode]).toEqual([5, 6, 0o750]);
  });

  it('create reports a same-named Docker volume nfsvol did not make as a conflict, not success', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 2 });
    l.host(2).volumes.set('pgdata', { driver: 'local', options: {}, labels: {} });
    const res = await l.cluster.createVolumes(['pgdata']);
    expect(res.volumes[0]?.status).toBe('created');
    const h2 = res.hosts.find((h) => h.host === 'h2')!;
    expect(h2.ok).toBe(false);
    expect(h2.conflicts).toEqual(['pgdata']);
    expect(h2.failed[0]?.error.code).toBe('HOST_VOLUME_CONFLICT');
    expect(l.host(2).volumes.get('pgdata')?.labels).toEqual({});
  });

  it('a transient error reading a pending record loses none of the work it holds', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 2 });
    l.host(2).reachable = false;
    await l.cluster.createVolumes(['a1']);
    expect(l.fs.peek('.nfsvol/pending/h2.json')!.toString()).toContain('a1');
    l.fs.inject('readFile', () => new FakeNfsError('NFS3ERR_IO', 'io', true), {
      path: /pending\/h2\.json$/,
      count: 1,
    });
    await l.cluster.createVolumes(['a2']);
    const after = l.fs.peek('.nfsvol/pending/h2.json')!.toString();
    expect(after).toContain('a1');
    expect(after).toContain('a2');
  });

  it('rm refuses a volume a container names even when the daemon would let it go (references lost)', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 2 });
    await l.cluster.createVolumes(['db'], { onDelete: 'delete' });
    // The daemon's reference count does not know the container (inUse is empty): only its
    // configuration, as `docker ps --filter volume=` reads it, does.
    l.host(2).containers.set('web-1', 'db');
    const res = await l.cluster.removeVolumes(['db']);
    expect(res.volumes[0]).toMatchObject({ status: 'refused', error: { code: 'VOLUME_IN_USE' } });
    expect(res.volumes[0]?.error?.message).toContain('h2');
    expect(l.fs.has('db')).toBe(true);
    expect(l.host(2).volumes.has('db')).toBe(true);
    expect(l.host(1).volumes.has('db')).toBe(true);
    l.host(2).containers.clear();
    expect((await l.cluster.removeVolumes(['db'])).volumes[0]?.status).toBe('removed');
  });

  it('definitions put back after a refused rm that cannot be put back are owed, not forgotten', async () => {
    const l = await initialisedFakeCluster({ ...NFS3, added: 2 });
    await l.cluster.createVolumes(['db']);
    l.host(2).inUse.add('db');
    const h1 = l.host(1);
    const exec = h1.exec.bind(h1);
    h1.exec = (name, argv) =>
      argv[0] === 'docker' && argv[1] === 'volume' && argv[2] === 'create'
        ? { stdout: '', stderr: 'daemon busy', exitCode: 1, truncated: false }
        : exec(name, argv);
    const res = await l.cluster.removeVolumes(['db']);
    expect(res.volumes[0]?.status).toBe('refused');
    expect((await l.cluster.listHosts()).find((h) => h.name === 'h1')?.pending).toContain('define db');
  });
});

/** A view that creates a volume (through `create`) right after the first listing of volumes. */
function withHookAfterVolumeListing(fs: MemoryNfs, create: () => Promise<void>): NfsFs {
  const view = sharedView(fs);
  let done = false;
  return new Proxy(view, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      if (prop === 'readdirIter') {
        return (path: string, ...rest: unknown[]) => {
          const inner = (v as (p: string, ...r: unknown[]) => AsyncIterable<unknown>).call(
            target,
            path,
            ...rest,
          );
          if (done || !path.endsWith('/volumes')) return inner;
          done = true;
          return (async function* () {
            yield* inner;
            await create();
          })();
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}
