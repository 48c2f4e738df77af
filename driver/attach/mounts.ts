import { NfsvolError, ValidationError } from '../common/errors.js';
import {
  mountKey,
  isMountKeyOf,
  volumeLeaseKey,
  MOUNT_USER_PATTERN,
  SCHEMA_VERSION,
  type HostRecord,
  type MountRecord,
} from '../core/records.js';
import { validateMountPath } from '../core/mount-options.js';
import { validateNames } from '../core/names.js';
import { mountTargetOf, type ClusterContext } from './cluster-context.js';
import { exportPathOf, hostMountArgv } from './mount-argv.js';
import type { RemoteHost } from './ssh/remote-host.js';
import type { Lease } from '../core/registry/registry.js';

/*
 * Host mounts (`volume mount`): a volume mounted on a host with the kernel NFS client, apart
 * from Docker's definitions. Each is recorded on the export, so removals know of it.
 */

export interface MountOptions {
  readonly volume: string;
  readonly host: string;
  /** Absolute path on the host; created if missing. */
  readonly path: string;
  /**
   * A Docker mount ID (the volume plugin's): counted in the record, so the mount stays until
   * the last user releases it (`releaseMount`). A mount found there whose server no longer
   * answers for it (a stale handle) is mounted again, so no container gets a dead mount.
   */
  readonly user?: string;
  readonly signal?: AbortSignal;
}

/** How long a mount found in place may take to answer `stat` before it counts as dead. */
const STAT_TIMEOUT_MS = 10_000;

/**
 * Mounts a volume on a host with the kernel NFS client (`mount -t nfs...`) and records it, under
 * the volume's lease, so a removal cannot run in between: the lease is renewed while the mount
 * runs and checked again before the record is written.
 */
export async function mountVolume(ctx: ClusterContext, o: MountOptions): Promise<MountRecord> {
  const { volume, hostName } = namesOf(o);
  const path = validateMountPath(o.path);
  const user = o.user;
  if (user !== undefined && !MOUNT_USER_PATTERN.test(user)) {
    throw new ValidationError('user', 'a Docker mount ID (letters, digits, _ . -)');
  }
  const reg = ctx.registry;
  const host = await reg.hosts.get(hostName);
  return reg.withLock(
    volumeLeaseKey(volume),
    async (lease) => {
      const vol = await reg.volumes.get(volume);
      if (vol.state === 'removing') {
        throw new NfsvolError('VOLUME_BEING_REMOVED', `${volume} is being removed; it cannot be mounted`);
      }
      if (vol.access === 'single-writer' && user === undefined) {
        // Only the plugin holds a writer lease while the volume is mounted; a host mount would
        // be a second writer nobody could refuse.
        throw new NfsvolError(
          'ACCESS_MODE_UNSUPPORTED',
          `${volume} is single-writer: only the nfsvol Docker plugin mounts it (docker run -v ${volume}:/PATH on a plugin host)`,
        );
      }
      const key = mountKey(volume, hostName);
      const existing = await reg.mounts.tryGet(key);
      if (existing && existing.path !== path) {
        throw new NfsvolError(
          'ALREADY_MOUNTED',
          `${volume} is already mounted on ${hostName} at ${existing.path}; unmount it first`,
        );
      }
      const signal = o.signal ? AbortSignal.any([o.signal, lease.signal]) : lease.signal;
      const remote = ctx.hosts.get(host);
      const base: MountRecord = existing ?? {
        schema: SCHEMA_VERSION,
        kind: 'mount',
        volume,
        host: hostName,
        path,
        mountedAt: reg.isoNow(),
      };
      const addsUser = user !== undefined && !(base.users ?? []).includes(user);
      const rec: MountRecord = addsUser ? { ...base, users: [...(base.users ?? []), user] } : base;
      // The record first, then the mount: a command that dies in between leaves a record of a
      // mount that may not exist (a removal refuses the volume until `volume unmount` or a
      // re-run settles it), never a mount no record knows of (a removal would delete the data
      // under it).
      if (!existing) {
        lease.assertHeld();
        await reg.mounts.create(key, rec);
      } else if (addsUser) {
        lease.assertHeld();
        await reg.mounts.replace(key, rec);
      }
      let mountedNow = false;
      let triedMount = false;
      try {
        // The kernel's mount table, not a stat of the path: a stat of a dead mount fails (or
        // hangs), and so would `mkdir -p` on it.
        let mounted = await isMounted(remote, path, signal);
        if (mounted && user !== undefined && !(await answers(remote, path, signal))) {
          // A mount whose server no longer knows its handle (the export restarted with a new
          // file-system id, or was recreated) would hand the container a dead directory.
          await remote.run(['umount', '-l', '--', path], { signal });
          mounted = await isMounted(remote, path, signal);
        }
        if (!mounted) await remote.run(['mkdir', '-p', '--', path], { signal });
        if (!mounted) {
          triedMount = true;
          await remote.run(hostMountArgv(mountTargetOf(ctx, host), volume, path, vol.mountOptions), {
            signal,
            timeoutMs: 60_000,
          });
          mountedNow = true;
        }
        lease.assertHeld();
      } catch (err) {
        // Not mounted, or mounted after the lease was lost (a removal may be under way): take
        // back what this command did. The record it wrote goes only once nothing is mounted;
        // if that cannot be made sure of, the record stays, on the safe side.
        // A mount whose answer was lost (a timeout, a cut link) may have happened all the same:
        // the host is asked before the record goes.
        const umount = async (): Promise<boolean> =>
          (await remote.run(['umount', '--', path], { check: false }).catch(() => undefined))?.exitCode === 0;
        let clean = true;
        if (mountedNow) clean = await umount();
        else if (triedMount) {
          const p = await remote
            .run(['mountpoint', '-q', '--', path], { check: false })
            .catch(() => undefined);
          clean = p !== undefined && (p.exitCode !== 0 || (await umount()));
        }
        if (!existing && clean) await reg.mounts.remove(key).catch(() => undefined);
        else if (existing && addsUser) await reg.mounts.replace(key, existing).catch(() => undefined);
        throw err;
      }
      ctx.progress({ host: hostName, volume, message: `mounted at ${path}` });
      return rec;
    },
    o.signal,
  );
}

export interface UnmountOptions {
  readonly volume: string;
  readonly host: string;
  readonly signal?: AbortSignal;
}

/**
 * Unmounts a recorded host mount and forgets it. The host is asked first whether the recorded
 * path is an NFS mount of this volume (`MOUNT_MISMATCH` otherwise, and nothing is unmounted);
 * "not mounted" counts as done.
 */
export async function unmountVolume(ctx: ClusterContext, o: UnmountOptions): Promise<MountRecord> {
  // Under the volume's lease, as `volume mount` is: otherwise a mount that found this record
  // (and the path still mounted) could return while this unmount goes on to drop the record,
  // leaving a mount no record knows of.
  return withMountRecord(ctx, o, async (rec, lease, { volume, hostName }) => {
    if (!rec) throw new NfsvolError('NOT_MOUNTED', `${volume} is not mounted on ${hostName} (no record)`);
    if ((rec.users ?? []).length > 0) {
      throw new NfsvolError(
        'VOLUME_IN_USE',
        `${volume} on ${hostName} is mounted for ${rec.users?.length ?? 0} Docker container mount(s); stop those containers first`,
      );
    }
    await dropMount(ctx, lease, rec, o.signal, `unmounted from ${rec.path}`);
    return rec;
  });
}

export interface ReleaseOptions {
  readonly volume: string;
  readonly host: string;
  /** The Docker mount ID that no longer uses the mount. */
  readonly user: string;
  readonly signal?: AbortSignal;
}

/**
 * Forgets one Docker mount ID of a host mount; the last one unmounts it and drops the record.
 * An ID the record does not hold (Docker asked twice, or after a restart) is nothing to do.
 */
export async function releaseMount(
  ctx: ClusterContext,
  o: ReleaseOptions,
): Promise<'released' | 'unmounted' | 'not-held'> {
  return withMountRecord(ctx, o, async (rec, lease, { key }) => {
    if (!rec?.users?.includes(o.user)) return 'not-held';
    const users = rec.users.filter((u) => u !== o.user);
    lease.assertHeld();
    if (users.length > 0) {
      await ctx.registry.mounts.replace(key, { ...rec, users });
      return 'released';
    }
    await dropMount(ctx, lease, rec, o.signal, `unmounted from ${rec.path} (last user gone)`);
    return 'unmounted';
  });
}

/**
 * Runs `fn` on one host's mount record of a volume (undefined when there is none) under the
 * volume's lease, as every change of a mount record runs.
 */
function withMountRecord<T>(
  ctx: ClusterContext,
  o: { readonly volume: string; readonly host: string; readonly signal?: AbortSignal | undefined },
  fn: (
    rec: MountRecord | undefined,
    lease: Lease,
    names: { readonly volume: string; readonly hostName: string; readonly key: string },
  ) => Promise<T>,
): Promise<T> {
  const { volume, hostName } = namesOf(o);
  const key = mountKey(volume, hostName);
  return ctx.registry.withLock(
    volumeLeaseKey(volume),
    async (lease) => fn(await ctx.registry.mounts.tryGet(key), lease, { volume, hostName, key }),
    o.signal,
  );
}

/** The volume and host names every mount operation takes, checked. */
function namesOf(o: { readonly volume: string; readonly host: string }): {
  volume: string;
  hostName: string;
} {
  const [volume] = validateNames([o.volume], 'volume');
  const [hostName] = validateNames([o.host], 'host');
  if (!volume || !hostName) throw new ValidationError('volume', 'missing');
  return { volume, hostName };
}

/**
 * Under the volume's lease: unmounts a recorded mount on its host, then drops the record. The
 * record goes only after the kernel's mount: a failure keeps both, on the safe side.
 */
async function dropMount(
  ctx: ClusterContext,
  lease: { readonly signal: AbortSignal; assertHeld(): void },
  rec: MountRecord,
  outer: AbortSignal | undefined,
  message: string,
): Promise<void> {
  const host = await ctx.registry.hosts.get(rec.host);
  const signal = outer ? AbortSignal.any([outer, lease.signal]) : lease.signal;
  await unmountOnHost(ctx, host, rec, signal);
  lease.assertHeld();
  await ctx.registry.mounts.remove(mountKey(rec.volume, rec.host));
  ctx.progress({ host: rec.host, volume: rec.volume, message });
}

/** One host's mount record of a volume, if there is one (a single read, no listing). */
export async function mountOn(
  ctx: ClusterContext,
  volume: string,
  host: string,
): Promise<MountRecord | undefined> {
  const names = namesOf({ volume, host });
  return ctx.registry.mounts.tryGet(mountKey(names.volume, names.hostName));
}

/** The mount records of one host, every volume. */
export async function mountsOnHost(ctx: ClusterContext, host: string): Promise<MountRecord[]> {
  const [hostName] = validateNames([host], 'host');
  const keys = (await ctx.registry.mounts.keys()).filter((k) => isMountKeyOf(k, { host: hostName }));
  const recs = await Promise.all(keys.map((k) => ctx.registry.mounts.tryGet(k)));
  return recs.filter((r): r is MountRecord => r !== undefined);
}

/**
 * Drops a mount record whose path the host's kernel no longer has mounted (the host rebooted,
 * or someone unmounted it by hand): the Docker mount IDs it counts belong to containers that
 * cannot be using it. Under the volume's lease, as every change of a mount record is.
 */
export async function forgetIfUnmounted(
  ctx: ClusterContext,
  o: { readonly volume: string; readonly host: string; readonly signal?: AbortSignal },
): Promise<'forgotten' | 'mounted' | 'no-record'> {
  return withMountRecord(ctx, o, async (rec, lease, { volume, hostName, key }) => {
    if (!rec) return 'no-record';
    const remote = ctx.hosts.get(await ctx.registry.hosts.get(hostName));
    const signal = o.signal ? AbortSignal.any([o.signal, lease.signal]) : lease.signal;
    const probe = await remote.run(['mountpoint', '-q', '--', rec.path], { check: false, signal });
    if (probe.exitCode === 0) return 'mounted';
    lease.assertHeld();
    await ctx.registry.mounts.remove(key);
    ctx.progress({
      host: hostName,
      volume,
      message: `forgot the mount at ${rec.path}: not mounted any more`,
    });
    return 'forgotten';
  });
}

/**
 * The targets of a host's NFS mounts, from the kernel's mount table: `findmnt` reads it and
 * stats nothing, so a dead mount cannot make it fail or hang.
 */
export async function nfsMountTargets(remote: RemoteHost, signal?: AbortSignal): Promise<string[]> {
  const listed = await remote.run(['findmnt', '-n', '-r', '-o', 'TARGET', '-t', 'nfs,nfs4'], {
    check: false,
    maxOutputBytes: 1024 * 1024,
    ...(signal ? { signal } : {}),
  });
  // Exit 1 with nothing printed: no NFS mount at all.
  if (listed.exitCode !== 0 && !(listed.exitCode === 1 && listed.stdout.trim() === '')) {
    throw new NfsvolError(
      'HOST_BAD_OUTPUT',
      `${remote.name}: findmnt exited with ${listed.exitCode}: ${listed.stderr.trim().slice(0, 200)}`,
    );
  }
  // `-r` prints unsafe characters as \xHH.
  const unescape = (t: string): string =>
    t.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return listed.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map(unescape);
}

/**
 * Whether something is mounted at `path`: the kernel's table of NFS mounts first, then
 * `mountpoint` for a path the table spells otherwise (through a symlink).
 */
async function isMounted(remote: RemoteHost, path: string, signal: AbortSignal): Promise<boolean> {
  if ((await nfsMountTargets(remote, signal)).includes(path)) return true;
  return (await remote.run(['mountpoint', '-q', '--', path], { check: false, signal })).exitCode === 0;
}

/** Whether a mounted path answers `stat` in time (a stale NFS handle fails or hangs). */
async function answers(remote: RemoteHost, path: string, signal: AbortSignal): Promise<boolean> {
  const r = await remote
    .run(['stat', '-f', '--', path], { check: false, timeoutMs: STAT_TIMEOUT_MS, signal })
    .catch(() => undefined);
  return r?.exitCode === 0;
}

/** The mount records of a volume, on any host. */
export async function mountsOf(ctx: ClusterContext, volume: string): Promise<MountRecord[]> {
  const keys = (await ctx.registry.mounts.keys()).filter((k) => isMountKeyOf(k, { volume }));
  const recs = await Promise.all(keys.map((k) => ctx.registry.mounts.tryGet(k)));
  return recs.filter((r): r is MountRecord => r !== undefined);
}

/**
 * Unmounts a recorded host mount, after asking the host whether the recorded path really is an
 * NFS mount of this volume's directory (a record is only what someone wrote on the export), and
 * forgets it. A host that is not registered any more only loses the record.
 */
export async function unmountRecorded(
  ctx: ClusterContext,
  hosts: readonly HostRecord[],
  m: MountRecord,
  signal?: AbortSignal,
): Promise<void> {
  const host = hosts.find((h) => h.name === m.host);
  if (host) await unmountOnHost(ctx, host, m, signal);
  await ctx.registry.mounts.remove(mountKey(m.volume, m.host));
}

async function unmountOnHost(
  ctx: ClusterContext,
  host: HostRecord,
  m: MountRecord,
  signal?: AbortSignal,
): Promise<'unmounted' | 'not-mounted'> {
  const remote = ctx.hosts.get(host);
  const source = (
    await remote.run(['findmnt', '-n', '-o', 'SOURCE', '-M', m.path], {
      check: false,
      maxOutputBytes: 4096,
      ...(signal ? { signal } : {}),
    })
  ).stdout.trim();
  if (source === '') return 'not-mounted';
  const target = mountTargetOf(ctx, host);
  const want = exportPathOf(target.nfs, m.volume);
  // `addr:/export/vol`, or `[v6addr]:/export/vol`.
  const at = source.lastIndexOf(':/');
  if (at < 0 || source.slice(at + 1) !== want) {
    throw new NfsvolError(
      'MOUNT_MISMATCH',
      `${host.name}:${m.path} is not a mount of ${m.volume} (the host says ${JSON.stringify(source.slice(0, 120))}); left alone`,
    );
  }
  await remote.run(['umount', '--', m.path], signal ? { signal } : {});
  return 'unmounted';
}
