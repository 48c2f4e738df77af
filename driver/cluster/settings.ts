import type { ClusterContext } from '../attach/cluster-context.js';
import { parseMountOptions } from '../core/mount-options.js';
import { ValidationError } from '../common/errors.js';
import { WRITER_LEASE_BOUNDS_MS, validateAddress } from '../core/records.js';
import { syncHosts } from '../attach/reconcile.js';
import { type SyncReport } from '../attach/sync-result.js';

export interface SetClusterOptions {
  /** The NFS server's address as hosts (without their own `--nfs-address`) and the CLI reach it. */
  readonly server?: string;
  /** Mount options of every volume, replacing the cluster's (`''` or `[]`: none). */
  readonly mountOptions?: string | readonly string[];
  /**
   * Length of single-writer volumes' writer lease, in ms: how long a dead holder keeps another
   * host waiting. Plugins read it when they start: restart them after changing it.
   */
  readonly writerLeaseMs?: number;
  readonly signal?: AbortSignal;
}

export interface SetClusterResult {
  /** The settings that changed (`server`, `mountOptions`, `writerLeaseMs`). */
  readonly changed: readonly string[];
  /** The sync that moved every definition to the new settings (absent when nothing changed). */
  readonly sync?: SyncReport;
}

/**
 * Changes cluster-wide settings in cluster.json, under the `cluster` lease, then syncs every
 * host: definitions whose options differ are replaced where no container uses the volume and
 * owed where one does (a later `sync` finishes them). Host mounts made by `volume mount` keep
 * their options until they are mounted again.
 */
export async function setCluster(ctx: ClusterContext, o: SetClusterOptions): Promise<SetClusterResult> {
  const server = o.server === undefined ? undefined : validateAddress(o.server, 'server');
  const mountOptions = o.mountOptions === undefined ? undefined : parseMountOptions(o.mountOptions);
  const writerLeaseMs = o.writerLeaseMs;
  if (writerLeaseMs !== undefined) {
    const [lo, hi] = WRITER_LEASE_BOUNDS_MS;
    if (!Number.isInteger(writerLeaseMs) || writerLeaseMs < lo || writerLeaseMs > hi) {
      throw new ValidationError('writer-lease', `must be ${lo / 1000} to ${hi / 1000} seconds`);
    }
  }
  const reg = ctx.registry;
  const changed = await reg.withLock(
    'cluster',
    async (lease) => {
      const cur = await reg.readCluster();
      const nfs = {
        ...cur.nfs,
        ...(server === undefined ? {} : { server }),
        ...(mountOptions === undefined ? {} : { mountOptions }),
      };
      const changed: string[] = [];
      if (nfs.server !== cur.nfs.server) changed.push('server');
      if (JSON.stringify(nfs.mountOptions) !== JSON.stringify(cur.nfs.mountOptions))
        changed.push('mountOptions');
      if (writerLeaseMs !== undefined && writerLeaseMs !== cur.writerLeaseMs) changed.push('writerLeaseMs');
      if (changed.length === 0) return changed;
      lease.assertHeld();
      await reg.replaceCluster({ ...cur, nfs, ...(writerLeaseMs === undefined ? {} : { writerLeaseMs }) });
      return changed;
    },
    o.signal,
  );
  // The writer lease is read by plugins; no host definition depends on it.
  if (changed.every((c) => c === 'writerLeaseMs')) return { changed };
  ctx.progress({ message: `cluster ${changed.join(', ')} changed; moving every definition` });
  const sync = await syncHosts(ctx, o.signal ? { signal: o.signal } : {});
  return { changed, sync };
}
