import type { ProgressListener } from '../common/events.js';
import type { HostRecord } from '../core/records.js';
import type { Registry } from '../core/registry/registry.js';
import { DeferredHost } from './ssh/deferred-host.js';
import { planSsh, type PlanOptions, type SshEndpoint, type SshPlan } from './ssh/plan.js';
import type { RemoteHost } from './ssh/remote-host.js';
import { SshConfigView, type SshLocalOptions } from './ssh/ssh-config.js';
import type { HostKeyVerifier } from './ssh/host-key-policy.js';
import type { SshTarget } from './ssh/ssh-host.js';
import { knownHostsVerifier, pinnedKeyVerifier } from './ssh/host-key-policy.js';
import { vouchFor } from './ssh/trust.js';
import type { MountTarget } from './mount-argv.js';

/** Opens a RemoteHost for an SSH target, verifying its key with `verify`. */
export type HostOpener = (target: SshTarget, verify: HostKeyVerifier) => RemoteHost;

/**
 * One connection per registered host, opened on first use, reused by every command.
 *
 * A host record comes from the export, which anyone who can write the export can change. So a
 * record only says where a host is and which key it has; how to log in (agent, key files, user
 * defaults, bastion) comes from this machine's ssh settings, and the record's key is used only
 * if this machine's known_hosts files list it for that address. Otherwise the host is
 * HOST_UNTRUSTED and no connection is opened.
 */
export class HostPool implements AsyncDisposable {
  private readonly open = new Map<string, RemoteHost>();
  private config: Promise<SshConfigView> | undefined;

  constructor(
    private readonly opener: HostOpener,
    readonly local: SshLocalOptions = {},
    /**
     * This machine, when it is itself a registered host (a host-local front end such as the
     * Docker plugin): commands for the host of its name run here, with no SSH. Only the name
     * the front end was started with, never one a record names, makes a host local.
     */
    private readonly self?: RemoteHost,
  ) {}

  /** How this machine reaches an endpoint (its ~/.ssh/config and /etc/ssh/ssh_config applied). */
  async plan(name: string, endpoint: SshEndpoint, options: PlanOptions = {}): Promise<SshPlan> {
    this.config ??= SshConfigView.load(this.local);
    const view = await this.config.catch((err: unknown) => {
      this.config = undefined;
      throw err;
    });
    return planSsh(view, this.local, name, endpoint, options);
  }

  /** The plan for a registered host, with what this machine's config says about it. */
  planFor(host: HostRecord): Promise<SshPlan> {
    const mine = Object.hasOwn(this.local.hosts ?? {}, host.name) ? this.local.hosts?.[host.name] : undefined;
    return this.plan(host.name, host.ssh, {
      ...(mine?.identity === undefined ? {} : { identity: mine.identity }),
      ...(mine?.knownHosts === undefined ? {} : { knownHosts: mine.knownHosts }),
    });
  }

  /**
   * The plan's target, with its bastion (if any) verified against known_hosts; `acceptNew` pins
   * an unknown bastion key, as `host add --accept-new-host-key` does for the host itself.
   */
  static targetOf(plan: SshPlan, acceptNew = false): SshTarget {
    const jump = plan.jump;
    if (!jump) return plan.target;
    return {
      ...plan.target,
      jump: {
        target: jump.target,
        verify: knownHostsVerifier({
          file: jump.knownHosts,
          host: jump.keyHost,
          port: jump.keyPort,
          acceptNew,
        }),
      },
    };
  }

  /** The connection to a registered host; it must present the key pinned in its record, and this machine must vouch for that key. */
  get(host: HostRecord): RemoteHost {
    if (this.self?.name === host.name) return this.self;
    let h = this.open.get(host.name);
    if (!h) {
      h = new DeferredHost(host.name, async () => {
        const plan = await this.planFor(host);
        await vouchFor(host.name, plan, host.hostKey);
        return this.opener(HostPool.targetOf(plan), pinnedKeyVerifier(host.name, host.hostKey));
      });
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
