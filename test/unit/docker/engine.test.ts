import { createServer, connect, type Server } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DockerApi,
  DockerApiError,
  DockerCli,
  openDockerEngine,
} from '../../../driver/attach/docker/engine.js';
import { DockerOutputError } from '../../../driver/attach/docker/inspect.js';
import { NfsvolError } from '../../../driver/common/errors.js';
import type { RemoteHost, RunResult } from '../../../driver/attach/ssh/remote-host.js';
import { SshCommandError } from '../../../driver/attach/ssh/errors.js';

/** A stand-in for dockerd: the few Engine API endpoints nfsvol uses, on a Unix socket. */
let socketPath = '';
let server: ReturnType<typeof createHttpServer>;
const volumes = new Map<
  string,
  { Name: string; Driver: string; Options: Record<string, string>; Labels: Record<string, string> }
>();
/** Containers (stopped ones too) by name, and the volume each mounts. */
const containers = new Map<string, string>();
let mode: 'normal' | 'garbage' | 'huge' | 'silent' = 'normal';

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (mode === 'silent') return;
    if (mode === 'garbage') return send(200, '{"Volumes": [garbage');
    if (mode === 'huge') {
      res.writeHead(200);
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      for (let i = 0; i < 8; i++) res.write(chunk);
      res.end();
      return;
    }
    if (req.method === 'GET' && req.url === '/_ping') return send(200, 'OK');
    if (req.method === 'GET' && req.url === '/volumes') {
      return send(200, { Volumes: volumes.size ? [...volumes.values()] : null, Warnings: null });
    }
    if (req.method === 'POST' && req.url === '/volumes/create') {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as {
        Name: string;
        Driver: string;
        DriverOpts: Record<string, string>;
        Labels: Record<string, string>;
      };
      volumes.set(body.Name, {
        Name: body.Name,
        Driver: body.Driver,
        Options: body.DriverOpts,
        Labels: body.Labels,
      });
      return send(201, volumes.get(body.Name));
    }
    if (req.method === 'GET' && req.url?.startsWith('/containers/json?')) {
      const q = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1));
      const wanted = (JSON.parse(q.get('filters') ?? '{}') as { volume?: string[] }).volume ?? [];
      const list = [...containers.entries()]
        .filter(([, v]) => q.get('all') === '1' && wanted.includes(v))
        .map(([n]) => ({ Id: `id-${n}`, Names: [`/${n}`] }));
      return send(200, list);
    }
    const m = /^\/volumes\/(.+)$/.exec(req.url ?? '');
    if (req.method === 'DELETE' && m?.[1]) {
      const name = decodeURIComponent(m[1]);
      if (name === 'busy') return send(409, { message: 'remove busy: volume is in use - [abc]' });
      if (!volumes.delete(name)) return send(404, { message: `get ${name}: no such volume` });
      res.writeHead(204);
      return res.end();
    }
    send(404, { message: 'page not found' });
  });
}

beforeAll(async () => {
  socketPath = join(await mkdtemp(join(tmpdir(), 'nfsvol-docker-')), 'docker.sock');
  server = createHttpServer(handle);
  await new Promise<void>((r) => server.listen(socketPath, () => r()));
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

const opener = async (): Promise<Duplex> => connect(socketPath);

describe('DockerApi (Engine API over a forwarded socket)', () => {
  it('pings, creates with the managed labels, lists with options, removes idempotently', async () => {
    mode = 'normal';
    volumes.clear();
    const api = new DockerApi('h1', opener);
    await api.ping();
    expect(await api.listVolumes('c1')).toEqual([]);
    await api.createVolume({
      name: 'v1',
      options: { type: 'nfs4', o: 'addr=x,vers=4.1', device: ':/export/v1' },
      clusterId: 'c1',
    });
    expect(await api.listVolumes('c1')).toEqual([
      {
        name: 'v1',
        driver: 'local',
        options: { type: 'nfs4', o: 'addr=x,vers=4.1', device: ':/export/v1' },
        labels: { 'nfsvol.managed': 'true', 'nfsvol.cluster': 'c1' },
      },
    ]);
    await api.removeVolume('v1');
    await api.removeVolume('v1');
    expect(volumes.size).toBe(0);
  });

  it('a volume in use is VOLUME_IN_USE with the daemon message', async () => {
    mode = 'normal';
    const err = await new DockerApi('h1', opener).removeVolume('busy').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerApiError);
    expect(err).toMatchObject({ code: 'VOLUME_IN_USE', status: 409 });
    expect((err as Error).message).toContain('volume is in use');
  });

  it('a volume a container names is VOLUME_IN_USE before any DELETE, naming the container', async () => {
    mode = 'normal';
    volumes.clear();
    const api = new DockerApi('h1', opener);
    await api.createVolume({ name: 'v2', options: {}, clusterId: 'c1' });
    containers.set('web-1', 'v2');
    const err = await api.removeVolume('v2').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VOLUME_IN_USE', message: 'v2 is in use on h1 by containers: web-1' });
    expect(volumes.has('v2')).toBe(true);
    containers.clear();
    await api.removeVolume('v2');
    expect(volumes.has('v2')).toBe(false);
  });

  it('garbage, oversized and missing answers are typed errors, never hangs', async () => {
    mode = 'garbage';
    await expect(new DockerApi('h1', opener).listVolumes('c1')).rejects.toBeInstanceOf(DockerOutputError);
    mode = 'huge';
    await expect(
      new DockerApi('h1', opener, { maxBodyBytes: 1024 * 1024 }).listVolumes('c1'),
    ).rejects.toThrow(/over 1048576 bytes/);
    mode = 'silent';
    await expect(new DockerApi('h1', opener, { timeoutMs: 200 }).ping()).rejects.toThrow(
      /no answer within 200 ms/,
    );
    mode = 'normal';
  });
});

describe('openDockerEngine', () => {
  const runOnly: RemoteHost = {
    name: 'h1',
    run: async (): Promise<RunResult> => ({ stdout: '', stderr: '', exitCode: 0, truncated: false }),
    close: async () => undefined,
    [Symbol.asyncDispose]: async () => undefined,
  };

  it('uses the API when the socket answers', async () => {
    mode = 'normal';
    expect((await openDockerEngine({ ...runOnly, connectUnixSocket: opener })).via).toBe('api');
  });

  it('falls back to the CLI when the transport cannot forward or the daemon socket is elsewhere', async () => {
    expect(await openDockerEngine(runOnly)).toBeInstanceOf(DockerCli);
    const refused = async (): Promise<Duplex> => {
      throw new NfsvolError('SSH_CHANNEL_REFUSED', 'administratively prohibited');
    };
    expect((await openDockerEngine({ ...runOnly, connectUnixSocket: refused })).via).toBe('cli');
    const nothing: Server = createServer((s) => s.destroy());
    const deadPath = `${socketPath}.dead`;
    await new Promise<void>((r) => nothing.listen(deadPath, () => r()));
    try {
      expect(
        (await openDockerEngine({ ...runOnly, connectUnixSocket: async () => connect(deadPath) })).via,
      ).toBe('cli');
    } finally {
      await new Promise<void>((r) => nothing.close(() => r()));
    }
  });

  it('an unreachable host is reported, not hidden behind the fallback', async () => {
    const unreachable = async (): Promise<Duplex> => {
      throw new NfsvolError('HOST_UNREACHABLE', 'connect ECONNREFUSED', { retriable: true });
    };
    await expect(openDockerEngine({ ...runOnly, connectUnixSocket: unreachable })).rejects.toThrow(
      /ECONNREFUSED/,
    );
  });
});

describe('DockerCli removal: classified from the daemon state, never from message text', () => {
  /** A host whose `docker volume rm` fails with a message nfsvol must not parse. */
  function host(state: { volumes: string[]; users: string[] }): RemoteHost {
    return {
      name: 'h1',
      run: async (argv): Promise<RunResult> => {
        const ok = (stdout: string): RunResult => ({ stdout, stderr: '', exitCode: 0, truncated: false });
        if (argv[1] === 'ps') return ok(state.users.map((u) => `${u}\n`).join(''));
        if (argv[1] === 'volume' && argv[2] === 'ls') return ok(state.volumes.map((v) => `${v}\n`).join(''));
        if (argv[1] === 'volume' && argv[2] === 'rm') {
          throw new SshCommandError('h1', argv, 1, 'Fehler: etwas ist schiefgelaufen');
        }
        throw new Error(`unexpected ${argv.join(' ')}`);
      },
      close: async () => undefined,
      [Symbol.asyncDispose]: async () => undefined,
    };
  }

  it('a volume gone after a failed rm counts as removed', async () => {
    await new DockerCli(host({ volumes: [], users: [] })).removeVolume('v1');
  });

  it('a volume a container names is VOLUME_IN_USE, asked before the rm', async () => {
    const err = await new DockerCli(host({ volumes: ['v1'], users: ['web-1'] }))
      .removeVolume('v1')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'VOLUME_IN_USE', category: 'conflict' });
  });

  it('a volume still there and unused keeps the command error', async () => {
    const err = await new DockerCli(host({ volumes: ['v1'], users: [] }))
      .removeVolume('v1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshCommandError);
  });
});
