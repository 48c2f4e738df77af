import { request } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { NfsvolError } from '../../common/errors.js';
import { settleOnce } from '../../common/settle-once.js';
import { HostCommandError } from '../ssh/errors.js';
import type { RemoteHost } from '../ssh/remote-host.js';
import type { VolumeDefinition } from './volume-options.js';
import { DockerOutputError, parseVolumeInspect, parseVolumeLs, type DockerVolumeInfo } from './inspect.js';
import {
  CLUSTER_LABEL,
  MANAGED_LABEL,
  dockerVolumeCreateArgvOf,
  dockerVolumeInspectArgv,
  dockerVolumeLsArgv,
  dockerVolumeRmArgv,
} from './volume-options.js';

export type { VolumeDefinition } from './volume-options.js';

/** The Docker operations sync needs, over either the Engine API or the docker CLI. */
export interface DockerEngine {
  readonly via: 'api' | 'cli';
  /**
   * Every volume on the host. Those labelled for `clusterId` come with options and labels;
   * others may come with their name only (enough to detect a name conflict).
   */
  listVolumes(clusterId: string, signal?: AbortSignal): Promise<DockerVolumeInfo[]>;
  createVolume(def: VolumeDefinition, signal?: AbortSignal): Promise<void>;
  /**
   * Removes a volume; one that is already gone counts as removed. A volume that any container
   * (running or not) names is VOLUME_IN_USE, asked of the containers' own configuration before
   * the removal: the daemon's in-memory reference count is not relied on alone.
   */
  removeVolume(name: string, signal?: AbortSignal): Promise<void>;
}

export class DockerApiError extends NfsvolError {
  readonly host: string;
  readonly status: number;
  constructor(host: string, what: string, status: number, message: string) {
    super(
      status === 409 ? 'VOLUME_IN_USE' : 'DOCKER_API_ERROR',
      `${host}: ${what}: ${message.slice(0, 300)} (HTTP ${status})`,
    );
    this.host = host;
    this.status = status;
  }
}

const INSPECT_BATCH = 200;

/**
 * Docker's `volume` filter matches a mount's volume name or its destination; destinations are
 * absolute paths and volume names hold no `/`, so a match here is always the volume itself.
 */
function dockerContainersUsingArgv(volume: string): string[] {
  return ['docker', 'ps', '--all', '--no-trunc', '--filter', `volume=${volume}`, '--format', '{{.Names}}'];
}

function parseContainerNames(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

function volumeInUse(volume: string, host: string, containers: readonly string[]): NfsvolError {
  const shown = containers.slice(0, 5).join(', ') + (containers.length > 5 ? ', ...' : '');
  return new NfsvolError('VOLUME_IN_USE', `${volume} is in use on ${host} by containers: ${shown}`);
}

/** The docker CLI, run over SSH as argument vectors: works wherever `docker` runs. */
export class DockerCli implements DockerEngine {
  readonly via = 'cli';
  constructor(private readonly remote: RemoteHost) {}

  async listVolumes(clusterId: string, signal?: AbortSignal): Promise<DockerVolumeInfo[]> {
    const all = parseVolumeLs(
      this.remote.name,
      (await this.remote.run(dockerVolumeLsArgv(), { signal })).stdout,
    );
    const ours = parseVolumeLs(
      this.remote.name,
      (
        await this.remote.run(
          ['docker', 'volume', 'ls', '--quiet', '--filter', `label=${CLUSTER_LABEL}=${clusterId}`],
          {
            signal,
          },
        )
      ).stdout,
    );
    const detailed = new Map<string, DockerVolumeInfo>();
    for (let i = 0; i < ours.length; i += INSPECT_BATCH) {
      const res = await this.remote.run(dockerVolumeInspectArgv(ours.slice(i, i + INSPECT_BATCH)), {
        signal,
        maxOutputBytes: 16 * 1024 * 1024,
      });
      for (const v of parseVolumeInspect(this.remote.name, res.stdout)) detailed.set(v.name, v);
    }
    return all.map((name) => detailed.get(name) ?? { name, driver: '', options: {}, labels: {} });
  }

  async createVolume(def: VolumeDefinition, signal?: AbortSignal): Promise<void> {
    await this.remote.run(dockerVolumeCreateArgvOf(def), { signal });
  }

  async removeVolume(name: string, signal?: AbortSignal): Promise<void> {
    await this.refuseIfUsed(name, signal);
    try {
      await this.remote.run(dockerVolumeRmArgv([name]), { signal });
    } catch (err) {
      if (!(err instanceof HostCommandError)) throw err;
      // The docker CLI gives no status to classify and its messages are not an interface: what
      // happened is read back from the daemon's state instead.
      const all = parseVolumeLs(
        this.remote.name,
        (await this.remote.run(dockerVolumeLsArgv(), { signal })).stdout,
      );
      if (!all.includes(name)) return;
      await this.refuseIfUsed(name, signal);
      throw err;
    }
  }

  private async refuseIfUsed(name: string, signal?: AbortSignal): Promise<void> {
    const users = parseContainerNames(
      (await this.remote.run(dockerContainersUsingArgv(name), { signal })).stdout,
    );
    if (users.length > 0) throw volumeInUse(name, this.remote.name, users);
  }
}

/** Opens a stream to a Unix socket on the host (SSH direct-streamlocal forwarding). */
export type UnixSocketOpener = (path: string, signal?: AbortSignal) => Promise<Duplex>;

export interface DockerApiOptions {
  /** @default '/var/run/docker.sock' */
  readonly socketPath?: string;
  /** Per request. @default 60_000 */
  readonly timeoutMs?: number;
  /** Largest response body accepted. @default 32 MiB */
  readonly maxBodyBytes?: number;
}

/**
 * The Docker Engine API spoken over SSH: each request is an HTTP/1.1 exchange on its own
 * forwarded channel to the host's docker.sock. No `docker` process starts on the host, which on
 * slow hosts is most of the cost of a `docker volume create`.
 */
export class DockerApi implements DockerEngine {
  readonly via = 'api';
  private readonly socketPath: string;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;

  constructor(
    private readonly host: string,
    private readonly open: UnixSocketOpener,
    options: DockerApiOptions = {},
  ) {
    this.socketPath = options.socketPath ?? '/var/run/docker.sock';
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 32 * 1024 * 1024;
  }

  /** Resolves when the daemon answers `GET /_ping`. */
  async ping(signal?: AbortSignal): Promise<void> {
    await this.call('GET', '/_ping', undefined, 'ping', signal);
  }

  async listVolumes(_clusterId: string, signal?: AbortSignal): Promise<DockerVolumeInfo[]> {
    const body = await this.call('GET', '/volumes', undefined, 'list volumes', signal);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (err) {
      throw new DockerOutputError(this.host, 'GET /volumes', err);
    }
    const list = (json as { Volumes?: unknown }).Volumes;
    if (list === null) return [];
    if (!Array.isArray(list)) throw new DockerOutputError(this.host, 'GET /volumes (no Volumes list)');
    return parseVolumeInspect(this.host, JSON.stringify(list));
  }

  async createVolume(def: VolumeDefinition, signal?: AbortSignal): Promise<void> {
    await this.call(
      'POST',
      '/volumes/create',
      {
        Name: def.name,
        Driver: 'local',
        DriverOpts: def.options,
        Labels: { [MANAGED_LABEL]: 'true', [CLUSTER_LABEL]: def.clusterId },
      },
      `create volume ${def.name}`,
      signal,
    );
  }

  async removeVolume(name: string, signal?: AbortSignal): Promise<void> {
    const users = await this.containersUsing(name, signal);
    if (users.length > 0) throw volumeInUse(name, this.host, users);
    try {
      await this.call(
        'DELETE',
        `/volumes/${encodeURIComponent(name)}`,
        undefined,
        `remove volume ${name}`,
        signal,
      );
    } catch (err) {
      if (err instanceof DockerApiError && err.status === 404) return;
      throw err;
    }
  }

  /** Names of the containers, running or not, whose configuration mounts the volume. */
  private async containersUsing(name: string, signal?: AbortSignal): Promise<string[]> {
    const filters = encodeURIComponent(JSON.stringify({ volume: [name] }));
    const body = await this.call(
      'GET',
      `/containers/json?all=1&filters=${filters}`,
      undefined,
      `list containers using ${name}`,
      signal,
    );
    let list: unknown;
    try {
      list = JSON.parse(body);
    } catch (err) {
      throw new DockerOutputError(this.host, 'GET /containers/json', err);
    }
    if (!Array.isArray(list)) throw new DockerOutputError(this.host, 'GET /containers/json (not a list)');
    return list.map((c: unknown) => {
      const names = (c as { Names?: unknown }).Names;
      const first = Array.isArray(names) && typeof names[0] === 'string' ? names[0] : undefined;
      const id = (c as { Id?: unknown }).Id;
      return (first ?? (typeof id === 'string' ? id.slice(0, 12) : '?')).replace(/^\//, '');
    });
  }

  private async call(
    method: string,
    path: string,
    body: unknown,
    what: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const stream = await this.open(this.socketPath, signal);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<string>((resolve, reject) => {
      const req = request({
        method,
        path,
        headers: {
          Host: 'docker',
          Connection: 'close',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
        },
        createConnection: () => stream as unknown as Socket,
      });
      // Every way out closes the forwarded channel too.
      const finish = (fn: () => void): void =>
        once.finish(() => {
          stream.destroy();
          fn();
        });
      const once = settleOnce({
        timeoutMs: this.timeoutMs,
        onTimeout: () => {
          req.destroy();
          finish(() =>
            reject(new DockerApiError(this.host, what, 0, `no answer within ${this.timeoutMs} ms`)),
          );
        },
        signal,
        onAbort: () => {
          req.destroy();
          finish(() => reject(signal?.reason as Error));
        },
      });
      req.on('error', (err) =>
        finish(() => reject(new DockerApiError(this.host, what, 0, `connection failed: ${err.message}`))),
      );
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > this.maxBodyBytes) {
            req.destroy();
            finish(() =>
              reject(new DockerOutputError(this.host, `${method} ${path} (over ${this.maxBodyBytes} bytes)`)),
            );
            return;
          }
          chunks.push(c);
        });
        res.on('error', (err) => finish(() => reject(new DockerApiError(this.host, what, 0, err.message))));
        res.on('end', () => {
          const text = new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
          const status = res.statusCode ?? 0;
          finish(() => {
            if (status >= 200 && status < 300) {
              resolve(text);
              return;
            }
            let message = text.trim();
            try {
              const m = (JSON.parse(text) as { message?: unknown }).message;
              if (typeof m === 'string') message = m;
            } catch {
              // not JSON: keep the text
            }
            reject(new DockerApiError(this.host, what, status, message));
          });
        });
      });
      if (payload) req.end(payload);
      else req.end();
    });
  }
}

/**
 * The fastest way to reach a host's Docker: the Engine API through a forwarded socket when the
 * transport can forward one and the daemon answers a ping, else the docker CLI.
 */
export async function openDockerEngine(
  remote: RemoteHost,
  signal?: AbortSignal,
  /** Told why the CLI is used instead of the API. */
  onFallback?: (why: string) => void,
): Promise<DockerEngine> {
  if (!remote.connectUnixSocket) onFallback?.('this transport cannot forward a socket');
  if (remote.connectUnixSocket) {
    const api = new DockerApi(remote.name, (path, s) => remote.connectUnixSocket!(path, s));
    try {
      await api.ping(signal);
      return api;
    } catch (err) {
      // Forwarding refused by sshd, or no daemon socket at the usual path: use the CLI. A host
      // that cannot be reached at all fails here as it would with the CLI.
      if (
        !(err instanceof DockerApiError) &&
        !(err instanceof NfsvolError && err.code === 'SSH_CHANNEL_REFUSED')
      ) {
        throw err;
      }
      onFallback?.(err.message);
    }
  }
  return new DockerCli(remote);
}
