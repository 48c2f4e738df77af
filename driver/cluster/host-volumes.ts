import { NfsvolError, isErrorCode } from '../common/errors.js';
import { errorInfo, type ErrorInfo } from '../common/events.js';
import { validateMountPath } from '../core/mount-options.js';
import { validateName } from '../core/names.js';
import { DEFAULT_WRITER_LEASE_MS, writerLeaseKey, type DeletePolicy } from '../core/records.js';
import { LeaseHeldError } from '../core/registry/errors.js';
import { LeaseManager, type HeldLease } from '../core/registry/lease.js';
import type { Cluster } from './cluster.js';
import type { VolumeSummary } from './volumes.js';

/** What a host-local front end asks a volume to be (docs/plugin.md, options). */
export interface HostVolumeSpec {
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
  readonly onDelete?: DeletePolicy;
  readonly labels?: Readonly<Record<string, string>>;
  readonly mountOptions?: readonly string[];
  readonly access?: 'multi-writer' | 'single-writer';
}

export interface HostVolume {
  readonly name: string;
  readonly createdAt: string;
  /** Where the volume is mounted on this host for Docker; absent when it is not. */
  readonly mountpoint?: string;
}

export interface HostVolumesOptions {
  /** Monotonic clock in ms for the writer leases (tests). @default performance.now */
  readonly clock?: () => number;
  /** Lines about the writer leases (taken, lost, taken back). @default none */
  readonly log?: (line: string) => void;
}

/**
 * The registry's volumes as one host's Docker volume plugin serves them: the same volumes the
 * CLI makes, mounted on this host (the cluster's `self`) under `mountRoot`, counted by Docker
 * mount ID in the mount records, so nothing lives in the plugin but what the export has.
 *
 * A single-writer volume is mounted here only while this host holds its writer lease
 * (`locks/writer-<volume>/`, renewed in the background while the volume is mounted here), so
 * a second host is refused while this one is alive and takes over once it stops renewing.
 */
export class HostVolumes {
  readonly host: string;
  readonly mountRoot: string;
  private readonly writers = new Map<string, HeldLease>();
  /** One mount or unmount at a time per volume in this process: the writer lease follows them. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private leaseManager: LeaseManager | undefined;
  private readonly log: (line: string) => void;

  constructor(
    private readonly cluster: Cluster,
    host: string,
    mountRoot: string,
    private readonly options: HostVolumesOptions = {},
  ) {
    this.host = validateName(host, 'host');
    this.mountRoot = validateMountPath(mountRoot).replace(/\/+$/, '');
    this.log = options.log ?? (() => undefined);
  }

  /** Length of the writer lease, the cluster's (every host must judge it the same). */
  get writerLeaseMs(): number {
    return this.cluster.registry.cluster.writerLeaseMs ?? DEFAULT_WRITER_LEASE_MS;
  }

  /**
   * After a start: drops this host's mount records whose path the kernel has not mounted (the
   * host rebooted: no container uses them), and takes back the writer lease of single-writer
   * volumes still mounted here (this host's own lease, adopted at once). Per volume; a failure
   * is reported and the rest goes on.
   */
  async recover(): Promise<{
    readonly forgotten: string[];
    readonly held: string[];
    readonly failed: string[];
  }> {
    const forgotten: string[] = [];
    const held: string[] = [];
    const failed: string[] = [];
    for (const rec of await this.cluster.mountsOnHost(this.host)) {
      try {
        const state = await this.cluster.forgetIfUnmounted(rec.volume, this.host);
        if (state === 'forgotten') forgotten.push(rec.volume);
        if (state !== 'mounted' || (rec.users ?? []).length === 0) continue;
        const vol = await this.cluster.getVolume(rec.volume);
        if (vol.access !== 'single-writer') continue;
        await this.serial(rec.volume, () => this.holdWriter(rec.volume));
        held.push(rec.volume);
      } catch (err) {
        failed.push(rec.volume);
        const e = errorInfo(err);
        this.log(`${rec.volume}: not recovered: ${e.message} (${e.code})`);
      }
    }
    return { forgotten, held, failed };
  }

  /**
   * Stops renewing the writer leases without releasing them: containers here may still write
   * the volumes, so another host gets them only after one lease without renewal, and this host
   * takes them back at once when its plugin starts again (`recover`).
   */
  close(): Promise<void> {
    for (const lease of this.writers.values()) lease.abandon();
    this.writers.clear();
    return Promise.resolve();
  }

  mountpointOf(name: string): string {
    return `${this.mountRoot}/${name}`;
  }

  /**
   * Creates the volume (directory and record; registered hosts owe its definition to the next
   * `sync`, as this host has no SSH to them). Docker sends it again on every node and for every
   * `docker volume create`: the same volume asked again is success, other options an error.
   */
  async create(name: string, spec: HostVolumeSpec): Promise<void> {
    const res = await this.cluster.createVolumes([name], {
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
      ...(spec.mode === undefined ? {} : { mode: spec.mode }),
      ...(spec.onDelete === undefined ? {} : { onDelete: spec.onDelete }),
      ...(spec.labels === undefined ? {} : { labels: spec.labels }),
      ...(spec.mountOptions === undefined ? {} : { mountOptions: spec.mountOptions }),
      ...(spec.access === undefined ? {} : { access: spec.access }),
      hosts: 'owe',
    });
    const outcome = res.volumes[0];
    if (!outcome || outcome.status === 'failed') throw errorOf(outcome?.error, name);
    if (outcome.status === 'exists') {
      const differs = differences(await this.cluster.getVolume(name), spec);
      if (differs.length > 0) {
        throw new NfsvolError(
          'VOLUME_OPTIONS_DIFFER',
          `${name} exists with other options: ${differs.join(', ')}; use 'nfsvol volume update' to change them`,
        );
      }
    }
  }

  /** Removes the volume by its policy; refused while any host mounts it. */
  async remove(name: string): Promise<void> {
    const res = await this.cluster.removeVolumes([name]);
    const outcome = res.volumes[0];
    if (outcome?.status !== 'removed') throw errorOf(outcome?.error, name);
  }

  /**
   * Mounts the volume here for one Docker mount ID; every ID shares one mount. A single-writer
   * volume first needs its writer lease: VOLUME_HELD names the host that has it.
   */
  async mount(name: string, id: string): Promise<string> {
    const path = this.mountpointOf(validateName(name, 'volume'));
    return this.serial(name, async () => {
      const single = (await this.cluster.getVolume(name)).access === 'single-writer';
      if (single) await this.holdWriter(name);
      try {
        await this.cluster.mountVolume({ volume: name, host: this.host, path, user: id });
      } catch (err) {
        if (single && !(await this.usedHere(name))) await this.dropWriter(name);
        throw err;
      }
      return path;
    });
  }

  async unmount(name: string, id: string): Promise<void> {
    await this.serial(name, async () => {
      const res = await this.cluster.releaseMount({ volume: name, host: this.host, user: id });
      if (res === 'unmounted') await this.dropWriter(name);
    });
  }

  /** The writer lease of a single-writer volume, held by this process from now on. */
  private async holdWriter(name: string): Promise<void> {
    const cur = this.writers.get(name);
    if (cur && !cur.signal.aborted) return;
    this.leaseManager ??= new LeaseManager(this.cluster.registry.fs, `${this.cluster.registry.root}/locks`, {
      leaseMs: this.writerLeaseMs,
      // Long enough to see a dead holder's lease go stale, and a little more.
      timeoutMs: this.writerLeaseMs * 2 + 5_000,
      holder: this.host,
      command: `plugin on ${this.host}`,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
    });
    let lease: HeldLease;
    try {
      lease = await this.leaseManager.acquire(writerLeaseKey(name), {
        refuseLive: true,
        adoptFrom: this.host,
      });
    } catch (err) {
      if (!(err instanceof LeaseHeldError)) throw err;
      throw new NfsvolError(
        'VOLUME_HELD',
        `${name} is single-writer and held by ${err.holder}; it mounts here once ${err.holder} releases it or stops renewing its lease for ${Math.round(this.writerLeaseMs / 1000)} s`,
        { cause: err },
      );
    }
    this.writers.set(name, lease);
    this.log(`${name}: writer lease taken`);
    lease.signal.addEventListener('abort', () => {
      if (this.writers.get(name) !== lease) return;
      this.writers.delete(name);
      this.log(`${name}: writer lease lost (the export did not confirm a renewal in time); taking it back`);
      void this.takeBack(name);
    });
  }

  /**
   * After a lost lease (the export did not answer in time) while containers here still use the
   * volume: takes the lease back if no other host took it meanwhile, trying every quarter lease.
   */
  private async takeBack(name: string): Promise<void> {
    for (;;) {
      await new Promise((r) => setTimeout(r, this.writerLeaseMs / 4).unref());
      try {
        await this.serial(name, async () => {
          if (!this.writers.has(name) && (await this.usedHere(name))) await this.holdWriter(name);
        });
        return;
      } catch (err) {
        const e = errorInfo(err);
        if (e.code === 'VOLUME_HELD' || e.code === 'NOT_FOUND') {
          this.log(`${name}: writer lease not taken back: ${e.message}`);
          return;
        }
        // The export still does not answer: try again.
      }
    }
  }

  private async dropWriter(name: string): Promise<void> {
    const lease = this.writers.get(name);
    if (!lease) return;
    this.writers.delete(name);
    await lease.release();
    this.log(`${name}: writer lease released`);
  }

  private async usedHere(name: string): Promise<boolean> {
    const mine = await this.cluster.mountOn(name, this.host);
    return (mine?.users ?? []).length > 0;
  }

  private serial<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(name) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.queues.set(name, settled);
    void settled.then(() => {
      if (this.queues.get(name) === settled) this.queues.delete(name);
    });
    return next;
  }

  /** Where the volume is mounted here for Docker, as this host's mount record says. */
  async path(name: string): Promise<string | undefined> {
    const mine = await this.cluster.mountOn(name, this.host);
    return mine && (mine.users ?? []).length > 0 ? mine.path : undefined;
  }

  async get(name: string): Promise<HostVolume> {
    const v = await this.cluster.getVolume(name);
    if (v.state === 'removing') throw new NfsvolError('NOT_FOUND', `${name} is being removed`);
    const mountpoint = await this.path(name);
    return { name, createdAt: v.createdAt, ...(mountpoint ? { mountpoint } : {}) };
  }

  /** Every volume (not those being removed), streamed from the registry. */
  async list(): Promise<HostVolume[]> {
    const out: HostVolume[] = [];
    for await (const v of this.cluster.streamVolumes()) {
      if (v.state !== 'removing') out.push({ name: v.name, createdAt: v.createdAt });
    }
    return out;
  }
}

/** The options a second Create asks for that the volume does not have. */
function differences(v: VolumeSummary, spec: HostVolumeSpec): string[] {
  const out: string[] = [];
  const octal = (m: number): string => `0${m.toString(8)}`;
  if (spec.uid !== undefined && spec.uid !== v.uid) out.push(`uid ${v.uid} (asked ${spec.uid})`);
  if (spec.gid !== undefined && spec.gid !== v.gid) out.push(`gid ${v.gid} (asked ${spec.gid})`);
  if (spec.mode !== undefined && spec.mode !== v.mode)
    out.push(`mode ${octal(v.mode)} (asked ${octal(spec.mode)})`);
  if (spec.onDelete !== undefined && spec.onDelete !== v.onDelete)
    out.push(`on-delete ${v.onDelete} (asked ${spec.onDelete})`);
  for (const [k, value] of Object.entries(spec.labels ?? {})) {
    if (v.labels[k] !== value) out.push(`label ${k}=${v.labels[k] ?? '(none)'} (asked ${value})`);
  }
  if (spec.access !== undefined && spec.access !== v.access)
    out.push(`access ${v.access} (asked ${spec.access})`);
  if (spec.mountOptions !== undefined && spec.mountOptions.join(',') !== v.mountOptions.join(',')) {
    out.push(`mount-options ${v.mountOptions.join(',') || '(none)'} (asked ${spec.mountOptions.join(',')})`);
  }
  return out;
}

/** An outcome's error as a typed error again (its code, if the catalogue knows it). */
function errorOf(info: ErrorInfo | undefined, name: string): NfsvolError {
  if (!info) return new NfsvolError('INTERNAL', `${name}: no outcome`);
  return new NfsvolError(isErrorCode(info.code) ? info.code : 'INTERNAL', info.message);
}
