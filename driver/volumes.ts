import pRetry from 'p-retry';
import { mapSettled, sleep } from './concurrency.js';
import { mountTargetOf, type ClusterContext } from './context.js';
import {
  dockerVolumeOptions,
  hostMountArgv,
  validateMountPath,
  exportPathOf,
} from './docker/volume-options.js';
import { NfsvolError, ValidationError, isRetriable } from './errors.js';
import { errorInfo, type ErrorInfo } from './events.js';
import { hasNfsStatus } from './nfs-status.js';
import { IncompleteRecordError, RecordExistsError } from './registry/errors.js';
import {
  SCHEMA_VERSION,
  type DeletePolicy,
  type HostRecord,
  type MountRecord,
  type VolumeRecord,
} from './registry/records.js';
import { randomId, type KeysSummary } from './registry/registry.js';
import { SshCommandError } from './ssh/errors.js';
import type { Usage } from './nfs/types.js';
import { defineOnHost, settlePending, undefineOnHost, type HostSyncResult } from './sync.js';
import { parseMode, validateNames } from './volume-name.js';

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
  if (o.onDelete !== undefined && !POLICIES.includes(o.onDelete)) {
    throw new ValidationError('on-delete', `must be one of ${POLICIES.join(', ')}`);
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
      pRetry(() => createOne(ctx, name, opId, options), {
        retries: 4,
        minTimeout: 200,
        maxTimeout: 3_000,
        shouldRetry: ({ error }) => isRetriable(error) && !signal?.aborted,
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
  const created = volumes.filter((v) => v.status !== 'failed').map((v) => v.name);
  const hosts = created.length > 0 ? await defineEverywhere(ctx, created, signal) : [];
  return { volumes, hosts };
}

async function createOne(
  ctx: ClusterContext,
  name: string,
  opId: string,
  o: CreateVolumeOptions,
): Promise<VolumeOutcome> {
  const reg = ctx.registry;
  let reusedData = false;
  try {
    await reg.fs.mkdir(reg.volumeDir(name), {
      mode: o.mode ?? 0o755,
      uid: o.uid ?? 0,
      gid: o.gid ?? 0,
    });
  } catch (err) {
    if (!hasNfsStatus(err, 'EXIST')) throw err;
    const st = await reg.fs.stat(reg.volumeDir(name));
    if (st.type !== 'directory') {
      throw new NfsvolError('VOLUME_PATH_TAKEN', `${name} exists on the export and is not a directory`);
    }
    reusedData = true;
  }
  const record: VolumeRecord = {
    schema: SCHEMA_VERSION,
    kind: 'volume',
    name,
    createdAt: reg.isoNow(),
    createdBy: opId,
    uid: o.uid ?? 0,
    gid: o.gid ?? 0,
    mode: o.mode ?? 0o755,
    labels: { ...(o.labels ?? {}) },
    onDelete: o.onDelete ?? 'retain',
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
    // Our own record from an attempt whose reply was lost: the create did happen.
    if (existing.createdBy === opId) return { name, status: 'created', reusedData: false };
    return { name, status: 'exists', reusedData: true };
  }
  ctx.progress({ volume: name, message: reusedData ? 'created (found existing data)' : 'created' });
  return { name, status: 'created', reusedData };
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
  volumes: readonly string[],
  signal?: AbortSignal,
): Promise<HostSyncResult[]> {
  const hosts = await ctx.registry.hosts.list();
  const settled = await mapSettled(hosts, ctx.hostConcurrency, async (host) => {
    const result = await defineOnHost(ctx, host, volumes, signal);
    await settlePending(
      ctx,
      host.name,
      result,
      volumes.map((volume) => ({ op: 'define' as const, volume })),
      false,
    );
    return result;
  });
  return settled.map((r, i) =>
    r.status === 'fulfilled'
      ? r.value
      : {
          host: hosts[i]?.name ?? '?',
          ok: false,
          unreachable: true,
          defined: [],
          removed: [],
          drifted: [],
          conflicts: [],
          failed: [],
          error: errorInfo(r.reason),
        },
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
}

function summary(v: VolumeRecord): VolumeSummary {
  return {
    name: v.name,
    onDelete: v.onDelete,
    uid: v.uid,
    gid: v.gid,
    mode: v.mode,
    labels: v.labels,
    createdAt: v.createdAt,
  };
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
    reg.fs.usage(reg.volumeDir(rec.name)),
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
    options: dockerVolumeOptions({ nfs: reg.cluster.nfs, address: reg.cluster.nfs.server }, rec.name),
    usage,
    hosts: hosts.map((h) => ({ host: h.name, defined: owes(h.name) ? 'pending' : 'yes' })),
    mounts: mounts.map((m) => ({ host: m.host, path: m.path, mountedAt: m.mountedAt })),
  };
}

async function mountsOf(ctx: ClusterContext, volume: string): Promise<MountRecord[]> {
  const keys = (await ctx.registry.mounts.keys()).filter((k) => k.startsWith(`${volume}@`));
  const recs = await Promise.all(keys.map((k) => ctx.registry.mounts.tryGet(k)));
  return recs.filter((r): r is MountRecord => r !== undefined);
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
}

export interface RemoveVolumesResult {
  readonly volumes: readonly RemoveOutcome[];
  readonly hosts: readonly HostSyncResult[];
}

/** `20261128T041500123Z`: sortable and safe in a file name. */
function stamp(iso: string): string {
  return iso.replace(/[-:]/g, '').replace('.', '');
}

/**
 * Removes volumes, in an order that never deletes data under a user:
 *  1. refuse a volume a host mounts (`volume mount`) unless `force`;
 *  2. remove its Docker definitions from every host; a host whose containers use it refuses,
 *     and then the volume is refused too (unless `force`) and defined again where it was removed;
 *  3. remove the record and apply the volume's policy to its data: delete, retain, or archive
 *     into `.nfsvol/archive/NAME-<time>`.
 * Hosts that cannot be reached get a pending removal, finished by a later sync.
 */
export async function removeVolumes(
  ctx: ClusterContext,
  names: readonly string[],
  options: RemoveVolumesOptions = {},
): Promise<RemoveVolumesResult> {
  const valid = validateNames(names);
  const reg = ctx.registry;
  const force = options.force === true;
  const hosts = await reg.hosts.list();
  const outcomes = new Map<string, RemoveOutcome>();

  // 1. Records exist; nothing is mounted (checked again under the lock in step 3).
  const checked = await mapSettled(valid, ctx.nfsConcurrency, async (name) => {
    await reg.volumes.get(name);
    const refusal = await mountRefusal(ctx, name, force);
    if (refusal) outcomes.set(name, refusal);
  });
  checked.forEach((r, i) => {
    const name = valid[i];
    if (name && r.status === 'rejected')
      outcomes.set(name, { name, status: 'failed', error: errorInfo(r.reason) });
  });
  const candidates = valid.filter((n) => !outcomes.has(n));

  // 2. Definitions leave the hosts.
  const undefined_ =
    candidates.length === 0
      ? []
      : (
          await mapSettled(hosts, ctx.hostConcurrency, (host) =>
            undefineOnHost(ctx, host, candidates, options.signal),
          )
        ).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (!force) {
    const users = new Map<string, string[]>();
    for (const r of undefined_) {
      for (const f of r.failed) {
        if (isInUse(f.error)) users.set(f.volume, [...(users.get(f.volume) ?? []), r.host]);
      }
    }
    for (const [volume, on] of users) {
      outcomes.set(volume, {
        name: volume,
        status: 'refused',
        error: {
          code: 'VOLUME_IN_USE',
          message: `${volume} is used by containers on ${on.join(', ')}; remove them or pass --force`,
        },
      });
    }
    // Put back the definitions already removed for refused volumes, so no host loses it.
    await mapSettled(undefined_, ctx.hostConcurrency, async (r) => {
      const back = r.removed.filter((v) => users.has(v));
      const host = hosts.find((h) => h.name === r.host);
      if (back.length > 0 && host) await defineOnHost(ctx, host, back, options.signal);
    });
  }

  // 3. Records and data.
  const final = candidates.filter((n) => !outcomes.has(n));
  const applied = await mapSettled(final, ctx.nfsConcurrency, (name) =>
    reg.withLock(`volume-${name}`, async (): Promise<RemoveOutcome> => {
      const rec = await reg.volumes.get(name);
      const refusal = await mountRefusal(ctx, name, force);
      if (refusal) return refusal;
      if (force) {
        for (const m of await mountsOf(ctx, name))
          await unmountRecorded(ctx, hosts, m).catch(() => undefined);
      }
      await reg.volumes.remove(name);
      const dir = reg.volumeDir(name);
      let archivedAs: string | undefined;
      if (rec.onDelete === 'delete') {
        await reg.fs.rm(dir, { recursive: true }).catch((err: unknown) => {
          if (!hasNfsStatus(err, 'NOENT')) throw err;
        });
      } else if (rec.onDelete === 'archive') {
        archivedAs = `${reg.archiveDir}/${name}-${stamp(reg.isoNow())}`;
        await reg.fs.rename(dir, archivedAs);
      }
      ctx.progress({ volume: name, message: `removed (${rec.onDelete})` });
      return { name, status: 'removed', policy: rec.onDelete, ...(archivedAs ? { archivedAs } : {}) };
    }),
  );
  applied.forEach((r, i) => {
    const name = final[i];
    if (!name) return;
    outcomes.set(
      name,
      r.status === 'fulfilled' ? r.value : { name, status: 'failed', error: errorInfo(r.reason) },
    );
  });

  // Hosts owe the removals they could not do; only removed volumes count.
  const removed = new Set([...outcomes.values()].filter((o) => o.status === 'removed').map((o) => o.name));
  const hostResults = undefined_.map((r) => {
    const failed = r.failed.filter((f) => removed.has(f.volume));
    return { ...r, failed, ok: !r.unreachable && failed.length === 0 };
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

function isInUse(e: ErrorInfo): boolean {
  return e.code === 'VOLUME_IN_USE' || /volume is in use/i.test(e.message);
}

async function mountRefusal(
  ctx: ClusterContext,
  name: string,
  force: boolean,
): Promise<RemoveOutcome | undefined> {
  if (force) return undefined;
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

async function unmountRecorded(
  ctx: ClusterContext,
  hosts: readonly HostRecord[],
  m: MountRecord,
): Promise<void> {
  const host = hosts.find((h) => h.name === m.host);
  if (host) await ctx.hosts.get(host).run(['umount', m.path], { check: false });
  await ctx.registry.mounts.remove(`${m.volume}@${m.host}`);
}

export interface MountOptions {
  readonly volume: string;
  readonly host: string;
  /** Absolute path on the host; created if missing. */
  readonly path: string;
  readonly signal?: AbortSignal;
}

/** Mounts a volume on a host with the kernel NFS client (`mount -t nfs...`) and records it. */
export async function mountVolume(ctx: ClusterContext, o: MountOptions): Promise<MountRecord> {
  const [volume] = validateNames([o.volume], 'volume');
  const [hostName] = validateNames([o.host], 'host');
  const path = validateMountPath(o.path);
  const reg = ctx.registry;
  if (!volume || !hostName) throw new ValidationError('volume', 'missing');
  const host = await reg.hosts.get(hostName);
  return reg.withLock(`volume-${volume}`, async () => {
    await reg.volumes.get(volume);
    const key = `${volume}@${hostName}`;
    const existing = await reg.mounts.tryGet(key);
    if (existing && existing.path !== path) {
      throw new NfsvolError(
        'ALREADY_MOUNTED',
        `${volume} is already mounted on ${hostName} at ${existing.path}; unmount it first`,
      );
    }
    const remote = ctx.hosts.get(host);
    await remote.run(['mkdir', '-p', '--', path], { signal: o.signal });
    const probe = await remote.run(['mountpoint', '-q', '--', path], { check: false, signal: o.signal });
    if (probe.exitCode !== 0) {
      await remote.run(hostMountArgv(mountTargetOf(ctx, host), volume, path), {
        signal: o.signal,
        timeoutMs: 60_000,
      });
    }
    const rec: MountRecord = {
      schema: SCHEMA_VERSION,
      kind: 'mount',
      volume,
      host: hostName,
      path,
      mountedAt: reg.isoNow(),
    };
    await reg.mounts.replace(key, rec);
    ctx.progress({ host: hostName, volume, message: `mounted at ${path}` });
    return rec;
  });
}

export interface UnmountOptions {
  readonly volume: string;
  readonly host: string;
  readonly signal?: AbortSignal;
}

/** Unmounts a recorded host mount and forgets it. "not mounted" on the host counts as done. */
export async function unmountVolume(ctx: ClusterContext, o: UnmountOptions): Promise<MountRecord> {
  const [volume] = validateNames([o.volume], 'volume');
  const [hostName] = validateNames([o.host], 'host');
  if (!volume || !hostName) throw new ValidationError('volume', 'missing');
  const reg = ctx.registry;
  const key = `${volume}@${hostName}`;
  const rec = await reg.mounts.tryGet(key);
  if (!rec) throw new NfsvolError('NOT_MOUNTED', `${volume} is not mounted on ${hostName} (no record)`);
  const host = await reg.hosts.get(hostName);
  try {
    await ctx.hosts.get(host).run(['umount', '--', rec.path], { signal: o.signal });
  } catch (err) {
    if (!(err instanceof SshCommandError && /not mounted|no mount point/i.test(err.stderr))) throw err;
  }
  await reg.mounts.remove(key);
  ctx.progress({ host: hostName, volume, message: `unmounted from ${rec.path}` });
  return rec;
}
