// The Docker volume plugin's front end as dockerd sees it: requests over HTTP on a unix socket,
// answers with `Err` that Docker prints to its user. The backend here is a stand-in that records
// what it was asked; what a backend must do is docs/plugin.md's.
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NfsvolError } from '../../../driver/index.js';
import { handle, type VolumeDriverBackend } from '../../../cli/plugin/handlers.js';
import { parseSpec, type DockerVolume, type VolumeSpec } from '../../../cli/plugin/protocol.js';
import { MAX_BODY_BYTES, startPluginServer, type PluginServer } from '../../../cli/plugin/server.js';
import { postPlugin } from '../../support/plugin-socket.js';

/** Volumes in a map, mounts counted by ID; every call logged. */
class RecordingBackend implements VolumeDriverBackend {
  readonly calls: string[] = [];
  readonly volumes = new Map<string, VolumeSpec>();
  readonly ids = new Map<string, Set<string>>();
  fail: Error | undefined;

  private step(call: string): void {
    this.calls.push(call);
    if (this.fail) throw this.fail;
  }
  private must(name: string): VolumeSpec {
    const v = this.volumes.get(name);
    if (!v) throw new NfsvolError('NOT_FOUND', `no volume ${name}`);
    return v;
  }
  create(name: string, spec: VolumeSpec): Promise<void> {
    this.step(`create ${name}`);
    this.volumes.set(name, spec);
    return Promise.resolve();
  }
  remove(name: string): Promise<void> {
    this.step(`remove ${name}`);
    this.must(name);
    if ((this.ids.get(name)?.size ?? 0) > 0) throw new NfsvolError('VOLUME_IN_USE', `${name} is mounted`);
    this.volumes.delete(name);
    return Promise.resolve();
  }
  mount(name: string, id: string): Promise<string> {
    this.step(`mount ${name} ${id}`);
    this.must(name);
    const set = this.ids.get(name) ?? new Set<string>();
    set.add(id);
    this.ids.set(name, set);
    return Promise.resolve(`/mnt/nfsvol/${name}`);
  }
  unmount(name: string, id: string): Promise<void> {
    this.step(`unmount ${name} ${id}`);
    this.ids.get(name)?.delete(id);
    return Promise.resolve();
  }
  path(name: string): Promise<string | undefined> {
    this.step(`path ${name}`);
    return Promise.resolve((this.ids.get(name)?.size ?? 0) > 0 ? `/mnt/nfsvol/${name}` : undefined);
  }
  async get(name: string): Promise<DockerVolume> {
    this.step(`get ${name}`);
    this.must(name);
    const mountpoint = await this.path(name);
    return { Name: name, ...(mountpoint ? { Mountpoint: mountpoint } : {}) };
  }
  list(): Promise<readonly DockerVolume[]> {
    this.step('list');
    return Promise.resolve([...this.volumes.keys()].map((Name) => ({ Name })));
  }
}

describe('plugin protocol: what Docker sends is checked before anything acts on it', () => {
  it('Create takes the options a user gives with -o, by name', async () => {
    const b = new RecordingBackend();
    const { answer } = await handle(b, '/VolumeDriver.Create', {
      Name: 'pgdata',
      Opts: {
        uid: '999',
        gid: '999',
        mode: '0700',
        'on-delete': 'archive',
        'label.team': 'db',
        label: 'tier=gold',
        'mount-options': 'soft,timeo=100',
        access: 'single-writer',
      },
    });
    expect(answer).toEqual({ Err: '' });
    expect(b.volumes.get('pgdata')).toEqual({
      uid: 999,
      gid: 999,
      mode: 0o700,
      onDelete: 'archive',
      labels: { team: 'db', tier: 'gold' },
      mountOptions: ['soft', 'timeo=100'],
      access: 'single-writer',
    });
    expect(parseSpec(undefined)).toEqual({ labels: {}, access: 'multi-writer' });
  });

  it.each([
    [
      'an unknown option (a typo)',
      { Name: 'v1', Opts: { sise: '10G' } },
      /VALIDATION: sise: unknown option "sise"/,
    ],
    ['a policy that does not exist', { Name: 'v1', Opts: { 'on-delete': 'shred' } }, /on-delete/],
    ['an access mode that does not exist', { Name: 'v1', Opts: { access: 'exclusive' } }, /access/],
    ['a mode that is not octal', { Name: 'v1', Opts: { mode: '999' } }, /mode/],
    ['an option that is not a string', { Name: 'v1', Opts: { uid: 999 } }, /uid must be a string/],
    ['a name that climbs out of the export', { Name: '../etc' }, /VALIDATION: volume/],
    ['a name that is not a string', { Name: ['v1'] }, /Name must be a string/],
    ['a body that is not an object', ['v1'], /body must be a JSON object/],
    ['Opts that are not an object', { Name: 'v1', Opts: 'uid=1' }, /Opts must be an object/],
  ])('Create refuses %s, and nothing is created', async (_what, body, err) => {
    const b = new RecordingBackend();
    const { answer, category } = await handle(b, '/VolumeDriver.Create', body);
    expect(String(answer['Err'])).toMatch(err);
    expect(category).toBe('usage');
    expect(b.calls).toEqual([]);
  });

  it.each([
    ['no ID', { Name: 'v1' }],
    ['an empty ID', { Name: 'v1', ID: '' }],
    ['an ID with a slash', { Name: 'v1', ID: '../x' }],
    ['an ID with a newline', { Name: 'v1', ID: 'a\nb' }],
    ['an ID of a kilobyte', { Name: 'v1', ID: 'a'.repeat(1024) }],
  ])('Mount and Unmount refuse %s', async (_what, body) => {
    const b = new RecordingBackend();
    for (const endpoint of ['/VolumeDriver.Mount', '/VolumeDriver.Unmount'] as const) {
      const { answer } = await handle(b, endpoint, body);
      expect(String(answer['Err'])).toMatch(/^VALIDATION: ID: /);
    }
    expect(b.calls).toEqual([]);
  });
});

describe('plugin endpoints: answers as Docker reads them', () => {
  it('Activate, Capabilities (global scope), Create, Mount, Path, Get, List, Unmount, Remove', async () => {
    const b = new RecordingBackend();
    const ask = async (endpoint: Parameters<typeof handle>[1], body: unknown = {}): Promise<unknown> =>
      (await handle(b, endpoint, body)).answer;
    expect(await ask('/Plugin.Activate')).toEqual({ Implements: ['VolumeDriver'] });
    expect(await ask('/VolumeDriver.Capabilities')).toEqual({ Capabilities: { Scope: 'global' } });
    expect(await ask('/VolumeDriver.Create', { Name: 'v1' })).toEqual({ Err: '' });
    expect(await ask('/VolumeDriver.Path', { Name: 'v1' })).toEqual({ Mountpoint: '', Err: '' });
    expect(await ask('/VolumeDriver.Mount', { Name: 'v1', ID: 'c1' })).toEqual({
      Mountpoint: '/mnt/nfsvol/v1',
      Err: '',
    });
    expect(await ask('/VolumeDriver.Path', { Name: 'v1' })).toEqual({
      Mountpoint: '/mnt/nfsvol/v1',
      Err: '',
    });
    expect(await ask('/VolumeDriver.Get', { Name: 'v1' })).toEqual({
      Volume: { Name: 'v1', Mountpoint: '/mnt/nfsvol/v1' },
      Err: '',
    });
    expect(await ask('/VolumeDriver.List')).toEqual({ Volumes: [{ Name: 'v1' }], Err: '' });
    expect(await ask('/VolumeDriver.Remove', { Name: 'v1' })).toEqual({
      Err: 'VOLUME_IN_USE: v1 is mounted',
    });
    expect(await ask('/VolumeDriver.Unmount', { Name: 'v1', ID: 'c1' })).toEqual({ Err: '' });
    expect(await ask('/VolumeDriver.Remove', { Name: 'v1' })).toEqual({ Err: '' });
    expect(await ask('/VolumeDriver.Get', { Name: 'v1' })).toEqual({ Err: 'NOT_FOUND: no volume v1' });
  });

  it("a backend's failure is one line with its code and category; an untyped one is internal", async () => {
    const b = new RecordingBackend();
    b.fail = new NfsvolError('RPC_TIMEOUT', 'nas:2049 did not answer\nwithin 30 s');
    expect(await handle(b, '/VolumeDriver.List', {})).toEqual({
      answer: { Err: 'RPC_TIMEOUT: nas:2049 did not answer within 30 s' },
      category: 'unavailable',
    });
    b.fail = new TypeError('x is undefined');
    expect(await handle(b, '/VolumeDriver.List', {})).toEqual({
      answer: { Err: 'INTERNAL: x is undefined' },
      category: 'internal',
    });
  });
});

describe('plugin server on a unix socket', () => {
  let server: PluginServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const post = postPlugin;

  const start = async (
    b: VolumeDriverBackend,
    problems: string[] = [],
  ): Promise<{ socketPath: string; problems: string[] }> => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-plugin-'));
    const socketPath = join(dir, 'nfsvol.sock');
    // A socket file left by a plugin that died is replaced, not an EADDRINUSE.
    await writeFile(socketPath, '');
    server = await startPluginServer({
      socketPath,
      backend: b,
      onProblem: (endpoint, err) => problems.push(`${endpoint} ${err}`),
    });
    return { socketPath, problems };
  };

  it('answers Docker on its socket, and says what is wrong with a request it cannot read', async () => {
    const b = new RecordingBackend();
    const { socketPath, problems } = await start(b);
    const created = await post(socketPath, '/VolumeDriver.Create', JSON.stringify({ Name: 'v1' }));
    expect(created).toEqual({
      status: 200,
      type: 'application/vnd.docker.plugins.v1.2+json',
      json: { Err: '' },
    });
    expect((await post(socketPath, '/Plugin.Activate', '')).json).toEqual({ Implements: ['VolumeDriver'] });
    expect(await post(socketPath, '/VolumeDriver.Create', '{"Name": ')).toMatchObject({
      status: 400,
      json: { Err: 'USAGE: request body is not JSON' },
    });
    expect(
      await post(socketPath, '/VolumeDriver.Create', Buffer.alloc(MAX_BODY_BYTES + 1, 0x20)),
    ).toMatchObject({
      status: 400,
      json: { Err: `USAGE: request body larger than ${MAX_BODY_BYTES} bytes` },
    });
    expect(await post(socketPath, '/VolumeDriver.Snapshot', '{}')).toMatchObject({
      status: 404,
      json: { Err: 'USAGE: no endpoint POST /VolumeDriver.Snapshot' },
    });
    expect(await post(socketPath, '/VolumeDriver.List', '', 'GET')).toMatchObject({ status: 404 });
    expect(b.calls).toEqual(['create v1']);
    // The caller's mistakes are answered, not logged as the plugin's problems.
    expect(problems).toEqual([]);
  });

  it("logs the failures that are the plugin's or its peers', and removes its socket on close", async () => {
    const b = new RecordingBackend();
    const { socketPath, problems } = await start(b);
    await post(socketPath, '/VolumeDriver.Get', JSON.stringify({ Name: 'nope' }));
    b.fail = new NfsvolError('NFS_CONNECT', 'cannot reach nas:2049');
    const r = await post(socketPath, '/VolumeDriver.List', '{}');
    expect(r.json).toEqual({ Err: 'NFS_CONNECT: cannot reach nas:2049' });
    expect(problems).toEqual(['/VolumeDriver.List NFS_CONNECT: cannot reach nas:2049']);
    await server?.close();
    server = undefined;
    await expect(stat(socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
