import { mapSettled, sleep } from '../common/concurrency.js';
import { debug } from '../common/debug.js';
import type { ClusterContext } from '../attach/cluster-context.js';
import { dockerVolumeOptions } from '../attach/docker/volume-options.js';
import { exportPathOf } from '../attach/mount-argv.js';
import { mountsOf, unmountRecorded } from '../attach/mounts.js';
import { parseMountOptions } from '../core/mount-options.js';
import { NfsvolError, ValidationError } from '../common/errors.js';
import { withRetry } from '../common/retry.js';
import { errorInfo, type ErrorInfo } from '../common/events.js';
import { hasNfsStatus } from '../core/nfs-status.js';
import { IncompleteRecordError, RecordExistsError } from '../core/registry/errors.js';
import {
  SCHEMA_VERSION,
  volumeLeaseKey,
  type AccessMode,
  type DeletePolicy,
  type VolumeRecord,
} from '../core/records.js';
import { randomId } from '../core/registry/ids.js';
import type { KeysSummary } from '../core/registry/collection.js';
import type { FileStat, Usage } from '../nfs/types.js';
import { defineOnHost, definedLocally, undefineOnHost, type VolumeRef } from '../attach/reconcile.js';
import { settlePending } from '../attach/pending.js';
import { unreachableResult, type HostSyncResult } from '../attach/sync-result.js';
import { parseLabels, parseMode } from '../core/volume-fields.js';
import { validateNames } from '../core/names.js';

export interface CreateVolumeOptions {
  /** Owner of the volume's directory. @default 0 */
  readonly uid?: number;
  /** @default 0 */
  readonly gid?: number;
  /** Permission bits of the directory. @default 0o755 */
  readonly mode?: number;
  /** @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** What `rm` does with the data. @default 'retain' */
  readonly onDelete?: DeletePolicy;
  /** Mount options for this volume, after the cluster's, e.g. `['soft', 'timeo=100']`. @default none */
  readonly mountOptions?: string | readonly string[];
  /**
   * `single-writer`: one host at a time, through the Docker plugin's writer lease
   * (docs/plugin.md); no host gets a `local` definition of it. @default 'multi-writer'
   */
  readonly access?: AccessMode;
  /**
   * `define`: define the volumes on every registered host now. `owe`: only record that each
   * host owes the definitions, for the next `sync` (a front end with no SSH credentials, such
   * as the Docker plugin on one host). @default 'define'
   */
  readonly hosts?: 'define' | 'owe';
  readonly signal?: AbortSignal;
}

export interface VolumeOutcome {
  readonly name: string;
  readonly status: 'created' | 'exists' | 'failed';
  /** The directory was already on the export (a retained volume's data, found again). */
  readonly reusedData?: boolean;
  readonly error?: ErrorInfo;
}

export interface CreateVolumesResult {
  readonly volumes: readonly VolumeOutcome[];
  readonly hosts: readonly HostSyncResult[];
}

const POLICIES: readonly DeletePolicy[] = ['retain', 'delete', 'archive'];

function validateCreateOptions(o: CreateVolumeOptions): void {
  for (const f of ['uid', 'gid'] as const) {
    const v = o[f];
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffff_fffe)) {
      throw new ValidationError(f, `${v} is not a numeric id`);
    }
  }
  if (o.mode !== undefined) parseMode(o.mode);
  parseMountOptions(o.mountOptions);
  if (o.onDelete !== undefined && !POLICIES.includes(o.onDelete)) {
    throw new ValidationError('on-delete', `must be one of ${POLICIES.join(', ')}`);
  }
  if (o.access !== undefined && o.access !== 'multi-writer' && o.access !== 'single-writer') {
    throw new ValidationError('access', 'must be multi-writer or single-writer');
  }
}

/**
 * Creates volumes: for each name (concurrently, bounded) the directory `<export>/<NAME>` and
 * the registry record, then defines them on every registered host. Every step is idempotent,
 * so a step that failed with a retriable error is simply retried: a directory that exists is
 * reused, and a record that exists with this operation's id is this operation's own.
 */
export async function createVolumes(
  ctx: ClusterContext,
  names: readonly string[],
  options: CreateVolumeOptions = {},
): Promise<CreateVolumesResult> {
  const valid = validateNames(names);
  validateCreateOptions(options);
  const opId = randomId();
  const signal = options.signal;
  const settled = await mapSettled(
    valid,
    ctx.nfsConcurrency,
    (name) =>
      // The signal stops new volumes and new retries, never a volume half way: one that was
      // started is finished (or failed), so the report says exactly what exists.
      withRetry(() => createOne(ctx, name, opId, options), {
        retries: 4,
        minTimeoutMs: 200,
        maxTimeoutMs: 3_000,
        stopRetriesOn: signal,
      }),
    signal,
  );
  const volumes: VolumeOutcome[] = settled.map((r, i) =>
    r.status === 'fulfilled'
      ? r.value
      : { name: valid[i] ?? '?', status: 'failed', error: errorInfo(r.reason) },
  );
  // The next `volume ls` anywhere then reads none of these records (best effort: a hint).
  await ctx.registry.volumes.flushCache().catch(() => undefined);
  const mountOptions = parseMountOptions(options.mountOptions);
  const created = volumes
    .filter((v) => v.status !== 'failed')
    .map((v) => ({
      name: v.name,
      ...(mountOptions.length > 0 ? { mountOptions } : {}),
      ...(options.access === 'single-writer' ? { access: 'single-writer' as const } : {}),
    }));
  if (created.length === 0) return { volumes, hosts: [] };
  const hosts =
    options.hosts === 'owe'
      ? await oweEverywhere(ctx, created)
      : await defineEverywhere(ctx, created, signal);
  return { volumes, hosts };
}

/**
 * Every registered host owes the definitions it would get, recorded as pending for the next
 * `sync` (none on a plugin host, none of a single-writer volume).
 */
async function oweEverywhere(ctx: ClusterContext, volumes: readonly VolumeRef[]): Promise<HostSyncResult[]> {
  const hosts = await ctx.registry.hosts.list();
  const why: ErrorInfo = {
    code: 'HOST_UNREACHABLE',
    message: 'defined by the next sync (created without SSH)',
  };
  const owed = hosts
    .map((h) => ({ host: h.name, volumes: volumes.filter((v) => definedLocally(h, v)) }))
    .filter((o) => o.volumes.length > 0);
  const results = owed.map((o) => unreachableResult(o.host, why));
  await mapSettled(owed, ctx.hostConcurrency, (o, i) =>
    settlePending(
      ctx,
      o.host,
      results[i] ?? unreachableResult(o.host, why),
      o.volumes.map((v) => ({ op: 'define' as const, volume: v.name })),
      false,
    ),
  );
  return results;
}

async function createOne(
  ctx: ClusterContext,
  name: string,
  opId: string,
  o: CreateVolumeOptions,
): Promise<VolumeOutcome> {
  const reg = ctx.registry;
  const asked = { mode: o.mode ?? 0o755, uid: o.uid ?? 0, gid: o.gid ?? 0 };
  const mountOptions = parseMountOptions(o.mountOptions);
  let reusedData = false;
  let dir: FileStat;
  try {
    dir = await reg.fs.mkdir(name, asked);
  } catch (err) {
    if (!hasNfsStatus(err, 'EXIST')) throw err;
    dir = await adoptDirectory(ctx, name, o);
    reusedData = true;
  }
  const record: VolumeRecord = {
    schema: SCHEMA_VERSION,
    kind: 'volume',
    name,
    createdAt: reg.isoNow(),
    createdBy: opId,
    // What the directory has, which is what was asked unless existing data kept its own.
    uid: dir.uid,
    gid: dir.gid,
    mode: dir.mode,
    labels: { ...(o.labels ?? {}) },
    onDelete: o.onDelete ?? 'retain',
    ...(mountOptions.length > 0 ? { mountOptions } : {}),
    ...(o.access === 'single-writer' ? { access: 'single-writer' as const } : {}),
  };
  try {
    await reg.volumes.create(name, record);
  } catch (err) {
    if (!(err instanceof RecordExistsError)) throw err;
    const existing = await readOrRepair(ctx, name, record);
    if (existing === record) {
      ctx.progress({ volume: name, message: 'created (completed an interrupted record)' });
      return { name, status: 'created', reusedData };
    }
    if (existing.state === 'removing') {
      throw new NfsvolError(
        'VOLUME_BEING_REMOVED',
        `${name} is being removed; create it again once that is done`,
        {
          retriable: true,
        },
      );
    }
    // Our own record from an attempt whose reply was lost: the create did happen.
    if (existing.createdBy === opId) return { name, status: 'created', reusedData: false };
    return { name, status: 'exists', reusedData: true };
  }
  if (reusedData) {
    // The directory was there before our MKDIR. A removal of an older volume of this name
    // removes its record last, so it has finished now that our record exists; but it may have
    // deleted or archived that directory after our MKDIR saw it. Make sure the volume has one.
    if ((await reg.fs.exists(name))?.type !== 'directory') {
      await reg.fs.mkdir(name, asked).catch((err: unknown) => {
        if (!hasNfsStatus(err, 'EXIST')) throw err;
      });
      reusedData = false;
    }
  }
  ctx.progress({ volume: name, message: reusedData ? 'created (found existing data)' : 'created' });
  return { name, status: 'created', reusedData };
}

/**
 * A directory that was already on the export (a retained volume's data): it gets the owner
 * and mode the caller asked for explicitly; what was not asked for stays as it is. Returns its
 * attributes, which the record then states.
 */
async function adoptDirectory(ctx: ClusterContext, name: string, o: CreateVolumeOptions): Promise<FileStat> {
  const fs = ctx.registry.fs;
  let st = await fs.stat(name);
  if (st.type !== 'directory') {
    throw new NfsvolError('VOLUME_PATH_TAKEN', `${name} exists on the export and is not a directory`);
  }
  const uid = o.uid ?? st.uid;
  const gid = o.gid ?? st.gid;
  if (uid !== st.uid || gid !== st.gid) await fs.chown(name, uid, gid);
  if (o.mode !== undefined && o.mode !== st.mode) await fs.chmod(name, o.mode);
  if (uid !== st.uid || gid !== st.gid || (o.mode !== undefined && o.mode !== st.mode))
    st = await fs.stat(name);
  return st;
}

/**
 * Reads a record that EXCLUSIVE create said exists. An empty one is a create whose WRITE never
 * came (its client died, or the server restarted in between): give its writer a moment, then
 * complete it with our record through tmp + RENAME. Returns `ours` when it did that.
 */
async function readOrRepair(ctx: ClusterContext, name: string, ours: VolumeRecord): Promise<VolumeRecord> {
  const reg = ctx.registry;
  for (let attempt = 0; ; attempt++) {
    try {
      return await reg.volumes.get(name);
    } catch (err) {
      if (!(err instanceof IncompleteRecordError)) throw err;
      if (attempt >= INCOMPLETE_WAITS) break;
      await sleep(INCOMPLETE_WAIT_MS);
    }
  }
  await reg.volumes.replace(name, ours);
  return ours;
}

const INCOMPLETE_WAITS = 10;
const INCOMPLETE_WAIT_MS = 200;

async function defineEverywhere(
  ctx: ClusterContext,
  volumes: readonly VolumeRef[],
  signal?: AbortSignal,
): Promise<HostSyncResult[]> {
  const hosts = await ctx.registry.hosts.list();
  const settled = await mapSettled(hosts, ctx.hostConcurrency, async (host) => {
    const result = await defineOnHost(ctx, host, volumes, signal);
    await settlePending(
      ctx,
      host.name,
      result,
      volumes.map((v) => ({ op: 'define' as const, volume: v.name })),
      false,
    );
    return result;
  });
  return settled.map((r, i) =>
    r.status === 'fulfilled' ? r.value : unreachableResult(hosts[i]?.name ?? '?', errorInfo(r.reason)),
  );
}

export interface VolumeSummary {
  readonly name: string;
  readonly onDelete: DeletePolicy;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly createdAt: string;
  /** `removing`: a `volume rm` is running or was interrupted (run it again to complete it). */
  readonly state: 'active' | 'removing';
  /** The volume's own mount options (after the cluster's). */
  readonly mountOptions: readonly string[];
  readonly access: AccessMode;
}

function summary(v: VolumeRecord): VolumeSummary {
  return {
    name: v.name,
    state: v.state ?? 'active',
    mountOptions: v.mountOptions ?? [],
    access: v.access ?? 'multi-writer',
    onDelete: v.onDelete,
    uid: v.uid,
    gid: v.gid,
    mode: v.mode,
    labels: v.labels,
    createdAt: v.createdAt,
  };
}

/** One volume's record, without walking its data (`inspectVolume` does); NOT_FOUND if none. */
export async function getVolume(ctx: ClusterContext, name: string): Promise<VolumeSummary> {
  const [valid] = validateNames([name]);
  const rec = valid === undefined ? undefined : await ctx.registry.volumes.tryGet(valid);
  if (!rec) throw new NfsvolError('NOT_FOUND', `no volume named ${name}`);
  return summary(rec);
}

export async function listVolumes(ctx: ClusterContext): Promise<VolumeSummary[]> {
  const out: VolumeSummary[] = [];
  for await (const v of streamVolumes(ctx)) out.push(v);
  return out;
}

/** Every volume in name order, streamed: memory stays flat however many there are. */
export async function* streamVolumes(
  ctx: ClusterContext,
  options: StreamVolumesOptions = {},
): AsyncGenerator<VolumeSummary> {
  const onStats = (s: { records: number; read: number; cached: number }): void =>
    ctx.progress({
      message: `listed ${s.records} volume(s): ${s.cached} from the listing cache, ${s.read} record(s) read`,
      detail: true,
    });
  const onKeys = options.onNames;
  for await (const v of ctx.registry.volumes.stream({ onStats, ...(onKeys ? { onKeys } : {}) })) {
    yield summary(v);
  }
}

export interface StreamVolumesOptions {
  /** Called once, before the first volume: how many there are, the longest name (to size a column). */
  readonly onNames?: (names: KeysSummary) => void;
}

export interface VolumeDetails extends VolumeSummary {
  /** Path on the server, e.g. `/export/vol1`. */
  readonly path: string;
  /** The Docker `--opt` values each host gets (with the cluster's server address). */
  readonly options: Readonly<Record<string, string>>;
  readonly usage: Usage;
  readonly hosts: readonly { readonly host: string; readonly defined: 'yes' | 'pending' }[];
  readonly mounts: readonly { readonly host: string; readonly path: string; readonly mountedAt: string }[];
}

export async function inspectVolume(ctx: ClusterContext, name: string): Promise<VolumeDetails> {
  const [n] = validateNames([name]);
  const reg = ctx.registry;
  const rec = await reg.volumes.get(n ?? name);
  const [usage, hosts, pending, mounts] = await Promise.all([
    reg.fs.usage(rec.name),
    reg.hosts.list(),
    reg.pending.list(),
    mountsOf(ctx, rec.name),
  ]);
  const owes = (host: string): boolean =>
    pending.some(
      (p) =>
        p.host === host &&
        p.operations.some((op) => (op.op === 'sync' && op.volume === undefined) || op.volume === rec.name),
    );
  return {
    ...summary(rec),
    path: exportPathOf(reg.cluster.nfs, rec.name),
    options: dockerVolumeOptions(
      { nfs: reg.cluster.nfs, address: reg.cluster.nfs.server },
      rec.name,
      rec.mountOptions,
    ),
    usage,
    hosts: hosts.map((h) => ({ host: h.name, defined: owes(h.name) ? 'pending' : 'yes' })),
    mounts: mounts.map((m) => ({ host: m.host, path: m.path, mountedAt: m.mountedAt })),
  };
}

export interface RemoveVolumesOptions {
  /** Remove even while hosts mount the volume (they are unmounted first, best effort). @default false */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
}

export interface RemoveOutcome {
  readonly name: string;
  readonly status: 'removed' | 'refused' | 'failed';
  readonly policy?: DeletePolicy;
  /** Where the data went with the archive policy, relative to the export. */
  readonly archivedAs?: string;
  readonly error?: ErrorInfo;
  /**
   * On a removal that failed after its definitions had left the hosts: the volume stays marked
   * `removing` (nothing attaches it), and running `volume rm` again finishes it.
   */
  readonly state?: 'removing';
}

export interface RemoveVolumesResult {
  readonly volumes: readonly RemoveOutcome[];
  readonly hosts: readonly HostSyncResult[];
}

/** `20261128T041500123Z`: sortable and safe in a file name. */
function archiveTime(iso: string): string {
  return iso.replace(/[-:]/g, '').replace('.', '');
}

/**
 * Removes volumes, in an order that never deletes data that may be in use and that a crash at
 * any point leaves for the next `volume rm` to complete (docs/consistency.md):
 *  1. under the volume's lease: refuse it while a host mounts it (`volume mount`) unless
 *     `force`, then write a tombstone (the record in state `removing`), after which nothing new
 *     attaches it;
 *  2. remove its Docker definitions from every host (and with `force` its host mounts). If a
 *     host's containers use it, or a host cannot be asked and the policy would remove the data,
 *     the volume is refused (unless `force`): definitions go back where they were removed and
 *     the tombstone is reverted;
 *  3. apply the policy to the data (delete, retain, archive into `.nfsvol/archive/NAME-<time>`),
 *     then remove the record.
 * Hosts that could not be reached get a pending removal, finished by a later sync.
 */
export async function removeVolumes(
  ctx: ClusterContext,
  names: readonly string[],
  options: RemoveVolumesOptions = {},
): Promise<RemoveVolumesResult> {
  const valid = validateNames(names);
  const reg = ctx.registry;
  const force = options.force === true;
  const signal = options.signal;
  const opId = randomId();
  const hosts = await reg.hosts.list();
  const outcomes = new Map<string, RemoveOutcome>();
  const failed = (name: string, err: unknown): void => {
    outcomes.set(name, { name, status: 'failed', error: errorInfo(err) });
  };

  // 1. Tombstones.
  const tombs = new Map<string, VolumeRecord>();
  const marked = await mapSettled(
    valid,
    ctx.nfsConcurrency,
    (name) =>
      reg.withLock(
        volumeLeaseKey(name),
        async (lease) => {
          const rec = await reg.volumes.get(name);
          if (rec.state === 'removing') return rec; // an interrupted removal: complete it
          if (!force) {
            const refusal = await mountRefusal(ctx, name);
            if (refusal) {
              outcomes.set(name, refusal);
              return undefined;
            }
          }
          const tomb: VolumeRecord = { ...rec, state: 'removing', removingBy: opId };
          lease.assertHeld();
          await reg.volumes.replace(name, tomb);
          return tomb;
        },
        signal,
      ),
    signal,
  );
  marked.forEach((r, i) => {
    const name = valid[i];
    if (!name) return;
    if (r.status === 'rejected') failed(name, r.reason);
    else if (r.value) tombs.set(name, r.value);
  });

  // 2. Hosts: host mounts (force only), then definitions.
  if (force) {
    await mapSettled([...tombs.keys()], ctx.nfsConcurrency, async (name) => {
      try {
        for (const m of await mountsOf(ctx, name)) await unmountRecorded(ctx, hosts, m, signal);
      } catch (err) {
        tombs.delete(name);
        failed(name, err);
        await revertTombstone(ctx, name);
      }
    });
  }
  const candidates = [...tombs.keys()];
  const undefined_ =
    candidates.length === 0
      ? []
      : (
          await mapSettled(hosts, ctx.hostConcurrency, (host) =>
            undefineOnHost(ctx, host, candidates, signal),
          )
        ).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const inUse = new Map<string, string[]>();
  const unknown = new Map<string, string[]>();
  for (const r of undefined_) {
    for (const f of r.failed) {
      if (f.error.code === 'VOLUME_IN_USE') inUse.set(f.volume, [...(inUse.get(f.volume) ?? []), r.host]);
    }
    if (r.unreachable) for (const v of candidates) unknown.set(v, [...(unknown.get(v) ?? []), r.host]);
  }
  const refused = new Set<string>();
  for (const [volume, on] of inUse) {
    refused.add(volume);
    outcomes.set(volume, {
      name: volume,
      status: 'refused',
      error: {
        code: 'VOLUME_IN_USE',
        message: `${volume} is used by containers on ${on.join(', ')}; remove them first`,
      },
    });
  }
  if (!force) {
    for (const [volume, on] of unknown) {
      const rec = tombs.get(volume);
      if (!rec || rec.onDelete === 'retain' || refused.has(volume)) continue;
      refused.add(volume);
      outcomes.set(volume, {
        name: volume,
        status: 'refused',
        error: {
          code: 'VOLUME_USE_UNKNOWN',
          message: `${volume}: cannot ask ${on.join(', ')} whether containers use it, and its policy (${rec.onDelete}) would remove the data; retry when the host is back, or pass --force`,
        },
      });
    }
  }
  if (refused.size > 0) {
    // Nothing of a refused volume may go missing: its definitions come back where they were
    // removed (a host that fails that owes it), and the tombstone is reverted.
    await mapSettled(undefined_, ctx.hostConcurrency, async (r) => {
      const back = r.removed.filter((v) => refused.has(v));
      const host = hosts.find((h) => h.name === r.host);
      if (back.length === 0 || !host) return;
      const res = await defineOnHost(
        ctx,
        host,
        back.map((v) => tombs.get(v) ?? { name: v }),
        signal,
      );
      await settlePending(
        ctx,
        host.name,
        res,
        back.map((volume) => ({ op: 'define' as const, volume })),
        false,
      );
    });
    await mapSettled([...refused], ctx.nfsConcurrency, (name) => revertTombstone(ctx, name));
    for (const v of refused) tombs.delete(v);
  }

  // 3. Data, then records.
  const final = [...tombs.values()];
  const applied = await mapSettled(final, ctx.nfsConcurrency, (rec) => applyPolicyAgain(ctx, rec, signal));
  applied.forEach((r, i) => {
    const rec = final[i];
    if (!rec) return;
    if (r.status === 'fulfilled') outcomes.set(rec.name, r.value);
    else {
      // Past step 2 there is no going back (the data may be half deleted): the tombstone stays,
      // so nothing attaches the volume, and the next `volume rm` completes the removal.
      const info = errorInfo(r.reason);
      outcomes.set(rec.name, {
        name: rec.name,
        status: 'failed',
        state: 'removing',
        error: {
          code: info.code,
          message: `${info.message}; ${rec.name} stays marked for removal: run volume rm ${rec.name} again to finish`,
        },
      });
    }
  });

  // Hosts owe the removals they could not do; only removed volumes count.
  const removed = new Set([...outcomes.values()].filter((o) => o.status === 'removed').map((o) => o.name));
  const hostResults = undefined_.map((r) => {
    const failedHere = r.failed.filter((f) => removed.has(f.volume));
    return { ...r, failed: failedHere, ok: !r.unreachable && failedHere.length === 0 };
  });
  if (removed.size > 0) {
    await mapSettled(hostResults, ctx.hostConcurrency, (r) =>
      settlePending(
        ctx,
        r.host,
        r,
        [...removed].map((volume) => ({ op: 'remove' as const, volume })),
        false,
      ),
    );
  }
  return {
    volumes: valid.map(
      (n) =>
        outcomes.get(n) ?? { name: n, status: 'failed', error: { code: 'INTERNAL', message: 'no outcome' } },
    ),
    hosts: hostResults,
  };
}

/** Puts a refused volume back in use: its record without the tombstone (if it is still ours). */
async function revertTombstone(ctx: ClusterContext, name: string): Promise<void> {
  const reg = ctx.registry;
  await reg.withLock(volumeLeaseKey(name), async (lease) => {
    const rec = await reg.volumes.tryGet(name);
    if (rec?.state !== 'removing') return;
    const { state: _state, removingBy: _by, ...live } = rec;
    lease.assertHeld();
    await reg.volumes.replace(name, live);
  });
}

/** Attempts at step 3 when the server forgets handles mid-way (a restart, a handle it dropped). */
const POLICY_ATTEMPTS = 3;

/**
 * Step 3, again after NFS3ERR_STALE: the client forgets its handles on STALE, so the next
 * attempt resolves every path afresh, and the step is idempotent. Other errors were already
 * retried where they happened (the RPC layer), so they end the removal.
 */
async function applyPolicyAgain(
  ctx: ClusterContext,
  rec: VolumeRecord,
  signal: AbortSignal | undefined,
): Promise<RemoveOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await applyPolicy(ctx, rec);
    } catch (err) {
      if (attempt >= POLICY_ATTEMPTS || !hasNfsStatus(err, 'STALE') || signal?.aborted === true) throw err;
      debug(
        () => `volume ${rec.name}: removal got NFS3ERR_STALE (attempt ${attempt}); resolving paths afresh`,
      );
    }
  }
}

/** Step 3 of a removal: the data by the volume's policy, then the record. Idempotent. */
async function applyPolicy(ctx: ClusterContext, rec: VolumeRecord): Promise<RemoveOutcome> {
  const reg = ctx.registry;
  const name = rec.name;
  let archivedAs: string | undefined;
  if (rec.onDelete === 'delete') {
    await reg.fs.rm(name, { recursive: true }).catch((err: unknown) => {
      if (!hasNfsStatus(err, 'NOENT')) throw err;
    });
  } else if (rec.onDelete === 'archive') {
    const to = `${reg.archiveDir}/${name}-${archiveTime(reg.isoNow())}`;
    try {
      await reg.fs.rename(name, to);
      archivedAs = to;
    } catch (err) {
      // Gone already: an earlier run of this removal archived it.
      if (!hasNfsStatus(err, 'NOENT')) throw err;
    }
  }
  await reg.volumes.remove(name);
  ctx.progress({ volume: name, message: `removed (${rec.onDelete})` });
  return { name, status: 'removed', policy: rec.onDelete, ...(archivedAs ? { archivedAs } : {}) };
}

async function mountRefusal(ctx: ClusterContext, name: string): Promise<RemoveOutcome | undefined> {
  const mounts = await mountsOf(ctx, name);
  if (mounts.length === 0) return undefined;
  return {
    name,
    status: 'refused',
    error: {
      code: 'VOLUME_IN_USE',
      message: `${name} is mounted on ${mounts.map((m) => `${m.host}:${m.path}`).join(', ')}; unmount it or pass --force`,
    },
  };
}

export interface UpdateVolumeOptions {
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
  /** Labels to set (added or replaced). */
  readonly labels?: Readonly<Record<string, string>>;
  /** Label keys to remove. */
  readonly unlabel?: readonly string[];
  readonly onDelete?: DeletePolicy;
  /** The volume's own mount options, replacing the ones it had (`''` or `[]`: none). */
  readonly mountOptions?: string | readonly string[];
  readonly signal?: AbortSignal;
}

export interface UpdateVolumeResult {
  readonly volume: VolumeSummary;
  /** The fields that changed (`uid`, `mode`, `labels`, `mountOptions`, ...). */
  readonly changed: readonly string[];
  /** With changed mount options: each host's definition replaced, or owed where in use. */
  readonly hosts: readonly HostSyncResult[];
}

/**
 * Changes a volume after its creation, under its lease: owner and mode (applied to the
 * directory, then recorded), labels, delete policy, mount options. New mount options reach each
 * host's definition where no container uses the volume; where one does, the host keeps the old
 * definition and owes the change, which `sync` makes once the volume is free.
 */
export async function updateVolume(
  ctx: ClusterContext,
  name: string,
  o: UpdateVolumeOptions,
): Promise<UpdateVolumeResult> {
  const [volume] = validateNames([name], 'volume');
  if (!volume) throw new ValidationError('volume', 'missing');
  validateCreateOptions(o);
  const unlabel = (o.unlabel ?? []).map((k) => Object.keys(parseLabels([`${k}=`], 'unlabel'))[0] ?? k);
  const mountOptions = o.mountOptions === undefined ? undefined : parseMountOptions(o.mountOptions);
  const reg = ctx.registry;
  const { rec, changed } = await reg.withLock(
    volumeLeaseKey(volume),
    async (lease) => {
      const cur = await reg.volumes.get(volume);
      if (cur.state === 'removing') {
        throw new NfsvolError('VOLUME_BEING_REMOVED', `${volume} is being removed; it cannot be changed`);
      }
      const labels: Record<string, string> = { ...cur.labels, ...(o.labels ?? {}) };
      for (const k of unlabel) delete labels[k];
      const { mountOptions: curOptions, ...base } = cur;
      const options = mountOptions ?? curOptions ?? [];
      const next: VolumeRecord = {
        ...base,
        uid: o.uid ?? cur.uid,
        gid: o.gid ?? cur.gid,
        mode: o.mode ?? cur.mode,
        labels,
        onDelete: o.onDelete ?? cur.onDelete,
        ...(options.length > 0 ? { mountOptions: options } : {}),
      };
      const changed = (['uid', 'gid', 'mode', 'labels', 'onDelete', 'mountOptions'] as const).filter(
        (k) => JSON.stringify(cur[k] ?? []) !== JSON.stringify(next[k] ?? []),
      );
      if (changed.length === 0) return { rec: cur, changed };
      lease.assertHeld();
      // The directory first: a record never states an owner or mode the directory lacks.
      if (next.uid !== cur.uid || next.gid !== cur.gid) {
        await reg.fs.chown(volume, next.uid, next.gid);
      }
      if (next.mode !== cur.mode) await reg.fs.chmod(volume, next.mode);
      lease.assertHeld();
      await reg.volumes.replace(volume, next);
      return { rec: next, changed };
    },
    o.signal,
  );
  let hosts: HostSyncResult[] = [];
  if (changed.includes('mountOptions')) {
    const all = await reg.hosts.list();
    const settled = await mapSettled(all, ctx.hostConcurrency, async (host) => {
      const res = await defineOnHost(ctx, host, [rec], o.signal, { replaceDrifted: true });
      await settlePending(ctx, host.name, res, [{ op: 'sync', volume }], false);
      return res;
    });
    hosts = settled.map((r, i) =>
      r.status === 'fulfilled' ? r.value : unreachableResult(all[i]?.name ?? '?', errorInfo(r.reason)),
    );
  }
  ctx.progress({ volume, message: changed.length > 0 ? `updated ${changed.join(', ')}` : 'unchanged' });
  return { volume: summary(rec), changed, hosts };
}
