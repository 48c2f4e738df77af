import { HostPool, type ClusterContext, type HostOpener } from '../attach/cluster-context.js';
import { parseMountOptions } from '../core/mount-options.js';
import { ValidationError } from '../common/errors.js';
import type { ProgressListener } from '../common/events.js';
import {
  addHost,
  checkHost,
  trustHost,
  type TrustHostResult,
  type TrustQuestion,
  listHosts,
  removeHost,
  setHostDocker,
  type RemoveHostOptions,
  type RemoveHostResult,
  type AddHostOptions,
  type AddHostResult,
  type HostCheckResult,
  type HostSummary,
} from '../attach/hosts.js';
import type { NfsFs } from '../nfs/types.js';
import { connectNfsUrl } from '../nfs/connect.js';
import { parseNfsUrl } from '../nfs/nfs-url.js';
import {
  validateAddress,
  validateExportPath,
  type ClusterRecord,
  type HostRecord,
  type MountRecord,
  type NfsVersion,
} from '../core/records.js';
import { Registry, type RegistryOptions } from '../core/registry/registry.js';
import type { SshLocalOptions } from '../attach/ssh/ssh-config.js';
import type { RemoteHost } from '../attach/ssh/remote-host.js';
import { SshHost } from '../attach/ssh/ssh-host.js';
import { syncHosts, type SyncOptions } from '../attach/reconcile.js';
import { type SyncReport } from '../attach/sync-result.js';
import { setCluster, type SetClusterOptions, type SetClusterResult } from './settings.js';
import {
  createVolumes,
  getVolume,
  inspectVolume,
  listVolumes,
  streamVolumes,
  removeVolumes,
  updateVolume,
  type UpdateVolumeOptions,
  type UpdateVolumeResult,
  type CreateVolumeOptions,
  type CreateVolumesResult,
  type RemoveVolumesOptions,
  type RemoveVolumesResult,
  type VolumeDetails,
  type VolumeSummary,
  type StreamVolumesOptions,
} from './volumes.js';
import {
  forgetIfUnmounted,
  mountOn,
  mountsOnHost,
  mountVolume,
  releaseMount,
  unmountVolume,
  type MountOptions,
  type ReleaseOptions,
  type UnmountOptions,
} from '../attach/mounts.js';

/** Opens the export at an `nfs://` URL. */
export type NfsConnector = (url: string) => Promise<NfsFs>;

/** The built-in NFS client: NFSv3 or NFSv4.1 as the URL's `version` says. */
export const connectNfs: NfsConnector = (url) => connectNfsUrl(url);

/** Opens hosts with ssh2. */
export const openSshHost: HostOpener = (target, verify) => new SshHost(target, { verifyHostKey: verify });

export interface ClusterOptions {
  /** Opens the export. @default the built-in NfsClient */
  readonly connectNfs?: NfsConnector;
  /** Opens a host. @default ssh2 (SshHost) */
  readonly openHost?: HostOpener;
  /** This machine's ssh settings (config files, known_hosts, identities). @default OpenSSH's */
  readonly ssh?: SshLocalOptions;
  /** Progress lines for long work. @default none */
  readonly progress?: ProgressListener;
  /** NFS operations in flight during bulk creates/removes. @default 32 */
  readonly nfsConcurrency?: number;
  /** Hosts worked on in parallel. @default 8 */
  readonly hostConcurrency?: number;
  /** Docker operations in flight per host. @default 8 */
  readonly perHostConcurrency?: number;
  readonly registry?: RegistryOptions;
  /**
   * This machine as the registered host of its name (`LocalHost`): a host-local front end, such
   * as the Docker plugin, mounts on its own host without SSH. @default none
   */
  readonly self?: RemoteHost;
}

export interface InitOptions extends ClusterOptions {
  /** `nfs://SERVER[:PORT]/EXPORT[?mountport=N]`. */
  readonly url: string;
  /** NFS version hosts mount with. @default '4.1' */
  readonly nfsVersion?: NfsVersion;
  /** Extra mount options for every host, e.g. `hard,timeo=600`. @default none */
  readonly mountOptions?: string | readonly string[];
}

/**
 * The typed library API behind the CLI: one cluster (a registry on an NFS export) and the
 * hosts it manages. Hold it with `await using` so the NFS connection and SSH sessions close.
 */
export class Cluster implements AsyncDisposable {
  private readonly ctx: ClusterContext;

  private constructor(
    readonly url: string,
    private readonly fs: NfsFs,
    readonly registry: Registry,
    options: ClusterOptions,
  ) {
    this.ctx = {
      registry,
      hosts: new HostPool(options.openHost ?? openSshHost, options.ssh, options.self),
      progress: options.progress ?? (() => undefined),
      nfsConcurrency: positive(options.nfsConcurrency, 32, 'nfsConcurrency'),
      hostConcurrency: positive(options.hostConcurrency, 8, 'hostConcurrency'),
      perHostConcurrency: positive(options.perHostConcurrency, 8, 'perHostConcurrency'),
    };
  }

  /** Creates the registry on the export (or joins the one there: `created: false`). */
  static async init(options: InitOptions): Promise<{ cluster: Cluster; created: boolean }> {
    const parsed = parseNfsUrl(options.url);
    const version = options.nfsVersion ?? '4.1';
    if (version !== '3' && version !== '4.1') throw new ValidationError('nfs-version', 'must be 3 or 4.1');
    const mountOptions = parseMountOptions(options.mountOptions);
    // The server and export become mount options on every host (`addr=`, `device=:`): held to
    // the rules every record is read back with, so nothing can ride along in them.
    validateAddress(parsed.host, 'url');
    validateExportPath(parsed.exportPath, 'url');
    const fs = await (options.connectNfs ?? connectNfs)(options.url);
    try {
      const { registry, created } = await Registry.init(
        fs,
        {
          version,
          server: parsed.host,
          ...(parsed.port === undefined ? {} : { port: parsed.port }),
          ...(parsed.mountPort === undefined ? {} : { mountPort: parsed.mountPort }),
          exportPath: parsed.exportPath,
          mountOptions,
        },
        options.registry,
      );
      return { cluster: new Cluster(options.url, fs, registry, options), created };
    } catch (err) {
      await fs.close().catch(() => undefined);
      throw err;
    }
  }

  /** Opens the cluster whose registry is on the export at `url`. */
  static async open(url: string, options: ClusterOptions = {}): Promise<Cluster> {
    parseNfsUrl(url);
    const fs = await (options.connectNfs ?? connectNfs)(url);
    try {
      return new Cluster(url, fs, await Registry.open(fs, options.registry), options);
    } catch (err) {
      await fs.close().catch(() => undefined);
      throw err;
    }
  }

  get id(): string {
    return this.registry.cluster.id;
  }

  get settings(): ClusterRecord {
    return this.registry.cluster;
  }

  createVolumes(names: readonly string[], options?: CreateVolumeOptions): Promise<CreateVolumesResult> {
    return createVolumes(this.ctx, names, options);
  }
  listVolumes(): Promise<VolumeSummary[]> {
    return listVolumes(this.ctx);
  }
  /** Like listVolumes, one volume at a time in name order, without holding them all. */
  streamVolumes(options?: StreamVolumesOptions): AsyncGenerator<VolumeSummary> {
    return streamVolumes(this.ctx, options);
  }
  /** One volume's record (no usage walk: `inspectVolume` has that). */
  getVolume(name: string): Promise<VolumeSummary> {
    return getVolume(this.ctx, name);
  }
  /** One host's mount of a volume, as its record says; undefined if there is none. */
  mountOn(volume: string, host: string): Promise<MountRecord | undefined> {
    return mountOn(this.ctx, volume, host);
  }

  /**
   * Records how a host's Docker gets volumes: `plugin` (the nfsvol plugin; `sync` gives it no
   * `local` definitions) or `local` (definitions over SSH).
   */
  setHostDocker(
    name: string,
    docker: 'local' | 'plugin',
  ): Promise<{ readonly host: HostRecord; readonly changed: boolean }> {
    return setHostDocker(this.ctx, name, docker);
  }

  /** Every mount record of one host. */
  mountsOnHost(host: string): Promise<MountRecord[]> {
    return mountsOnHost(this.ctx, host);
  }

  /** Drops a host's mount record of a volume if the host has nothing mounted at its path. */
  forgetIfUnmounted(volume: string, host: string): Promise<'forgotten' | 'mounted' | 'no-record'> {
    return forgetIfUnmounted(this.ctx, { volume, host });
  }
  inspectVolume(name: string): Promise<VolumeDetails> {
    return inspectVolume(this.ctx, name);
  }
  removeVolumes(names: readonly string[], options?: RemoveVolumesOptions): Promise<RemoveVolumesResult> {
    return removeVolumes(this.ctx, names, options);
  }
  mountVolume(options: MountOptions): Promise<MountRecord> {
    return mountVolume(this.ctx, options);
  }
  unmountVolume(options: UnmountOptions): Promise<MountRecord> {
    return unmountVolume(this.ctx, options);
  }

  /** Forgets one Docker mount ID of a host mount (`mountVolume` with `user`); the last unmounts. */
  releaseMount(options: ReleaseOptions): Promise<'released' | 'unmounted' | 'not-held'> {
    return releaseMount(this.ctx, options);
  }
  /** Changes a volume's owner, mode, labels, delete policy or mount options. */
  updateVolume(name: string, options: UpdateVolumeOptions): Promise<UpdateVolumeResult> {
    return updateVolume(this.ctx, name, options);
  }
  /** Changes the cluster's server address or mount options, and moves every definition. */
  setCluster(options: SetClusterOptions): Promise<SetClusterResult> {
    return setCluster(this.ctx, options);
  }
  addHost(options: AddHostOptions): Promise<AddHostResult> {
    return addHost(this.ctx, options);
  }
  checkHost(name: string, signal?: AbortSignal): Promise<HostCheckResult> {
    return checkHost(this.ctx, name, signal);
  }
  /** Adds a registered host's key to this machine's known_hosts if `confirm` says yes. */
  trustHost(name: string, confirm: (q: TrustQuestion) => Promise<boolean>): Promise<TrustHostResult> {
    return trustHost(this.ctx, name, confirm);
  }
  listHosts(): Promise<HostSummary[]> {
    return listHosts(this.ctx);
  }
  removeHost(name: string, options?: RemoveHostOptions): Promise<RemoveHostResult> {
    return removeHost(this.ctx, name, options);
  }
  sync(options?: SyncOptions): Promise<SyncReport> {
    return syncHosts(this.ctx, options);
  }

  async close(): Promise<void> {
    await this.ctx.hosts[Symbol.asyncDispose]();
    await this.fs.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function positive(v: number | undefined, def: number, field: string): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < 1) throw new ValidationError(field, 'must be a positive integer');
  return v;
}
