import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../driver/common/errors.js';
import { HostKeyMismatchError, HostKeyUnknownError } from '../../../driver/attach/ssh/errors.js';
import { fingerprint } from '../../../driver/attach/ssh/known-hosts.js';
import { closeFakeClusters, initialisedFakeCluster } from '../../fakes/fake-cluster.js';
import { fakeKeyBlob } from '../../fakes/fake-host.js';
import { FakeNfsError } from '../../fakes/memory-nfs.js';
import { HOSTILE_NAMES } from '../../fakes/hostile-inputs.js';

afterEach(closeFakeClusters);

describe('Cluster: volumes', () => {
  it('creates directories and records, and defines every volume on every host', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 2 });
    const res = await l.cluster.createVolumes(['va', 'vb'], {
      uid: 999,
      gid: 998,
      mode: 0o700,
      labels: { t: 'x=y' },
    });
    expect(res.volumes.map((v) => v.status)).toEqual(['created', 'created']);
    expect(res.hosts.map((h) => [h.host, h.ok, [...h.defined].sort()])).toEqual([
      ['h1', true, ['va', 'vb']],
      ['h2', true, ['va', 'vb']],
    ]);
    const st = await l.fs.stat('va');
    expect([st.type, st.mode, st.uid, st.gid]).toEqual(['directory', 0o700, 999, 998]);
    expect(l.fs.list('.nfsvol/volumes')).toEqual(['va.json', 'vb.json']);
    expect(l.host(1).volumes.get('va')).toEqual({
      driver: 'local',
      options: { type: 'nfs4', o: 'addr=10.0.2.2,port=2049,vers=4.1', device: ':/export/va' },
      labels: { 'nfsvol.managed': 'true', 'nfsvol.cluster': l.cluster.id },
    });
    const d = await l.cluster.inspectVolume('va');
    expect(d.labels).toEqual({ t: 'x=y' });
    expect(d.path).toBe('/export/va');
    expect(d.hosts).toEqual([
      { host: 'h1', defined: 'yes' },
      { host: 'h2', defined: 'yes' },
    ]);
  });

  it('is idempotent: creating an existing volume reports it and changes nothing', async () => {
    const l = await initialisedFakeCluster({ hosts: 3 });
    await l.cluster.createVolumes(['va']);
    const again = await l.cluster.createVolumes(['va']);
    expect(again.volumes[0]?.status).toBe('exists');
  });

  it('retries retriable NFS errors and still creates each volume exactly once, even when a reply was lost', async () => {
    const l = await initialisedFakeCluster({ hosts: 3 });
    // A create that happened on the server but whose reply was lost, then a plain transient error.
    const original = l.fs.createExclusive.bind(l.fs);
    let lost = 0;
    l.fs.createExclusive = async (path, data, options) => {
      await original(path, data, options);
      if (path.endsWith('v1.json') && lost++ === 0) throw new FakeNfsError('RPC_TIMEOUT', 'reply lost', true);
    };
    l.fs.inject('mkdir', () => new FakeNfsError('NFS3ERR_JUKEBOX', 'try again', true), { path: /^v2$/ });
    const names = Array.from({ length: 10 }, (_, i) => `v${i}`);
    const res = await l.cluster.createVolumes(names);
    expect(res.volumes.every((v) => v.status === 'created')).toBe(true);
    expect(l.fs.list('.nfsvol/volumes')).toHaveLength(10);
  });

  it('completes a record left empty by a create that died between CREATE and WRITE', async () => {
    const l = await initialisedFakeCluster({ hosts: 3 });
    l.fs.put('.nfsvol/volumes/half.json', '');
    const res = await l.cluster.createVolumes(['half']);
    expect(res.volumes[0]?.status).toBe('created');
    expect((await l.cluster.inspectVolume('half')).onDelete).toBe('retain');
  });

  it('a non-retriable NFS failure fails that volume only, with its code', async () => {
    const l = await initialisedFakeCluster({ hosts: 3 });
    l.fs.inject('mkdir', () => new FakeNfsError('NFS3ERR_ACCES', 'denied'), { path: /^bad$/ });
    const res = await l.cluster.createVolumes(['good', 'bad']);
    expect(res.volumes.map((v) => [v.name, v.status])).toEqual([
      ['good', 'created'],
      ['bad', 'failed'],
    ]);
    expect(res.volumes[1]?.error?.message).toMatch(/NFS3ERR_ACCES/);
  });

  it('refuses hostile names before anything runs: no NFS call, no host command', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 2 });
    const before = [...l.fs.calls.values()].reduce((a, b) => a + b, 0);
    const cmds = l.host(1).commands.length;
    for (const name of HOSTILE_NAMES) {
      await expect(l.cluster.createVolumes(['ok1', name])).rejects.toBeInstanceOf(ValidationError);
      await expect(l.cluster.removeVolumes([name])).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(l.cluster.createVolumes(['x'], { onDelete: 'shred' as 'delete' })).rejects.toThrow(
      ValidationError,
    );
    await expect(
      l.cluster.mountVolume({ volume: 'va', host: 'h1', path: '/mnt/$(id)/../x' }),
    ).rejects.toThrow(ValidationError);
    expect([...l.fs.calls.values()].reduce((a, b) => a + b, 0)).toBe(before);
    expect(l.host(1).commands.length).toBe(cmds);
    expect(l.fs.has('ok1')).toBe(false);
  });

  it('rm applies each policy to the data and removes host definitions', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 1 });
    await l.cluster.createVolumes(['keep'], { onDelete: 'retain' });
    await l.cluster.createVolumes(['gone'], { onDelete: 'delete' });
    await l.cluster.createVolumes(['old'], { onDelete: 'archive' });
    for (const v of ['keep', 'gone', 'old']) await l.fs.writeFile(`${v}/data.txt`, `data of ${v}`);
    const res = await l.cluster.removeVolumes(['keep', 'gone', 'old']);
    expect(res.volumes.map((v) => [v.name, v.status, v.policy])).toEqual([
      ['keep', 'removed', 'retain'],
      ['gone', 'removed', 'delete'],
      ['old', 'removed', 'archive'],
    ]);
    expect(l.fs.peek('keep/data.txt')?.toString()).toBe('data of keep');
    expect(l.fs.has('gone')).toBe(false);
    expect(l.fs.has('old')).toBe(false);
    const [archived] = l.fs.list('.nfsvol/archive');
    expect(archived).toMatch(/^old-\d{8}T\d{9}Z$/);
    expect(res.volumes[2]?.archivedAs).toBe(`.nfsvol/archive/${archived}`);
    expect(l.fs.peek(`.nfsvol/archive/${archived}/data.txt`)?.toString()).toBe('data of old');
    expect(l.fs.list('.nfsvol/volumes')).toEqual([]);
    expect([...l.host(1).volumes.keys()]).toEqual([]);

    // A retained name created again finds its old data.
    const again = await l.cluster.createVolumes(['keep']);
    expect(again.volumes[0]).toMatchObject({ status: 'created', reusedData: true });
    expect(l.fs.peek('keep/data.txt')?.toString()).toBe('data of keep');
  });

  it('rm is refused while a host mounts the volume, unless forced', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 1 });
    await l.cluster.createVolumes(['db']);
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: '/mnt/db' });
    expect(l.host(1).mounts.get('/mnt/db')).toBe('10.0.2.2:/export/db');
    const d = await l.cluster.inspectVolume('db');
    expect(d.mounts).toMatchObject([{ host: 'h1', path: '/mnt/db' }]);

    const refused = await l.cluster.removeVolumes(['db']);
    expect(refused.volumes[0]).toMatchObject({ status: 'refused', error: { code: 'VOLUME_IN_USE' } });
    expect(l.fs.list('.nfsvol/volumes')).toEqual(['db.json']);

    const forced = await l.cluster.removeVolumes(['db'], { force: true });
    expect(forced.volumes[0]?.status).toBe('removed');
    expect(l.host(1).mounts.size).toBe(0);
    expect(l.fs.list('.nfsvol/mounts')).toEqual([]);
  });

  it('rm is refused while a container on any host uses the volume: no data lost, definitions put back', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 2 });
    await l.cluster.createVolumes(['db', 'tmp1'], { onDelete: 'delete' });
    await l.fs.writeFile('db/data', 'precious');
    l.host(2).inUse.add('db');
    const res = await l.cluster.removeVolumes(['db', 'tmp1']);
    expect(res.volumes.map((v) => [v.name, v.status, v.error?.code])).toEqual([
      ['db', 'refused', 'VOLUME_IN_USE'],
      ['tmp1', 'removed', undefined],
    ]);
    expect(res.volumes[0]?.error?.message).toContain('used by containers on h2');
    expect(l.fs.peek('db/data')?.toString()).toBe('precious');
    expect(l.fs.list('.nfsvol/volumes')).toEqual(['db.json']);
    expect([...l.host(1).volumes.keys()]).toEqual(['db']);
    expect([...l.host(2).volumes.keys()]).toEqual(['db']);
    expect(res.hosts.every((h) => h.ok)).toBe(true);

    // --force does not override a container's use: the data stays, every definition stays.
    const forced = await l.cluster.removeVolumes(['db'], { force: true });
    expect(forced.volumes[0]?.status).toBe('refused');
    expect(l.fs.peek('db/data')?.toString()).toBe('precious');
    expect([...l.host(1).volumes.keys()]).toEqual(['db']);
    expect((await l.cluster.listVolumes()).map((v) => v.name)).toEqual(['db']);
    l.host(2).inUse.delete('db');
    const again = await l.cluster.removeVolumes(['db']);
    expect(again.volumes[0]?.status).toBe('removed');
    expect(l.fs.has('db')).toBe(false);
    expect([...l.host(2).volumes.keys()]).toEqual([]);
  });

  it('mount is idempotent on the same path, unmount forgets it', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, nfsVersion: '3', added: 1 });
    await l.cluster.createVolumes(['db']);
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: '/mnt/db' });
    await l.cluster.mountVolume({ volume: 'db', host: 'h1', path: '/mnt/db' });
    expect(l.host(1).commands.filter((c) => c[0] === 'mount')).toEqual([
      ['mount', '-t', 'nfs', '-o', 'port=2049,vers=3,proto=tcp,nolock', '10.0.2.2:/export/db', '/mnt/db'],
    ]);
    await expect(l.cluster.mountVolume({ volume: 'db', host: 'h1', path: '/mnt/other' })).rejects.toThrow(
      /already mounted/,
    );
    await l.cluster.unmountVolume({ volume: 'db', host: 'h1' });
    expect(l.host(1).mounts.size).toBe(0);
    await expect(l.cluster.unmountVolume({ volume: 'db', host: 'h1' })).rejects.toThrow(/not mounted/);
  });
});

describe('Cluster: hosts and sync', () => {
  it('host add pins the key (known_hosts + registry) and a later changed key is refused naming both fingerprints', async () => {
    const l = await initialisedFakeCluster({ hosts: 3 });
    await expect(l.cluster.addHost({ name: 'h1', ssh: 'root@127.0.0.1:2201' })).rejects.toBeInstanceOf(
      HostKeyUnknownError,
    );
    expect(await l.cluster.listHosts()).toEqual([]);

    await l.addHosts(l.cluster, 1);
    const original = l.host(1).hostKey;
    expect(await readFile(l.knownHosts, 'utf8')).toContain('[127.0.0.1]:2201 ssh-ed25519');
    expect((await l.cluster.listHosts())[0]?.fingerprint).toBe(fingerprint(original));

    l.host(1).hostKey = fakeKeyBlob('impostor');
    const c2 = await l.open();
    const report = await c2.sync();
    expect(report.ok).toBe(false);
    expect(report.hosts[0]?.error?.code).toBe('HOST_KEY_MISMATCH');
    expect(report.hosts[0]?.error?.message).toContain(fingerprint(original));
    expect(report.hosts[0]?.error?.message).toContain(fingerprint(fakeKeyBlob('impostor')));
    await expect(c2.checkHost('h1')).resolves.toMatchObject({
      ok: false,
      checks: [{ check: 'ssh', ok: false }],
    });

    // Adding a host whose key conflicts with known_hosts is refused too.
    await expect(
      l.cluster.addHost({
        name: 'h9',
        ssh: 'root@127.0.0.1:2201',
        acceptNewHostKey: true,
      }),
    ).rejects.toBeInstanceOf(HostKeyMismatchError);
  });

  it('a host added later gets every existing volume', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 1 });
    await l.cluster.createVolumes(['va', 'vb', 'vc']);
    await l.cluster.addHost({
      name: 'h3',
      ssh: 'root@127.0.0.1:2203',
      acceptNewHostKey: true,
    });
    expect([...l.host(3).volumes.keys()].sort()).toEqual(['va', 'vb', 'vc']);
    await expect(l.cluster.addHost({ name: 'h3', ssh: 'root@127.0.0.1:2203' })).rejects.toThrow(
      /already registered/,
    );
  });

  it('an unreachable host is recorded as pending; a later sync completes it and clears the record', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 2 });
    l.host(2).reachable = false;
    const res = await l.cluster.createVolumes(['va', 'vb']);
    expect(res.volumes.every((v) => v.status === 'created')).toBe(true);
    expect(res.hosts.find((h) => h.host === 'h2')).toMatchObject({ ok: false, unreachable: true });
    expect((await l.cluster.listHosts()).find((h) => h.name === 'h2')?.pending).toEqual([
      'define va',
      'define vb',
    ]);
    expect((await l.cluster.inspectVolume('va')).hosts).toEqual([
      { host: 'h1', defined: 'yes' },
      { host: 'h2', defined: 'pending' },
    ]);

    // Still down: sync reports it, the other host finishes.
    const partial = await l.cluster.sync();
    expect(partial.hosts.map((h) => [h.host, h.ok])).toEqual([
      ['h1', true],
      ['h2', false],
    ]);
    expect(l.events.some((e) => e.host === 'h2' && /pending/.test(e.message))).toBe(true);

    l.host(2).reachable = true;
    const done = await l.cluster.sync({ hosts: ['h2'] });
    expect(done.ok).toBe(true);
    expect([...(done.hosts[0]?.defined ?? [])].sort()).toEqual(['va', 'vb']);
    expect((await l.cluster.listHosts()).every((h) => h.pending.length === 0)).toBe(true);
    expect(l.fs.list('.nfsvol/pending')).toEqual([]);
  });

  it('sync removes definitions of deleted volumes, replaces drifted ones, and leaves foreign volumes alone', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 1 });
    await l.cluster.createVolumes(['va', 'vb', 'vc']);
    const h = l.host(1);
    // Deleted while the host was away: its definition lingers.
    h.volumes.set('stale', {
      driver: 'local',
      options: {},
      labels: { 'nfsvol.managed': 'true', 'nfsvol.cluster': l.cluster.id },
    });
    // Someone edited a definition by hand.
    const b = h.volumes.get('vb');
    if (b) b.options['o'] = 'addr=10.9.9.9,vers=4.1';
    // A same-named volume nfsvol did not make.
    h.volumes.delete('vc');
    h.volumes.set('vc', { driver: 'local', options: {}, labels: {} });
    h.volumes.set('unrelated', { driver: 'local', options: {}, labels: {} });

    const report = await l.cluster.sync();
    const r = report.hosts[0];
    expect(r?.removed).toEqual(['stale']);
    expect(r?.redefined).toEqual(['vb']);
    expect(r?.drifted).toEqual([]);
    expect(h.volumes.get('vb')?.options['o']).toContain('addr=10.0.2.2');
    expect(r?.conflicts).toEqual(['vc']);
    expect(r?.ok).toBe(false);
    expect(h.volumes.has('unrelated')).toBe(true);
    expect(h.volumes.has('vc')).toBe(true);

    // A drifted definition that a container uses stays, is reported, and is owed.
    const c = h.volumes.get('va');
    if (c) c.options['o'] = 'addr=10.9.9.9,vers=4.1';
    h.inUse.add('va');
    const busy = (await l.cluster.sync()).hosts[0];
    expect(busy?.drifted.map((d) => d.volume)).toEqual(['va']);
    expect(busy?.failed.map((f) => [f.volume, f.error.code])).toContainEqual(['va', 'VOLUME_IN_USE']);
    expect((await l.cluster.listHosts())[0]?.pending).toContain('sync va');
    h.inUse.delete('va');
    h.volumes.delete('vc');
    const done = (await l.cluster.sync()).hosts[0];
    expect(done?.ok).toBe(true);
    expect(h.volumes.get('va')?.options['o']).toContain('addr=10.0.2.2');
    expect((await l.cluster.listHosts())[0]?.pending).toEqual([]);
  });

  it('host check removes the test mount a killed check left behind, and nothing else', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 1 });
    const h = l.host(1);
    h.mounts.set('/tmp/nfsvol-check.old123', '10.0.2.2:/export');
    h.mounts.set('/srv/data', '10.0.2.2:/export/data');
    expect((await l.cluster.checkHost('h1')).ok).toBe(true);
    expect([...h.mounts.keys()]).toEqual(['/srv/data']);
  });

  it('host check runs ssh, docker, kernel NFS and a real test mount', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 1 });
    const res = await l.cluster.checkHost('h1');
    expect(res.checks.map((c) => [c.check, c.ok])).toEqual([
      ['ssh', true],
      ['docker', true],
      ['nfs-kernel', true],
      ['nfs-mount', true],
    ]);
    expect(res.ok).toBe(true);
    const h = l.host(1);
    expect(h.commands).toContainEqual([
      'mount',
      '-t',
      'nfs4',
      '-o',
      'port=2049,vers=4.1',
      '10.0.2.2:/export',
      '/tmp/nfsvol-check.abc123',
    ]);
    expect(h.commands).toContainEqual(['umount', '/tmp/nfsvol-check.abc123']);
    expect(h.mounts.size).toBe(0);
  });

  it('host rm --purge unmounts its host mounts and removes its definitions; refused, nothing lost, when it cannot', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 2 });
    await l.cluster.createVolumes(['va', 'vb', 'busy']);
    const h2 = l.hosts.get('127.0.0.1:2202')!;
    h2.volumes.set('foreign', { driver: 'local', options: {}, labels: {} });
    await l.cluster.mountVolume({ volume: 'va', host: 'h2', path: '/mnt/va' });

    // A container uses one volume: that one stays, the host stays registered, the error says
    // how far it got; running it again goes on from there.
    h2.inUse.add('busy');
    await expect(l.cluster.removeHost('h2', { purge: true })).rejects.toMatchObject({
      code: 'HOST_PURGE_INCOMPLETE',
      message: expect.stringMatching(/^h2 is still registered: .*is in use.*; removed 2 of 3$/) as unknown,
    });
    expect([...h2.volumes.keys()].sort()).toEqual(['busy', 'foreign']);
    expect((await l.cluster.listHosts()).map((h) => h.name)).toEqual(['h1', 'h2']);
    // An unreachable host: the same.
    h2.inUse.clear();
    h2.reachable = false;
    await expect(l.cluster.removeHost('h2', { purge: true })).rejects.toThrow();
    expect((await l.cluster.listHosts()).map((h) => h.name)).toEqual(['h1', 'h2']);

    h2.reachable = true;
    const res = await l.cluster.removeHost('h2', { purge: true });
    expect(res.purged).toEqual({ definitions: ['busy'], unmounted: [] });
    expect([...h2.volumes.keys()]).toEqual(['foreign']); // never touches what nfsvol did not make
    expect(h2.mounts.size).toBe(0);
    expect((await l.cluster.listHosts()).map((h) => h.name)).toEqual(['h1']);
    expect([...l.hosts.get('127.0.0.1:2201')!.volumes.keys()].sort()).toEqual(['busy', 'va', 'vb']);
  });

  it('host rm forgets the host, its mounts and pending work', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 2 });
    await l.cluster.removeHost('h2');
    expect((await l.cluster.listHosts()).map((h) => h.name)).toEqual(['h1']);
    await expect(l.cluster.removeHost('h2')).rejects.toThrow(/no host named/);
  });
});

describe('Cluster: what can change after create', () => {
  it('volume update: owner and mode on the directory and the record, labels set and removed, policy', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 1 });
    await l.cluster.createVolumes(['db'], { labels: { team: 'web', tier: 'db' } });
    const res = await l.cluster.updateVolume('db', {
      uid: 999,
      gid: 998,
      mode: 0o700,
      labels: { team: 'data' },
      unlabel: ['tier'],
      onDelete: 'archive',
    });
    expect(res.changed).toEqual(['uid', 'gid', 'mode', 'labels', 'onDelete']);
    const st = await l.fs.stat('db');
    expect([st.uid, st.gid, st.mode]).toEqual([999, 998, 0o700]);
    expect(res.volume).toMatchObject({
      uid: 999,
      gid: 998,
      mode: 0o700,
      labels: { team: 'data' },
      onDelete: 'archive',
    });
    expect(res.hosts).toEqual([]); // nothing a host's definition carries
    expect((await l.cluster.updateVolume('db', { uid: 999 })).changed).toEqual([]);
    await expect(l.cluster.updateVolume('db', { unlabel: ['nfsvol.x'] })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
  });

  it('volume update --mount-options: redefined where free, owed where a container uses it, finished by sync', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 2 });
    await l.cluster.createVolumes(['db'], { mountOptions: 'soft' });
    expect(l.host(1).volumes.get('db')?.options['o']).toMatch(/,soft$/);
    l.host(2).inUse.add('db');
    const res = await l.cluster.updateVolume('db', { mountOptions: ['hard', 'timeo=600'] });
    expect(res.changed).toEqual(['mountOptions']);
    expect(res.hosts.map((h) => [h.host, h.ok, h.redefined])).toEqual([
      ['h1', true, ['db']],
      ['h2', false, []],
    ]);
    expect(l.host(1).volumes.get('db')?.options['o']).toMatch(/,hard,timeo=600$/);
    expect(l.host(2).volumes.get('db')?.options['o']).toMatch(/,soft$/);
    expect((await l.cluster.listHosts()).find((h) => h.name === 'h2')?.pending).toContain('sync db');
    l.host(2).inUse.delete('db');
    expect((await l.cluster.sync()).ok).toBe(true);
    expect(l.host(2).volumes.get('db')?.options['o']).toMatch(/,hard,timeo=600$/);
    expect((await l.cluster.inspectVolume('db')).options['o']).toMatch(/,hard,timeo=600$/);
  });

  it('cluster set --server moves every definition to the new address (hosts with their own keep theirs)', async () => {
    const l = await initialisedFakeCluster({ hosts: 3, added: 1 });
    await l.cluster.addHost({
      name: 'own',
      ssh: 'root@127.0.0.1:2202',
      knownHosts: l.knownHosts,
      acceptNewHostKey: true,
    });
    await l.cluster.createVolumes(['v1', 'v2']);
    expect(l.host(2).volumes.get('v1')?.options['o']).toContain('addr=127.0.0.1');
    const res = await l.cluster.setCluster({ server: 'nas2.lan' });
    expect(res.changed).toEqual(['server']);
    expect(res.sync?.ok).toBe(true);
    for (const v of ['v1', 'v2']) {
      expect(l.host(2).volumes.get(v)?.options['o']).toContain('addr=nas2.lan');
      expect(l.host(1).volumes.get(v)?.options['o']).toContain('addr=10.0.2.2');
    }
    const again = await l.open();
    expect(again.id).toBe(l.cluster.id);
    expect((await again.inspectVolume('v1')).options['o']).toContain('addr=nas2.lan');
    await expect(l.cluster.setCluster({ server: 'nas,vers=3' })).rejects.toMatchObject({
      code: 'VALIDATION',
    });
  });
});
