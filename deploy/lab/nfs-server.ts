// The lab's NFS server: nfs-ganesha (NFSv3 + MOUNT + rpcbind, and NFSv4.1) in a container made
// from the image deploy/lab/build.sh builds, managed by testcontainers. With `v41Only` it serves
// NFSv4.1 alone on its NFS port, with no rpcbind and no MOUNT, as EFS or Azure Files do.
//
// Ports: the NFS and MOUNT ports are published host:container *identically* on 127.0.0.1, and
// ganesha listens on those same numbers inside the container, so the ports rpcbind GETPORT hands
// out are valid from this machine. rpcbind listens on 111 in the container, published on
// `rpcbindPort` of 127.0.0.1. Lab VMs reach 127.0.0.1 of this machine as 10.0.2.2.
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  AbstractStartedContainer,
  GenericContainer,
  ImageName,
  type StartedTestContainer,
  type StopOptions,
  type StoppedTestContainer,
  type WaitStrategy,
} from 'testcontainers';
import { LabError } from './errors.js';
import { RPC_PROGRAM, rpcbindGetPort, rpcNull } from './rpc-probe.js';
import { LabSession } from './session.js';
import { buildImages, freePort, labCacheDir, pollUntil, run } from './util.js';

export interface NfsServer extends AsyncDisposable {
  /** '127.0.0.1': where this machine reaches the server. */
  readonly host: string;
  /** '10.0.2.2': where lab VMs reach it (qemu user networking maps it to this machine's loopback). */
  readonly addressFromHosts: string;
  readonly nfsPort: number;
  /** 0 on a v4.1-only server (it has no MOUNT service). */
  readonly mountPort: number;
  /** 0 on a v4.1-only server (it runs no rpcbind). */
  readonly rpcbindPort: number;
  /** True when the server speaks NFSv4.1 only (StartNfsServerOptions.v41Only). */
  readonly v41Only: boolean;
  /** '/export': the NFSv4 pseudo path, also the NFSv3 MOUNT path (mount_path_pseudo). */
  readonly exportPath: string;
  /** The host directory behind the export. Read it; never write it behind ganesha's back. */
  readonly exportDir: string;
  /** The docker container id (for diagnostics). */
  readonly containerId: string;
  /**
   * `nfs://127.0.0.1/export?version=3&nfsport=N&mountport=M&rpcbindport=R` or
   * `nfs://127.0.0.1/export?version=4.1&nfsport=N`. The parameter names are libnfs's (nfs-ls and
   * nfs-cp take the v3 URL as is and ignore rpcbindport; libnfs speaks NFSv4.0 only, which this
   * server refuses), and
   * nfsvol's own parser (driver/nfs/nfs-url.ts) reads all of them.
   */
  url(version: 3 | 4.1): string;
  /** Stops and starts the server (same container, ports and export); resolves once it answers RPCs. */
  restart(): Promise<void>;
  /** Stops and removes the container. Idempotent. The export directory is kept until the session ends. */
  stop(): Promise<unknown>;
}

export interface StartNfsServerOptions {
  /** NFS port on 127.0.0.1 (and in the container). @default a free port */
  readonly nfsPort?: number;
  /** MOUNT port on 127.0.0.1 (and in the container). @default a free port */
  readonly mountPort?: number;
  /** Port on 127.0.0.1 where rpcbind (111 in the container) is published. @default a free port */
  readonly rpcbindPort?: number;
  /** Host directory to export (created if missing). @default a new directory in the session's state */
  readonly exportDir?: string;
  /**
   * Serve NFSv4.1 only: no rpcbind, no MOUNT, no NFSv3 (the container's NFS_V41_ONLY=1).
   * `url(3)` then throws. @default false
   */
  readonly v41Only?: boolean;
  /** How long start and restart may take. @default 60000 */
  readonly timeoutMs?: number;
  /** Squashing of the main export. @default { mode: 'none' } */
  readonly squash?: NfsSquash;
  /** Image build progress (only printed when something is built). @default stderr */
  readonly onProgress?: (line: string) => void;
  /** @internal Session to own the container; lab:up passes its persistent one. */
  readonly session?: LabSession;
}

const CONTAINER_RPCBIND_PORT = 111;

function validPort(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > 65535)) {
    throw new LabError('INVALID_OPTION', `startNfsServer: ${name} must be an integer port, got ${value}`);
  }
}

/**
 * Polls until ganesha answers NULL on NFSv3, NFSv4 and MOUNT v3, and rpcbind maps both programs;
 * on a v4.1-only server (no mount or rpcbind port), NULL on NFSv4 alone.
 */
async function waitServing(host: string, ports: PortSet, timeoutMs: number): Promise<void> {
  await pollUntil(
    `NFS server on ${host}:${ports.nfs}`,
    async () => {
      if (ports.mount === 0) {
        await rpcNull(host, ports.nfs, RPC_PROGRAM.nfs, 4);
        return true;
      }
      await rpcNull(host, ports.nfs, RPC_PROGRAM.nfs, 3);
      await rpcNull(host, ports.nfs, RPC_PROGRAM.nfs, 4);
      await rpcNull(host, ports.mount, RPC_PROGRAM.mount, 3);
      const nfs = await rpcbindGetPort(host, ports.rpcbind, RPC_PROGRAM.nfs, 3);
      const mount = await rpcbindGetPort(host, ports.rpcbind, RPC_PROGRAM.mount, 3);
      if (nfs !== ports.nfs || mount !== ports.mount) {
        throw new LabError('RPC_ERROR', `rpcbind maps nfs to ${nfs} and mount to ${mount}`);
      }
      return true;
    },
    { timeoutMs, intervalMs: 100 },
  );
}

interface PortSet {
  readonly nfs: number;
  readonly mount: number;
  readonly rpcbind: number;
}

async function choosePorts(opts: StartNfsServerOptions): Promise<PortSet> {
  if (opts.v41Only) {
    return { nfs: opts.nfsPort ?? (await freePort()), mount: 0, rpcbind: 0 };
  }
  const taken = new Set<number>();
  const pick = async (wanted: number | undefined): Promise<number> => {
    if (wanted !== undefined) return wanted;
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  return {
    nfs: await pick(opts.nfsPort),
    mount: await pick(opts.mountPort),
    rpcbind: await pick(opts.rpcbindPort),
  };
}

/**
 * How the main export maps client users: 'none' (No_Root_Squash: root stays root), 'root'
 * (Root_Squash: root becomes the anonymous user), 'all' (All_Squash: everyone does). The anonymous
 * user is 65534:65534 unless anonUid/anonGid say otherwise.
 */
export interface NfsSquash {
  readonly mode: 'none' | 'root' | 'all';
  readonly anonUid?: number;
  readonly anonGid?: number;
}

const GANESHA_SQUASH = { none: 'No_Root_Squash', root: 'Root_Squash', all: 'All_Squash' } as const;

/** An NFS version the lab server speaks: NFSv3 (with MOUNT and rpcbind) and NFSv4.1. */
export type NfsServerVersion = 3 | 4.1;

/** A running lab NFS server: a testcontainers started container with the NFS getters. */
export class StartedNfsServerContainer extends AbstractStartedContainer implements NfsServer {
  readonly host = '127.0.0.1';
  readonly addressFromHosts = '10.0.2.2';
  readonly exportPath = '/export';
  private stopping: Promise<StoppedTestContainer> | undefined;

  constructor(
    container: StartedTestContainer,
    private readonly ports: PortSet,
    readonly exportDir: string,
    private readonly timeoutMs: number,
  ) {
    super(container);
  }

  get nfsPort(): number {
    return this.ports.nfs;
  }
  get mountPort(): number {
    return this.ports.mount;
  }
  get rpcbindPort(): number {
    return this.ports.rpcbind;
  }
  get containerId(): string {
    return this.getId();
  }
  get v41Only(): boolean {
    return this.ports.mount === 0;
  }
  /** The versions this server answers. */
  get versions(): readonly NfsServerVersion[] {
    return this.v41Only ? [4.1] : [3, 4.1];
  }

  /** The `nfs://` URL nfsvol (and libnfs, for v3) takes for this server; see NfsServer.url. */
  getUrl(version: NfsServerVersion): string {
    return this.url(version);
  }

  url(version: NfsServerVersion): string {
    // No port in the authority: libnfs 4.0 refuses host:port, and nfsvol's parser takes nfsport.
    const base = `nfs://${this.host}${this.exportPath}`;
    const { nfs, mount, rpcbind } = this.ports;
    if (version === 3 && this.v41Only) {
      throw new LabError('INVALID_OPTION', 'url: this server serves NFSv4.1 only (started with v41Only)');
    }
    if (version === 3) return `${base}?version=3&nfsport=${nfs}&mountport=${mount}&rpcbindport=${rpcbind}`;
    if (version === 4.1) return `${base}?version=4.1&nfsport=${nfs}`;
    throw new LabError('INVALID_OPTION', `url: version must be 3 or 4.1, got ${String(version)}`);
  }

  /** Stops and starts ganesha in the same container (same ports, same export); resolves once it answers RPCs. */
  override async restart(): Promise<void> {
    if (this.stopping !== undefined) throw new LabError('STOPPED', 'NFS server was stopped');
    // SIGTERM, then SIGKILL after 10 s; then the RPC probes, not a sleep.
    await super.restart({ timeout: 10 });
    await waitServing(this.host, this.ports, this.timeoutMs);
  }

  /** Stops and removes the container. Idempotent: a second call returns the first one's result. */
  override stop(options: Partial<StopOptions> = {}): Promise<StoppedTestContainer> {
    this.stopping ??= super.stop({ timeout: 5, remove: true, ...options });
    return this.stopping;
  }

  override async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Publishes ports on 127.0.0.1 only (testcontainers' withExposedPorts binds 0.0.0.0). */
function bindLoopback(
  container: GenericContainer,
  hostConfig: { PortBindings?: Record<string, { HostIp?: string; HostPort?: string }[]> },
  ports: readonly { host: number; container: number }[],
): void {
  container.withExposedPorts(...ports.map((p) => ({ host: p.host, container: p.container })));
  for (const p of ports) {
    hostConfig.PortBindings = {
      ...hostConfig.PortBindings,
      [`${p.container}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(p.host) }],
    };
  }
}

/** Readiness = the RPC probes, so testcontainers' own restart() waits on them too. */
function rpcReady(ports: PortSet, timeoutMs: number): WaitStrategy {
  let startupTimeoutMs = timeoutMs;
  const strategy: WaitStrategy = {
    waitUntilReady: () => waitServing('127.0.0.1', ports, startupTimeoutMs),
    withStartupTimeout: (ms: number) => {
      startupTimeoutMs = ms;
      return strategy;
    },
    isStartupTimeoutSet: () => true,
    getStartupTimeout: () => startupTimeoutMs,
  };
  return strategy;
}

/** Until start() has built the image and knows its tag. */
const PENDING_IMAGE = 'nfsvol-lab-nfs:pending';

/**
 * nfs-ganesha as a testcontainers module: NFSv3 (MOUNT, rpcbind) and NFSv4.1 on ports of
 * 127.0.0.1, the image built from Debian packages by the lab on first use and cached. The
 * container belongs to the lab session of this process, so the session reaper removes it even
 * when the process is SIGKILLed.
 *
 * ```ts
 * await using nfs = await new NfsServerContainer().withVersions(3, 4.1).start();
 * nfs.getUrl(4.1); // nfs://127.0.0.1/export?version=4.1&nfsport=N
 * ```
 */
export class NfsServerContainer extends GenericContainer {
  private options: StartNfsServerOptions = {};

  constructor() {
    super(PENDING_IMAGE);
  }

  /**
   * The NFS versions to serve: `(3, 4.1)` (the default) or `(4.1)` alone, which is a server with
   * no rpcbind and no MOUNT, as EFS or Azure Files are. NFSv3 alone is not offered: ganesha serves
   * NFSv4 beside it.
   */
  withVersions(...versions: NfsServerVersion[]): this {
    const set = new Set(versions);
    for (const v of set) {
      if (v !== 3 && v !== 4.1) {
        throw new LabError('INVALID_OPTION', `withVersions: versions are 3 and 4.1, got ${String(v)}`);
      }
    }
    if (!set.has(4.1)) {
      throw new LabError('INVALID_OPTION', 'withVersions: 4.1 is always served; give (3, 4.1) or (4.1)');
    }
    this.options = { ...this.options, v41Only: !set.has(3) };
    return this;
  }

  /** Host directory to export as /export (created if missing). @default a new directory of the lab session */
  withExport(dir: string): this {
    this.options = { ...this.options, exportDir: dir };
    return this;
  }

  /**
   * How the export maps client users (see NfsSquash): `withSquash('root')` is what most servers
   * default to; `withSquash('all', { anonUid: 1000, anonGid: 1000 })` maps everyone to one user.
   * @default 'none'
   */
  withSquash(
    mode: NfsSquash['mode'],
    ids: { readonly anonUid?: number; readonly anonGid?: number } = {},
  ): this {
    if (!Object.hasOwn(GANESHA_SQUASH, mode)) {
      throw new LabError(
        'INVALID_OPTION',
        `withSquash: mode must be 'none', 'root' or 'all', got ${String(mode)}`,
      );
    }
    for (const [name, id] of Object.entries(ids)) {
      if (id !== undefined && (!Number.isInteger(id) || id < 0 || id > 0xffffffff)) {
        throw new LabError('INVALID_OPTION', `withSquash: ${name} must be an integer id, got ${String(id)}`);
      }
    }
    this.options = { ...this.options, squash: { mode, ...ids } };
    return this;
  }

  /** Fixed ports on 127.0.0.1 (ganesha listens on the same numbers in the container). @default free ports */
  withPorts(ports: { readonly nfs?: number; readonly mount?: number; readonly rpcbind?: number }): this {
    this.options = {
      ...this.options,
      ...(ports.nfs === undefined ? {} : { nfsPort: ports.nfs }),
      ...(ports.mount === undefined ? {} : { mountPort: ports.mount }),
      ...(ports.rpcbind === undefined ? {} : { rpcbindPort: ports.rpcbind }),
    };
    return this;
  }

  /** Image build progress (printed only when something is built). @default stderr */
  withProgress(onProgress: (line: string) => void): this {
    this.options = { ...this.options, onProgress };
    return this;
  }

  /** @internal The session to own the container (lab:up passes its persistent one). */
  withSession(session: LabSession): this {
    this.options = { ...this.options, session };
    return this;
  }

  /** How long start and restart may take. @default 60000 */
  override withStartupTimeout(ms: number): this {
    this.options = { ...this.options, timeoutMs: ms };
    return super.withStartupTimeout(ms);
  }

  override async start(): Promise<StartedNfsServerContainer> {
    const opts = this.options;
    validPort('nfsPort', opts.nfsPort);
    validPort('mountPort', opts.mountPort);
    validPort('rpcbindPort', opts.rpcbindPort);
    if (opts.v41Only && (opts.mountPort !== undefined || opts.rpcbindPort !== undefined)) {
      throw new LabError(
        'INVALID_OPTION',
        'NfsServerContainer: a v4.1-only server has no mount or rpcbind port',
      );
    }
    const timeoutMs = opts.timeoutMs ?? 60_000;
    // No Ryuk: its image cannot be pulled without a registry. The lab's session reaper cleans up.
    process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';

    await buildImages('nfs', opts.onProgress === undefined ? {} : { onProgress: opts.onProgress });
    const image = (await readFile(join(labCacheDir(), 'nfs.current', 'image'), 'utf8')).trim();
    this.imageName = ImageName.fromString(image);
    this.createOpts = { ...this.createOpts, Image: image };
    const session = opts.session ?? (await LabSession.current());
    const name = session.nextName('nfs');
    const exportDir = resolve(opts.exportDir ?? join(session.dir, name, 'export'));
    await mkdir(exportDir, { recursive: true });
    // The extra exports (/secure, /denied) need a real file system too: FSAL_VFS cannot export
    // the container's overlayfs.
    const extraDir = join(session.dir, name, 'extra');
    await Promise.all(['secure', 'denied'].map((d) => mkdir(join(extraDir, d), { recursive: true })));

    this.withLabels(session.labels('nfs'))
      .withBindMounts([
        { source: exportDir, target: '/export', mode: 'rw' },
        { source: join(extraDir, 'secure'), target: '/srv/secure', mode: 'rw' },
        { source: join(extraDir, 'denied'), target: '/srv/denied', mode: 'rw' },
      ])
      // FSAL_VFS uses open_by_handle_at, which needs CAP_DAC_READ_SEARCH. (No SYS_RESOURCE: this
      // machine's bounding set lacks it, and runc fails to start a container that asks for it.)
      .withAddedCapabilities('DAC_READ_SEARCH')
      // Docker's default seccomp profile denies name_to_handle_at (EPERM on the export root).
      .withSecurityOpt('seccomp=unconfined');
    super.withStartupTimeout(timeoutMs);

    // Free ports can be taken between the probe and docker's bind: retry with new ones.
    for (let attempt = 1; ; attempt++) {
      const ports = await choosePorts(opts);
      const containerName = `nfsvol-lab-${session.id}-${name}${attempt > 1 ? `-${attempt}` : ''}`;
      this.exposedPorts = [];
      this.hostConfig.PortBindings = {};
      bindLoopback(
        this,
        this.hostConfig,
        opts.v41Only
          ? [{ host: ports.nfs, container: ports.nfs }]
          : [
              { host: ports.nfs, container: ports.nfs },
              { host: ports.mount, container: ports.mount },
              { host: ports.rpcbind, container: CONTAINER_RPCBIND_PORT },
            ],
      );
      this.withName(containerName)
        .withEnvironment({
          NFS_PORT: String(ports.nfs),
          MNT_PORT: String(ports.mount),
          NFS_V41_ONLY: opts.v41Only ? '1' : '0',
          EXPORT_SQUASH: GANESHA_SQUASH[opts.squash?.mode ?? 'none'],
          EXPORT_ANON_UID: String(opts.squash?.anonUid ?? 65534),
          EXPORT_ANON_GID: String(opts.squash?.anonGid ?? 65534),
        })
        .withWaitStrategy(rpcReady(ports, timeoutMs));
      try {
        const container = await super.start();
        return new StartedNfsServerContainer(container, ports, exportDir, timeoutMs);
      } catch (error) {
        // A container that was created but failed to start (port clash) stays behind: remove it.
        await run(['docker', 'rm', '-f', containerName]).catch(() => undefined);
        const message = error instanceof Error ? error.message : String(error);
        const portClash = /port is already allocated|address already in use/i.test(message);
        if (!portClash || attempt >= 3 || opts.nfsPort !== undefined) {
          throw new LabError('NOT_READY', `NFS server did not start: ${message}`, { cause: error });
        }
      }
    }
  }
}

/** Starts an NFS server (building its image first if the cache is not current). */
export async function startNfsServer(opts: StartNfsServerOptions = {}): Promise<NfsServer> {
  const container = new NfsServerContainer();
  if (opts.v41Only) container.withVersions(4.1);
  if (opts.exportDir !== undefined) container.withExport(opts.exportDir);
  container.withPorts({
    ...(opts.nfsPort === undefined ? {} : { nfs: opts.nfsPort }),
    ...(opts.mountPort === undefined ? {} : { mount: opts.mountPort }),
    ...(opts.rpcbindPort === undefined ? {} : { rpcbind: opts.rpcbindPort }),
  });
  if (opts.onProgress !== undefined) container.withProgress(opts.onProgress);
  if (opts.session !== undefined) container.withSession(opts.session);
  if (opts.timeoutMs !== undefined) container.withStartupTimeout(opts.timeoutMs);
  return container.start();
}
