import { withRetry } from '../common/retry.js';
import { mapSettled } from '../common/concurrency.js';
import { mountTargetOf, type ClusterContext } from './cluster-context.js';
import { openDockerEngine, type DockerEngine } from './docker/engine.js';
import { driftOf, isManagedBy } from './docker/inspect.js';
import { dockerVolumeOptions, volumeDefinition } from './docker/volume-options.js';
import { errorInfo, type ErrorInfo } from '../common/events.js';
import { validateNames } from '../core/names.js';
import {
  SCHEMA_VERSION,
  type HostRecord,
  type PendingOperation,
  type PendingRecord,
  type VolumeRecord,
} from '../core/records.js';
import { IncompleteRecordError } from '../core/registry/errors.js';

/** What happened on one host. `ok` is false when the host failed or an item on it did. */
export interface HostSyncResult {
  readonly host: string;
  readonly ok: boolean;
  /** The host could not be reached or did not answer: everything is pending. */
  readonly unreachable: boolean;
  readonly defined: readonly string[];
  readonly removed: readonly string[];
  /** Definitions replaced because their options had changed (the volume was not in use). */
  readonly redefined: readonly string[];
  /** Definitions whose options differ from the volume's and could not be replaced (in use): owed. */
  readonly drifted: readonly { readonly volume: string; readonly drift: readonly string[] }[];
  /** Same-named Docker volumes nfsvol did not make; left alone. */
  readonly conflicts: readonly string[];
  readonly failed: readonly { readonly volume: string; readonly error: ErrorInfo }[];
  readonly error?: ErrorInfo;
}

export interface SyncReport {
  readonly hosts: readonly HostSyncResult[];
  /** Every host succeeded. */
  readonly ok: boolean;
}

/** The result for a host that could not be worked on at all. */
export function unreachableResult(host: string, error: ErrorInfo): HostSyncResult {
  return { ...emptyResult(host), ok: false, unreachable: true, error };
}

function emptyResult(host: string): HostSyncResult {
  return {
    host,
    ok: true,
    unreachable: false,
    defined: [],
    removed: [],
    redefined: [],
    drifted: [],
    conflicts: [],
    failed: [],
  };
}

/** A volume as its Docker definition needs it: the name and the volume's own mount options. */
export type VolumeRef = Pick<VolumeRecord, 'name' | 'mountOptions'>;

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
    for (const v of volumes) {
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
    const wanted = new Map(volumes.filter((v) => v.state !== 'removing').map((v) => [v.name, v]));
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
      if (rec && rec.state !== 'removing') back.push(rec);
    } catch (err) {
      // Cannot tell: put it back, the safe side (a later sync removes it if it is a stray).
      back.push({ name: v });
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

export function describeResult(r: HostSyncResult): string {
  if (r.unreachable)
    return `failed: ${r.error?.message ?? 'unreachable'} (${r.error?.code ?? 'ERROR'}); recorded as pending`;
  const parts = [`${r.defined.length} defined`, `${r.removed.length} removed`];
  if (r.drifted.length > 0) parts.push(`${r.drifted.length} drifted`);
  if (r.failed.length > 0) parts.push(`${r.failed.length} failed`);
  return `${r.ok ? 'ok' : 'partly done'}: ${parts.join(', ')}`;
}

/** Records what a host owes after a failed operation (merged with what it already owed). */
export async function recordPending(
  ctx: ClusterContext,
  host: string,
  operations: readonly PendingOperation[],
  reason: string,
): Promise<void> {
  const reg = ctx.registry;
  await reg.withLock(`pending-${host}`, async (lease) => {
    // A record that cannot be read is read again, then fails the command: replacing it would
    // drop what it owes.
    const existing = await withRetry(() => reg.pending.tryGet(host), {
      retries: 3,
      minTimeoutMs: 100,
      maxTimeoutMs: 1_000,
    }).catch((err: unknown) => {
      if (err instanceof IncompleteRecordError) return undefined;
      throw err;
    });
    lease.assertHeld();
    const merged = new Map<string, PendingOperation>();
    for (const op of [...(existing?.operations ?? []), ...operations])
      merged.set(`${op.op}:${op.volume ?? ''}`, op);
    await reg.pending.replace(host, {
      schema: SCHEMA_VERSION,
      kind: 'pending',
      host,
      since: existing?.since ?? reg.isoNow(),
      updatedAt: reg.isoNow(),
      reason,
      operations: [...merged.values()],
    });
  });
}

/**
 * Clears what a host owed, once a full reconcile that started after `seen` was read has
 * succeeded: only the operations in `seen` go; any added meanwhile (by a command that ran
 * while the reconcile did) stay for the next sync. Without `seen`, everything goes.
 */
export async function clearPending(ctx: ClusterContext, host: string, seen?: PendingRecord): Promise<void> {
  const reg = ctx.registry;
  await reg.withLock(`pending-${host}`, async (lease) => {
    const now = await reg.pending.tryGet(host).catch((err: unknown) => {
      if (err instanceof IncompleteRecordError) return undefined;
      throw err;
    });
    if (!now) return;
    const done = new Set((seen?.operations ?? now.operations).map((op) => `${op.op}:${op.volume ?? ''}`));
    const left = seen ? now.operations.filter((op) => !done.has(`${op.op}:${op.volume ?? ''}`)) : [];
    lease.assertHeld();
    if (left.length === 0) await reg.pending.remove(host);
    else await reg.pending.replace(host, { ...now, updatedAt: reg.isoNow(), operations: left });
  });
}

/** Turns a host result into the pending operations it leaves behind. */
export function pendingOpsOf(
  result: HostSyncResult,
  intended: readonly PendingOperation[],
): PendingOperation[] {
  if (result.unreachable) return [...intended];
  const failedVolumes = new Set(result.failed.map((f) => f.volume));
  return intended.filter((op) => op.volume === undefined || failedVolumes.has(op.volume));
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

/** After a full reconcile: clear pending on success, record it on failure. */
export async function settlePending(
  ctx: ClusterContext,
  host: string,
  result: HostSyncResult,
  intended: readonly PendingOperation[],
  fullReconcile = true,
  /** For a full reconcile: the pending record as it was before the reconcile started. */
  seen?: PendingRecord,
): Promise<void> {
  if (result.ok && fullReconcile) {
    await clearPending(ctx, host, seen);
    return;
  }
  const ops = result.unreachable
    ? intended
    : [
        ...pendingOpsOf(result, intended),
        ...result.failed.map((f) => ({ op: 'sync' as const, volume: f.volume })),
      ];
  if (ops.length > 0) {
    await recordPending(
      ctx,
      host,
      ops,
      result.error?.message ?? `${result.failed.length} operation(s) failed`,
    );
  }
}

function emptyPending(host: string): PendingRecord {
  return {
    schema: SCHEMA_VERSION,
    kind: 'pending',
    host,
    since: '',
    updatedAt: '',
    reason: '',
    operations: [],
  };
}
