import { mapSettled } from '../common/concurrency.js';
import { mountTargetOf, type ClusterContext } from './cluster-context.js';
import { openDockerEngine, type DockerEngine } from './docker/engine.js';
import { driftOf, isManagedBy } from './docker/inspect.js';
import { dockerVolumeOptions, volumeDefinition } from './docker/volume-options.js';
import { errorInfo, type ErrorInfo } from '../common/events.js';
import { validateNames } from '../core/names.js';
import type { HostRecord, VolumeRecord } from '../core/records.js';
import { emptyPending, settlePending } from './pending.js';
import { describeResult, emptyResult, type HostSyncResult, type SyncReport } from './sync-result.js';

/*
 * Reconciliation: each host's Docker definitions brought in line with the registry (defined
 * where missing, removed where the volume is gone, replaced where options drifted and the
 * volume is free). What a host cannot do now goes to the pending ledger (pending.ts).
 */

/** A volume as its Docker definition needs it: the name and the volume's own mount options. */
export type VolumeRef = Pick<VolumeRecord, 'name' | 'mountOptions' | 'access'>;

/**
 * Whether a host gets a `local`-driver definition of a volume. Not where the nfsvol plugin
 * serves Docker (the plugin's volume of the same name would clash with it), and never for a
 * single-writer volume: a `local` definition mounts without the writer lease, so only the
 * plugin, which holds it, may mount one.
 */
export function definedLocally(host: Pick<HostRecord, 'docker'>, v: Pick<VolumeRef, 'access'>): boolean {
  return host.docker !== 'plugin' && v.access !== 'single-writer';
}

/**
 * Defines `volumes` on one host where it lacks them. With `replaceDrifted`, also replaces a
 * definition whose options differ from the volume's (Docker cannot change them in place; a
 * volume containers use keeps its definition and the host owes it). A same-named Docker volume
 * that is not nfsvol's is reported, never touched: `docker run -v NAME` would use it, not the
 * export.
 */
export async function defineOnHost(
  ctx: ClusterContext,
  host: HostRecord,
  volumes: readonly VolumeRef[],
  signal?: AbortSignal,
  options: { readonly replaceDrifted?: boolean } = {},
): Promise<HostSyncResult> {
  return workOnHost(ctx, host, signal, async (engine) => {
    const clusterId = ctx.registry.cluster.id;
    const present = new Map((await engine.listVolumes(clusterId, signal)).map((v) => [v.name, v]));
    const target = mountTargetOf(ctx, host);
    const define: VolumeRef[] = [];
    const redefine: VolumeRef[] = [];
    const conflicts: string[] = [];
    for (const v of volumes.filter((x) => definedLocally(host, x))) {
      const info = present.get(v.name);
      if (!info) define.push(v);
      else if (!isManagedBy(info, clusterId)) conflicts.push(v.name);
      else if (
        options.replaceDrifted &&
        driftOf(info, dockerVolumeOptions(target, v.name, v.mountOptions)).length > 0
      )
        redefine.push(v);
    }
    const applied = await applyDefinitions(ctx, host, engine, { define, redefine }, signal);
    return withConflicts(host, applied, conflicts);
  });
}

function withConflicts(
  host: HostRecord,
  applied: HostSyncResult,
  conflicts: readonly string[],
): HostSyncResult {
  if (conflicts.length === 0) return applied;
  const failed = [
    ...applied.failed,
    ...conflicts.map((volume) => ({
      volume,
      error: {
        code: 'HOST_VOLUME_CONFLICT',
        message: `${host.name} has a Docker volume named ${volume} that nfsvol did not create; left alone`,
      },
    })),
  ];
  return { ...applied, conflicts, failed, ok: false };
}

/**
 * Removes the definitions of `volumes` from one host (those that are there and ours), or with
 * 'all' every definition of this cluster the host has.
 */
export async function undefineOnHost(
  ctx: ClusterContext,
  host: HostRecord,
  volumes: readonly string[] | 'all',
  signal?: AbortSignal,
): Promise<HostSyncResult> {
  return workOnHost(ctx, host, signal, async (engine) => {
    const clusterId = ctx.registry.cluster.id;
    const ours = (await engine.listVolumes(clusterId, signal))
      .filter((v) => isManagedBy(v, clusterId))
      .map((v) => v.name);
    const wanted = volumes === 'all' ? ours : volumes.filter((v) => ours.includes(v));
    return applyDefinitions(ctx, host, engine, { remove: wanted }, signal);
  });
}

/**
 * Reconciles one host with the registry: defines missing volumes, removes definitions of
 * deleted ones, redefines definitions whose options differ from the volume's (Docker cannot
 * change them in place: remove, then create; a volume containers use keeps its definition, is
 * reported as drifted and stays owed), and reports same-named volumes that are not nfsvol's.
 * `volumes` may be older than the host's state: a definition whose volume is not in it is
 * removed, then its record is looked up again, and put back if a create made it meanwhile.
 * Volumes being removed (tombstones) are left to their removal.
 */
export async function reconcileHost(
  ctx: ClusterContext,
  host: HostRecord,
  volumes: readonly VolumeRecord[],
  signal?: AbortSignal,
): Promise<HostSyncResult> {
  return workOnHost(ctx, host, signal, async (engine) => {
    const clusterId = ctx.registry.cluster.id;
    const present = await engine.listVolumes(clusterId, signal);
    const all = new Set(present.map((v) => v.name));
    const ours = new Map(present.filter((v) => isManagedBy(v, clusterId)).map((v) => [v.name, v]));
    const wanted = new Map(
      volumes.filter((v) => v.state !== 'removing' && definedLocally(host, v)).map((v) => [v.name, v]),
    );
    const removing = new Set(volumes.filter((v) => v.state === 'removing').map((v) => v.name));
    const toDefine = [...wanted.values()].filter((v) => !all.has(v.name));
    const conflicts = [...wanted.keys()].filter((v) => all.has(v) && !ours.has(v));
    const toRemove = [...ours.keys()].filter((v) => !wanted.has(v) && !removing.has(v));
    const target = mountTargetOf(ctx, host);
    const drifted: { volume: string; drift: string[] }[] = [];
    const toRedefine: VolumeRef[] = [];
    for (const [name, info] of ours) {
      const vol = wanted.get(name);
      if (!vol) continue;
      const drift = driftOf(info, dockerVolumeOptions(target, name, vol.mountOptions));
      if (drift.length > 0) {
        drifted.push({ volume: name, drift });
        toRedefine.push(vol);
      }
    }
    const applied = await applyDefinitions(
      ctx,
      host,
      engine,
      { define: toDefine, remove: toRemove, redefine: toRedefine },
      signal,
    );
    const restored = await restoreCreatedMeanwhile(ctx, host, engine, applied.removed, signal);
    const result = {
      ...applied,
      removed: applied.removed.filter((v) => !restored.defined.includes(v)),
      failed: [...applied.failed, ...restored.failed],
      // What is still drifted: what could not be redefined.
      drifted: drifted.filter((d) => !applied.redefined.includes(d.volume)),
    };
    return withConflicts(host, { ...result, ok: result.failed.length === 0 }, conflicts);
  });
}

/**
 * After removing definitions of volumes that had no record, looks each record up again: one
 * that exists now was created while this sync ran (its create may have found the definition
 * still there and left it), so its definition goes back.
 */
async function restoreCreatedMeanwhile(
  ctx: ClusterContext,
  host: HostRecord,
  engine: DockerEngine,
  removed: readonly string[],
  signal?: AbortSignal,
): Promise<HostSyncResult> {
  if (removed.length === 0) return emptyResult(host.name);
  const back: VolumeRef[] = [];
  const failed: { volume: string; error: ErrorInfo }[] = [];
  await mapSettled(removed, ctx.nfsConcurrency, async (v) => {
    try {
      const rec = await ctx.registry.volumes.tryGet(v);
      if (rec && rec.state !== 'removing' && definedLocally(host, rec)) back.push(rec);
    } catch (err) {
      // Cannot tell: put it back, the safe side (a later sync removes it if it is a stray).
      if (host.docker !== 'plugin') back.push({ name: v });
      failed.push({ volume: v, error: errorInfo(err) });
    }
  });
  const res = await applyDefinitions(ctx, host, engine, { define: back }, signal);
  return { ...res, failed: [...res.failed, ...failed] };
}

interface DefinitionWork {
  readonly define?: readonly VolumeRef[];
  readonly remove?: readonly string[];
  /** Remove, then define with the options of now; a volume in use keeps its old definition. */
  readonly redefine?: readonly VolumeRef[];
}

async function applyDefinitions(
  ctx: ClusterContext,
  host: HostRecord,
  engine: DockerEngine,
  work: DefinitionWork,
  signal?: AbortSignal,
): Promise<HostSyncResult> {
  const target = mountTargetOf(ctx, host);
  const clusterId = ctx.registry.cluster.id;
  const define = (v: VolumeRef): Promise<void> =>
    engine.createVolume(volumeDefinition(target, v.name, clusterId, v.mountOptions), signal);
  const items = [
    ...(work.define ?? []).map((v) => ({ op: 'define' as const, volume: v.name, run: () => define(v) })),
    ...(work.remove ?? []).map((v) => ({
      op: 'remove' as const,
      volume: v,
      run: () => engine.removeVolume(v, signal),
    })),
    ...(work.redefine ?? []).map((v) => ({
      op: 'redefine' as const,
      volume: v.name,
      run: async () => {
        await engine.removeVolume(v.name, signal);
        await define(v);
      },
    })),
  ];
  const settled = await mapSettled(items, ctx.perHostConcurrency, (w) => w.run(), signal);
  const defined: string[] = [];
  const removed: string[] = [];
  const redefined: string[] = [];
  const failed: { volume: string; error: ErrorInfo }[] = [];
  settled.forEach((r, i) => {
    const w = items[i];
    if (!w) return;
    if (r.status === 'fulfilled')
      (w.op === 'define' ? defined : w.op === 'remove' ? removed : redefined).push(w.volume);
    else failed.push({ volume: w.volume, error: errorInfo(r.reason) });
  });
  return { ...emptyResult(host.name), ok: failed.length === 0, defined, removed, redefined, failed };
}

/**
 * Runs `fn` against a host and keeps the pending record in step: a host that fails gets (or
 * keeps) a pending record naming what it owes; a host that fully succeeds a reconcile loses it.
 */
async function workOnHost(
  ctx: ClusterContext,
  host: HostRecord,
  signal: AbortSignal | undefined,
  fn: (engine: DockerEngine) => Promise<HostSyncResult>,
): Promise<HostSyncResult> {
  ctx.progress({ host: host.name, message: 'working' });
  let result: HostSyncResult;
  try {
    result = await fn(await openDockerEngine(ctx.hosts.get(host), signal));
  } catch (err) {
    // Connection-level failure: drop the connection so the next attempt opens a fresh one.
    await ctx.hosts.drop(host.name);
    const error = errorInfo(err);
    result = { ...emptyResult(host.name), ok: false, unreachable: true, error };
  }
  ctx.progress({ host: host.name, message: describeResult(result) });
  return result;
}

export interface SyncOptions {
  /** Only these hosts. @default every registered host */
  readonly hosts?: readonly string[];
  readonly signal?: AbortSignal;
}

/** Reconciles hosts in parallel (bounded), updating each host's pending record. */
export async function syncHosts(ctx: ClusterContext, options: SyncOptions = {}): Promise<SyncReport> {
  const reg = ctx.registry;
  // Validated before anything is read: a name like `../x` must not become a registry path.
  const want = options.hosts ? new Set(validateNames(options.hosts, 'host')) : undefined;
  let hosts = await reg.hosts.list();
  if (want) {
    for (const h of want) {
      if (!hosts.some((x) => x.name === h)) await reg.hosts.get(h); // throws NOT_FOUND naming it
    }
    hosts = hosts.filter((h) => want.has(h.name));
  }
  // Pending records are read per host before its reconcile, and the volumes after them: work a
  // command records for a volume it created is then either seen here or kept for the next sync.
  await reg.sweepTmp();
  const volumes = await reg.volumes.list();
  const settled = await mapSettled(hosts, ctx.hostConcurrency, async (host) => {
    const owed = await reg.pending.tryGet(host.name).catch(() => undefined);
    const result = await reconcileHost(ctx, host, volumes, options.signal);
    await settlePending(ctx, host.name, result, [{ op: 'sync' }], true, owed ?? emptyPending(host.name));
    return result;
  });
  const results = settled.map((r, i) =>
    r.status === 'fulfilled'
      ? r.value
      : { ...emptyResult(hosts[i]?.name ?? '?'), ok: false, unreachable: true, error: errorInfo(r.reason) },
  );
  return { hosts: results, ok: results.every((r) => r.ok) };
}
