import type { NfsFs } from '../../nfs/types.js';
import { hasNfsStatus } from '../nfs-status.js';
import { IncompleteRecordError, NotInitializedError } from './errors.js';
import {
  MAX_RECORD_BYTES,
  SCHEMA_VERSION,
  encodeRecord,
  parseRecord,
  type ClusterRecord,
  type NfsSettings,
} from '../records.js';
import { randomId } from './ids.js';
import { LeaseManager, type Lease } from './lease.js';

export { randomId } from './ids.js';
export type { Lease } from './lease.js';

import { RecordCollection } from './collection.js';

export interface RegistryOptions {
  /** Directory on the export that holds the registry. @default '.nfsvol' */
  readonly root?: string;
  /** Clock, injectable for tests. @default Date.now */
  readonly now?: () => number;
  /** Record reads kept in flight while listing. @default 64 */
  readonly listConcurrency?: number;
  /**
   * Created records remembered for the listing cache: at this many they are merged into it in
   * the background (about 3.5 MB of records; each merge streams the whole cache once).
   * @default 10_000
   */
  readonly cacheFlushEvery?: number;
  /**
   * Directory entries a listing sorts in memory (about 130 bytes each); a larger directory is
   * sorted in runs of this many on local disk (os.tmpdir()) and merged. @default 16_384
   */
  readonly listSortRun?: number;
  /**
   * Length of a lease on a registry key (see docs/consistency.md): a CLI that dies holding one
   * delays the next command on that key by at most this long. @default 20_000
   */
  readonly leaseMs?: number;
  /** How long to wait for a held lease before failing with LOCK_TIMEOUT. @default 60_000 */
  readonly lockTimeoutMs?: number;
  /** Monotonic clock for leases, injectable for tests. @default performance.now */
  readonly clock?: () => number;
}

/**
 * The cluster's state on the export, under `.nfsvol/`:
 *
 *     cluster.json            schema, cluster id, NFS settings (written once by init)
 *     volumes.cache.jsonl     listing cache, validated entry by entry (a hint only)
 *     volumes/<name>.json     one per volume
 *     hosts/<name>.json       one per host, with its pinned SSH host key
 *     mounts/<vol>@<host>.json  host mounts made by `volume mount`
 *     pending/<host>.json     work a host owes because it was unreachable
 *     locks/<key>/            leases: one generation file each (lease.ts, docs/consistency.md)
 *     tmp/                    temporary files renamed over records
 *     archive/                volumes removed with the archive policy
 */
export class Registry {
  readonly volumes: RecordCollection<'volume'>;
  readonly hosts: RecordCollection<'host'>;
  readonly mounts: RecordCollection<'mount'>;
  readonly pending: RecordCollection<'pending'>;
  readonly root: string;
  readonly archiveDir: string;
  private readonly now: () => number;
  readonly leases: LeaseManager;
  private readonly tmpDir: string;

  private current: ClusterRecord;

  private constructor(
    readonly fs: NfsFs,
    cluster: ClusterRecord,
    options: RegistryOptions,
  ) {
    this.current = cluster;
    this.root = options.root ?? '.nfsvol';
    this.now = options.now ?? Date.now;
    this.leases = new LeaseManager(fs, `${this.root}/locks`, {
      ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
      ...(options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    });
    this.tmpDir = `${this.root}/tmp`;
    this.archiveDir = `${this.root}/archive`;
    const c = options.listConcurrency ?? 64;
    this.volumes = new RecordCollection(
      fs,
      `${this.root}/volumes`,
      'volume',
      this.tmpDir,
      c,
      `${this.root}/volumes.cache.jsonl`,
      options.cacheFlushEvery,
      options.listSortRun,
    );
    this.hosts = new RecordCollection(fs, `${this.root}/hosts`, 'host', this.tmpDir, c);
    this.mounts = new RecordCollection(fs, `${this.root}/mounts`, 'mount', this.tmpDir, c);
    this.pending = new RecordCollection(fs, `${this.root}/pending`, 'pending', this.tmpDir, c);
  }

  static readonly SUBDIRS = ['volumes', 'hosts', 'mounts', 'pending', 'locks', 'tmp', 'archive'] as const;

  /** Opens an existing registry; NOT_INITIALIZED when the export has none. */
  static async open(fs: NfsFs, options: RegistryOptions = {}): Promise<Registry> {
    const root = options.root ?? '.nfsvol';
    const file = `${root}/cluster.json`;
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file, { maxBytes: MAX_RECORD_BYTES });
    } catch (err) {
      if (hasNfsStatus(err, 'NOENT')) throw new NotInitializedError('this export', err);
      throw err;
    }
    if (bytes.length === 0)
      throw new IncompleteRecordError(file, "an 'nfsvol init' was interrupted; run it again");
    return new Registry(fs, parseRecord(file, bytes, 'cluster', 'cluster'), options);
  }

  /**
   * Creates the registry, or joins the one already there (`created: false`, its settings win).
   * cluster.json is created last and exclusively, so its presence means the layout is complete
   * and two concurrent inits agree on one cluster id.
   */
  static async init(
    fs: NfsFs,
    nfs: NfsSettings,
    options: RegistryOptions = {},
  ): Promise<{ registry: Registry; created: boolean }> {
    const root = options.root ?? '.nfsvol';
    for (const d of Registry.SUBDIRS) await fs.mkdirp(`${root}/${d}`, { mode: 0o755 });
    const now = options.now ?? Date.now;
    const cluster: ClusterRecord = {
      schema: SCHEMA_VERSION,
      kind: 'cluster',
      id: randomId(6),
      createdAt: new Date(now()).toISOString(),
      nfs,
    };
    const file = `${root}/cluster.json`;
    try {
      await fs.createExclusive(file, encodeRecord(cluster));
      return { registry: new Registry(fs, cluster, options), created: true };
    } catch (err) {
      if (!hasNfsStatus(err, 'EXIST')) throw err;
    }
    try {
      return { registry: await Registry.open(fs, options), created: false };
    } catch (err) {
      if (!(err instanceof IncompleteRecordError)) throw err;
    }
    // An init died between CREATE and WRITE: complete it (temporary file, then RENAME over the
    // empty one), then report whatever is there now, in case another init completed it too.
    const tmp = `${root}/tmp/cluster-${randomId()}.json`;
    await fs.writeFile(tmp, encodeRecord(cluster));
    await fs.rename(tmp, file);
    const registry = await Registry.open(fs, options);
    return { registry, created: registry.cluster.id === cluster.id };
  }

  /** The cluster's settings (cluster.json), as read at open or last changed by this process. */
  get cluster(): ClusterRecord {
    return this.current;
  }

  /**
   * Replaces cluster.json (temporary file, then RENAME). Callers hold the `cluster` lease and
   * build `next` from `readCluster()`, so two changes never lose one another.
   */
  async replaceCluster(next: ClusterRecord): Promise<void> {
    const tmp = `${this.tmpDir}/cluster-${randomId()}.json`;
    await this.fs.writeFile(tmp, encodeRecord(next));
    try {
      await this.fs.rename(tmp, `${this.root}/cluster.json`);
    } catch (err) {
      await this.fs.rm(tmp).catch(() => undefined);
      throw err;
    }
    this.current = next;
  }

  /** cluster.json as it is on the export now. */
  async readCluster(): Promise<ClusterRecord> {
    const file = `${this.root}/cluster.json`;
    const bytes = await this.fs.readFile(file, { maxBytes: MAX_RECORD_BYTES });
    if (bytes.length === 0)
      throw new IncompleteRecordError(file, "an 'nfsvol init' was interrupted; run it again");
    this.current = parseRecord(file, bytes, 'cluster', 'cluster');
    return this.current;
  }

  isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  /**
   * Runs `fn` holding the lease on `key` (see lease.ts and docs/consistency.md). `fn` gets the
   * lease: call `assertHeld()` before each step that changes the export or a host, and pass
   * `lease.signal` to long steps so they stop when the lease is lost.
   */
  withLock<T>(key: string, fn: (lease: Lease) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.leases.with(key, fn, signal);
  }

  /**
   * Removes temporary files older than `maxAgeMs` (left by a process that died between its
   * WRITE and its RENAME). Best effort; resolves to the number removed.
   */
  async sweepTmp(maxAgeMs = 3_600_000): Promise<number> {
    let removed = 0;
    try {
      for await (const e of this.fs.readdirIter(this.tmpDir)) {
        const st = e.stat;
        if (!st || st.type !== 'file' || this.now() - st.mtime.getTime() < maxAgeMs) continue;
        await this.fs.rm(`${this.tmpDir}/${e.name}`).then(
          () => removed++,
          () => undefined,
        );
      }
    } catch {
      // a listing failure only means nothing is swept this time
    }
    return removed;
  }
}
