// The plugin as dockerd on host h1 uses it: requests on its socket, served by the library's
// HostVolumes on a fake export and fake hosts. What Docker sees (Err, Mountpoint), what the
// export holds (records, pending work) and what h1's kernel mounts are asserted together.
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HostVolumes, LocalCommandError, type RemoteHost, type RunResult } from '../../../driver/index.js';
import { hostVolumesBackend } from '../../../cli/plugin/backend.js';
import { startPluginServer, type PluginServer } from '../../../cli/plugin/server.js';
import { closeFakeClusters, initialisedFakeCluster } from '../../fakes/fake-cluster.js';
import type { FakeDockerHost } from '../../fakes/fake-host.js';
import { initialisedCli } from '../../support/cli.js';
import { askPlugin } from '../../support/plugin-socket.js';

const ROOT = '/var/lib/nfsvol/mnt';
let server: PluginServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  await closeFakeClusters();
});

/** h1 as the plugin sees its own machine: commands run "here", no SSH. */
function selfOf(h: FakeDockerHost, name: string): RemoteHost {
  return {
    name,
    run: (argv, options = {}): Promise<RunResult> => {
      const r = h.exec(name, argv);
      if (r.exitCode !== 0 && options.check !== false) {
        return Promise.reject(new LocalCommandError(name, argv, r.exitCode, r.stderr));
      }
      return Promise.resolve(r);
    },
    close: () => Promise.resolve(),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}

async function pluginOnH1() {
  const l = await initialisedFakeCluster({ hosts: 2, nfsVersion: '3', added: 2 });
  const cluster = await l.open(undefined, { self: selfOf(l.host(1), 'h1') });
  const dir = await mkdtemp(join(tmpdir(), 'nfsvol-plugin-'));
  server = await startPluginServer({
    socketPath: join(dir, 'nfsvol.sock'),
    backend: hostVolumesBackend(new HostVolumes(cluster, 'h1', ROOT)),
  });
  const socketPath = server.socketPath;
  const docker = (endpoint: string, body: unknown = {}): Promise<Record<string, unknown>> =>
    askPlugin(socketPath, endpoint, body);
  return { l, docker };
}

describe('the plugin on a host, over the registry', () => {
  it('docker volume create -d nfsvol: the same volume as the CLI makes; asked again it is the same, other options are refused', async () => {
    const { l, docker } = await pluginOnH1();
    const opts = { uid: '999', gid: '999', mode: '0700', 'on-delete': 'delete', 'label.team': 'db' };
    expect(await docker('Create', { Name: 'pgdata', Opts: opts })).toEqual({ Err: '' });
    expect(await l.cluster.getVolume('pgdata')).toMatchObject({
      uid: 999,
      gid: 999,
      mode: 0o700,
      onDelete: 'delete',
      labels: { team: 'db' },
    });
    expect(l.fs.has('pgdata')).toBe(true);
    // No SSH from the plugin: the registered hosts owe the local-driver definition to `sync`.
    expect((await l.cluster.listHosts()).map((h) => h.pending)).toEqual([
      ['define pgdata'],
      ['define pgdata'],
    ]);
    expect(l.host(1).volumes.size + l.host(2).volumes.size).toBe(0);
    // Swarm sends Create on every node: the same options again are success.
    expect(await docker('Create', { Name: 'pgdata', Opts: opts })).toEqual({ Err: '' });
    expect(await docker('Create', { Name: 'pgdata', Opts: { ...opts, uid: '70' } })).toEqual({
      Err: "VOLUME_OPTIONS_DIFFER: pgdata exists with other options: uid 999 (asked 70); use 'nfsvol volume update' to change them",
    });
    expect(await docker('Create', { Name: 'pgdata', Opts: { ...opts, access: 'single-writer' } })).toEqual({
      Err: "VOLUME_OPTIONS_DIFFER: pgdata exists with other options: access multi-writer (asked single-writer); use 'nfsvol volume update' to change them",
    });
  });

  it('two containers on h1 share one mount; Remove waits for the last Unmount; then the policy applies', async () => {
    const { l, docker } = await pluginOnH1();
    await l.cluster.createVolumes(['cache'], { onDelete: 'delete' });
    const h1 = l.host(1);
    expect(await docker('Mount', { Name: 'cache', ID: 'c1' })).toEqual({
      Mountpoint: `${ROOT}/cache`,
      Err: '',
    });
    expect(await docker('Mount', { Name: 'cache', ID: 'c2' })).toEqual({
      Mountpoint: `${ROOT}/cache`,
      Err: '',
    });
    expect(h1.commands.filter((c) => c[0] === 'mount')).toHaveLength(1);
    expect(l.host(2).commands.filter((c) => c[0] === 'mount')).toHaveLength(0);
    expect(await docker('Path', { Name: 'cache' })).toEqual({ Mountpoint: `${ROOT}/cache`, Err: '' });
    expect(await docker('Get', { Name: 'cache' })).toMatchObject({
      Volume: { Name: 'cache', Mountpoint: `${ROOT}/cache` },
      Err: '',
    });
    expect(await docker('List')).toMatchObject({ Volumes: [{ Name: 'cache' }], Err: '' });
    expect(String((await docker('Remove', { Name: 'cache' }))['Err'])).toMatch(
      /^VOLUME_IN_USE: cache is mounted on h1/,
    );
    expect(l.fs.has('cache')).toBe(true);

    expect(await docker('Unmount', { Name: 'cache', ID: 'c1' })).toEqual({ Err: '' });
    expect(h1.mounts.has(`${ROOT}/cache`)).toBe(true);
    expect(await docker('Unmount', { Name: 'cache', ID: 'c2' })).toEqual({ Err: '' });
    expect(h1.mounts.has(`${ROOT}/cache`)).toBe(false);
    expect(await docker('Path', { Name: 'cache' })).toEqual({ Mountpoint: '', Err: '' });
    expect(await docker('Remove', { Name: 'cache' })).toEqual({ Err: '' });
    expect(l.fs.has('cache')).toBe(false);
    expect(await docker('Get', { Name: 'cache' })).toEqual({ Err: 'NOT_FOUND: no volume named cache' });
  });
});

describe('nfsvol plugin serve', () => {
  it('serves Docker on its socket until stopped, then removes the socket; an unregistered host is refused at start', async () => {
    const s = await initialisedCli({ hosts: 1 });
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-plugin-'));
    const socketPath = join(dir, 'nfsvol.sock');
    const stop = new AbortController();
    const serving = s.cliWith(
      { signal: stop.signal },
      'plugin',
      'serve',
      '--host',
      'h1',
      '--socket',
      socketPath,
      '--mount-root',
      ROOT,
    );
    const post = (endpoint: string, body: unknown): Promise<Record<string, unknown>> =>
      askPlugin(socketPath, endpoint, body);
    let created: Record<string, unknown> | undefined;
    for (let i = 0; i < 200 && !created; i++) {
      created = await post('Create', { Name: 'web', Opts: { 'label.team': 'web' } }).catch(async () => {
        await new Promise((r) => setTimeout(r, 25));
        return undefined;
      });
    }
    expect(created).toEqual({ Err: '' });
    expect(await post('List', {})).toMatchObject({ Volumes: [{ Name: 'web' }], Err: '' });
    expect((await s.cli('volume', 'ls', '-q')).stdout).toBe('web\n');
    stop.abort();
    const r = await serving;
    expect(r.stderr).toContain(`nfsvol plugin: serving h1 on ${socketPath}, mounts under ${ROOT}`);
    await expect(stat(socketPath)).rejects.toMatchObject({ code: 'ENOENT' });

    const unknown = await s.cli('plugin', 'serve', '--host', 'h9', '--socket', socketPath);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /h9 is not a registered host: run 'nfsvol host add h9 --ssh \.\.\.' first/,
    );
    const bad = await s.cli('plugin', 'serve', '--host', 'h1', '--socket', 'relative.sock');
    expect(bad.code).toBe(2);
  });
});

describe('single-writer volumes: one host at a time, by the writer lease on the export', () => {
  /** Plugins on h1 and h2 over one export, with a short writer lease so a takeover is quick. */
  async function pluginsOnTwoHosts() {
    const l = await initialisedFakeCluster({ hosts: 2, nfsVersion: '3', added: 2 });
    await l.cluster.setCluster({ writerLeaseMs: 3_000 });
    const open = async (i: 1 | 2) => {
      const cluster = await l.open(undefined, { self: selfOf(l.host(i), `h${i}`) });
      return new HostVolumes(cluster, `h${i}`, ROOT);
    };
    return { l, h1: await open(1), h2: await open(2) };
  }

  it('h2 is refused by name while h1 holds and renews; two containers on h1 share the lease; after h1 stops renewing h2 mounts', async () => {
    const { l, h1, h2 } = await pluginsOnTwoHosts();
    await h1.create('pg', { access: 'single-writer', uid: 999 });
    expect((await l.cluster.getVolume('pg')).access).toBe('single-writer');
    // Created by the plugin, owed to nobody as a local definition: sync defines nothing of it.
    expect((await l.cluster.listHosts()).map((h) => h.pending)).toEqual([[], []]);
    await l.cluster.sync();
    expect(l.host(1).volumes.has('pg') || l.host(2).volumes.has('pg')).toBe(false);

    expect(await h1.mount('pg', 'c1')).toBe(`${ROOT}/pg`);
    expect(await h1.mount('pg', 'c2')).toBe(`${ROOT}/pg`);
    await expect(h2.mount('pg', 'c3')).rejects.toMatchObject({
      code: 'VOLUME_HELD',
      message: expect.stringMatching(
        /^pg is single-writer and held by h1; it mounts here once h1 releases it/,
      ) as unknown,
    });
    expect(l.host(2).mounts.size).toBe(0);
    expect(await l.cluster.mountOn('pg', 'h2')).toBeUndefined();

    // One container goes: h1 still holds. Both go: released, and h2 mounts at once.
    await h1.unmount('pg', 'c1');
    await expect(h2.mount('pg', 'c3')).rejects.toMatchObject({ code: 'VOLUME_HELD' });
    await h1.unmount('pg', 'c2');
    const t0 = performance.now();
    expect(await h2.mount('pg', 'c3')).toBe(`${ROOT}/pg`);
    expect(performance.now() - t0).toBeLessThan(3_000);

    // h2's plugin stops renewing (its host is powered off, say): h1 waits out one lease.
    await h2.close();
    const t1 = performance.now();
    expect(await h1.mount('pg', 'c4')).toBe(`${ROOT}/pg`);
    expect(performance.now() - t1).toBeGreaterThanOrEqual(3_000);
    await h1.close();
  }, 30_000);

  it('a restarted plugin takes back its own lease at once and forgets mount records its kernel no longer has', async () => {
    const { l, h1, h2 } = await pluginsOnTwoHosts();
    await l.cluster.createVolumes(['pg'], { access: 'single-writer' });
    await l.cluster.createVolumes(['web']);
    await h1.mount('pg', 'c1');
    await h1.mount('web', 'c2');
    await h1.close(); // the plugin stops; its containers keep running
    // The host's kernel lost the web mount meanwhile (unmounted by hand, or a reboot).
    l.host(1).mounts.delete(`${ROOT}/web`);

    const again = new HostVolumes(await l.open(undefined, { self: selfOf(l.host(1), 'h1') }), 'h1', ROOT);
    const t0 = performance.now();
    expect(await again.recover()).toEqual({ forgotten: ['web'], held: ['pg'], failed: [] });
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(await l.cluster.mountOn('web', 'h1')).toBeUndefined();
    expect((await l.cluster.mountOn('pg', 'h1'))?.users).toEqual(['c1']);
    await expect(h2.mount('pg', 'c9')).rejects.toMatchObject({ code: 'VOLUME_HELD' });
    await again.close();
  }, 30_000);

  it('the CLI does not mount a single-writer volume on a host, and sync gives plugin hosts no local definitions', async () => {
    const { l } = await pluginsOnTwoHosts();
    await l.cluster.createVolumes(['pg'], { access: 'single-writer' });
    await l.cluster.createVolumes(['web']);
    expect(l.host(1).volumes.has('web')).toBe(true);
    expect(l.host(1).volumes.has('pg')).toBe(false);
    await expect(l.cluster.mountVolume({ volume: 'pg', host: 'h1', path: '/mnt/pg' })).rejects.toMatchObject({
      code: 'ACCESS_MODE_UNSUPPORTED',
    });
    expect(await l.cluster.setHostDocker('h1', 'plugin')).toMatchObject({ changed: true });
    expect(await l.cluster.setHostDocker('h1', 'plugin')).toMatchObject({ changed: false });
    // host check asks a plugin host for the plugin's socket (this fake host has none).
    const checked = await l.cluster.checkHost('h1');
    expect(checked.ok).toBe(false);
    expect(checked.checks.find((c) => c.check === 'plugin')).toMatchObject({
      ok: false,
      error: { code: 'HOST_PLUGIN_MISSING' },
    });
    const report = await l.cluster.sync();
    expect(report.hosts.find((h) => h.host === 'h1')).toMatchObject({ removed: ['web'], ok: true });
    expect(l.host(1).volumes.has('web')).toBe(false);
    expect(l.host(2).volumes.has('web')).toBe(true);
    await l.cluster.createVolumes(['more']);
    expect(l.host(1).volumes.has('more')).toBe(false);
    expect((await l.cluster.listHosts()).map((h) => [h.name, h.docker])).toEqual([
      ['h1', 'plugin'],
      ['h2', 'local'],
    ]);
  });
});
