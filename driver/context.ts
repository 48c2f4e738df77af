import type { ProgressListener } from './events.js';
import type { HostRecord } from './registry/records.js';
import type { Registry } from './registry/registry.js';
import type { RemoteHost } from './ssh/remote-host.js';
import type { HostKeyVerifier, SshTarget } from './ssh/ssh-host.js';
import { pinnedKeyVerifier } from './ssh/ssh-host.js';
import type { MountTarget } from './docker/volume-options.js';

/** Opens a RemoteHost for an SSH target, verifying its key with `verify`. */
export type HostOpener = (target: SshTarget, verify: HostKeyVerifier) => RemoteHost;

/** One connection per registered host, opened on first use, reused by every command. */
export class HostPool implements AsyncDisposable {
  private readonly open = new Map<string, RemoteHost>();
  constructor(private readonly opener: HostOpener) {}

  static targetOf(host: HostRecord): SshTarget {
    return {
      name: host.name,
      host: host.ssh.address,
      port: host.ssh.port,
      user: host.ssh.user,
      ...(host.identityFile === undefined ? {} : { identityFile: host.identityFile }),
    };
  }

  /** The connection to a registered host; it must present the key pinned in its record. */
  get(host: HostRecord): RemoteHost {
    let h = this.open.get(host.name);
    if (!h) {
      h = this.opener(HostPool.targetOf(host), pinnedKeyVerifier(host.name, host.hostKey));
      this.open.set(host.name, h);
    }
    return h;
  }

  /** Opens a host with a custom verifier (used by `host add`) and keeps it for reuse. */
  adopt(name: string, target: SshTarget, verify: HostKeyVerifier): RemoteHost {
    const h = this.opener(target, verify);
    this.open.set(name, h);
    return h;
  }

  async drop(name: string): Promise<void> {
    const h = this.open.get(name);
    this.open.delete(name);
    await h?.close().catch(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(all.map((h) => h.close().catch(() => undefined)));
  }
}

/** What the volume, host and sync operations share. */
export interface ClusterContext {
  readonly registry: Registry;
  readonly hosts: HostPool;
  readonly progress: ProgressListener;
  /** NFS operations kept in flight by bulk work. */
  readonly nfsConcurrency: number;
  /** Hosts worked on at once. */
  readonly hostConcurrency: number;
  /** Docker commands run at once on one host. */
  readonly perHostConcurrency: number;
}

export function mountTargetOf(ctx: ClusterContext, host: HostRecord): MountTarget {
  const nfs = ctx.registry.cluster.nfs;
  return { nfs, address: host.nfsAddress ?? nfs.server };
}
