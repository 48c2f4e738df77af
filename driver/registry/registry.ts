import { randomBytes } from 'node:crypto';
import type { NfsFs } from '../nfs/types.js';
import { hasNfsStatus } from '../nfs-status.js';
import { mapSettled, sleep } from '../concurrency.js';
import {
  IncompleteRecordError,
  LockTimeoutError,
  NotInitializedError,
  RecordExistsError,
  RecordNotFoundError,
} from './errors.js';
import {
  SCHEMA_VERSION,
  encodeRecord,
  parseRecord,
  type AnyRecord,
  type ClusterRecord,
  type LockRecord,
  type NfsSettings,
} from './records.js';

export interface RegistryOptions {
  /** Directory on the export that holds the registry. @default '.nfsvol' */
  readonly root?: string;
  /** Clock, injectable for tests. @default Date.now */
  readonly now?: () => number;
  /** Record reads kept in flight while listing. @default 64 */
  readonly listConcurrency?: number;
  /** A lock older than this is considered abandoned and broken. @default 30_000 */
  readonly lockStaleMs?: number;
  /** How long to wait for a lock before failing with LockTimeoutError. @default 15_000 */
  readonly lockTimeoutMs?: number;
}

type Kind = Exclude<AnyRecord['kind'], 'cluster' | 'lock'>;
type RecordOf<K extends AnyRecord['kind']> = Extract<AnyRecord, { kind: K }>;

export function randomId(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

/**
 * One directory of records, one file per record: `<dir>/<key>.json`. Records are created with
 * EXCLUSIVE create (so two writers can never both create one) and replaced by writing a
 * temporary file and RENAMEing it over the record (so readers see the old or the new bytes,
 * never a mix). There is no shared list file to race on.
 */
export class RecordCollection<K extends Kind> {
  constructor(
    private readonly fs: NfsFs,
    readonly dir: string,
    private readonly kind: K,
    private readonly tmpDir: string,
    private readonly listConcurrency: number,
    /** Listing cache (see list()); absent = every listing reads every record. */
    private readonly cacheFile?: string,
  ) {}

  path(key: string): string {
    return `${this.dir}/${key}.json`;
  }

  /** Reads a record; NOT_FOUND when absent, REGISTRY_INCOMPLETE when created but not yet written. */
  async get(key: string): Promise<RecordOf<K>> {
    const rec = await this.tryGet(key);
    if (!rec) throw new RecordNotFoundError(this.kind, key, this.path(key));
    return rec;
  }

  async tryGet(key: string): Promise<RecordOf<K> | undefined> {
    const file = this.path(key);
    let bytes: Buffer;
    try {
      bytes = await this.fs.readFile(file);
    } catch (err) {
      if (hasNfsStatus(err, 'NOENT')) return undefined;
      throw err;
    }
    if (bytes.length === 0) throw new IncompleteRecordError(file);
    return parseRecord(file, bytes, this.kind);
  }

  /** Creates a record atomically; fails with REGISTRY_EXISTS if one exists (whoever made it). */
  async create(key: string, record: RecordOf<K>): Promise<void> {
    try {
      await this.fs.createExclusive(this.path(key), encodeRecord(record));
    } catch (err) {
      if (hasNfsStatus(err, 'EXIST')) throw new RecordExistsError(this.path(key));
      throw err;
    }
  }

  /**
   * Replaces (or creates) a record atomically via a temporary file and RENAME. An existing
   * record that is corrupt or from a newer schema is refused and left as it is.
   */
  async replace(key: string, record: RecordOf<K>): Promise<void> {
    const file = this.path(key);
    try {
      await this.tryGet(key);
    } catch (err) {
      // An empty record is a create that died midway: safe to complete it.
      if (!(err instanceof IncompleteRecordError)) throw err;
    }
    const tmp = `${this.tmpDir}/${this.kind}-${key}-${randomId()}.json`;
    await this.fs.writeFile(tmp, encodeRecord(record));
    try {
      await this.fs.rename(tmp, file);
    } catch (err) {
      await this.fs.rm(tmp).catch(() => undefined);
      throw err;
    }
  }

  /** Removes a record; resolves to false when it was already gone (idempotent). */
  async remove(key: string): Promise<boolean> {
    try {
      await this.fs.rm(this.path(key));
      return true;
    } catch (err) {
      if (hasNfsStatus(err, 'NOENT')) return false;
      throw err;
    }
  }

  /** Keys of all records, streamed from the directory. */
  async keys(): Promise<string[]> {
    const keys: string[] = [];
    try {
      for await (const e of this.fs.readdirIter(this.dir)) {
        if (e.name.endsWith('.json') && e.name.length > 5) keys.push(e.name.slice(0, -5));
      }
    } catch (err) {
      if (hasNfsStatus(err, 'NOENT')) return [];
      throw err;
    }
    return keys.sort();
  }

  /**
   * Reads every record, sorted by key. Records being created right now (empty) or removed
   * while listing are skipped; a corrupt or newer record fails the listing with its file name.
   *
   * With a cache file, a record whose directory entry (READDIRPLUS: fileid, size, mtime) matches
   * the cached one is taken from the cache instead of being read: records are never changed in
   * place (a replace RENAMEs a new file over them), so a changed record has a new fileid. The
   * cache is only a hint: missing, stale or corrupt, it costs reads, never correctness.
   */
  async list(): Promise<RecordOf<K>[]> {
    const entries: { key: string; stamp: string | undefined }[] = [];
    try {
      for await (const e of this.fs.readdirIter(this.dir)) {
        if (!e.name.endsWith('.json') || e.name.length <= 5) continue;
        const st = e.stat;
        const stamp =
          st && st.type === 'file' && st.size > 0
            ? `${e.fileid}:${st.size}:${st.mtime.getTime()}:${st.ctime.getTime()}`
            : undefined;
        entries.push({ key: e.name.slice(0, -5), stamp });
      }
    } catch (err) {
      if (hasNfsStatus(err, 'NOENT')) return [];
      throw err;
    }
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const cache = this.cacheFile ? await this.readCache() : new Map<string, CacheEntry>();
    const fresh = new Map<string, CacheEntry>();
    const out = new Array<RecordOf<K> | undefined>(entries.length);
    const misses: number[] = [];
    entries.forEach((e, i) => {
      const hit = e.stamp === undefined ? undefined : cache.get(e.key);
      if (hit && hit.stamp === e.stamp) {
        try {
          out[i] = parseRecord(this.path(e.key), Buffer.from(hit.text), this.kind);
          fresh.set(e.key, hit);
          return;
        } catch {
          // a bad cache entry is just a miss
        }
      }
      misses.push(i);
    });
    const settled = await mapSettled(misses, this.listConcurrency, async (i) => {
      const e = entries[i];
      if (!e) return;
      let bytes: Buffer;
      try {
        bytes = await this.fs.readFile(this.path(e.key));
      } catch (err) {
        if (hasNfsStatus(err, 'NOENT')) return;
        throw err;
      }
      if (bytes.length === 0) return; // being created
      out[i] = parseRecord(this.path(e.key), bytes, this.kind);
      if (e.stamp !== undefined) fresh.set(e.key, { stamp: e.stamp, text: bytes.toString('utf8') });
    });
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (this.cacheFile && (misses.length > 0 || fresh.size !== cache.size)) {
      await this.writeCache(fresh).catch(() => undefined);
    }
    return out.filter((r): r is RecordOf<K> => r !== undefined);
  }

  private async readCache(): Promise<Map<string, CacheEntry>> {
    const map = new Map<string, CacheEntry>();
    if (!this.cacheFile) return map;
    try {
      const json: unknown = JSON.parse((await this.fs.readFile(this.cacheFile)).toString('utf8'));
      const o = json as { schema?: unknown; kind?: unknown; entries?: unknown };
      if (o.schema !== SCHEMA_VERSION || o.kind !== `${this.kind}-cache` || !Array.isArray(o.entries))
        return map;
      for (const e of o.entries as unknown[]) {
        if (Array.isArray(e) && e.length === 3 && e.every((x) => typeof x === 'string')) {
          const [key, stamp, text] = e as [string, string, string];
          map.set(key, { stamp, text });
        }
      }
    } catch {
      // absent or unreadable: an empty cache
    }
    return map;
  }

  private async writeCache(entries: ReadonlyMap<string, CacheEntry>): Promise<void> {
    if (!this.cacheFile) return;
    const body = JSON.stringify({
      schema: SCHEMA_VERSION,
      kind: `${this.kind}-cache`,
      entries: [...entries].map(([k, v]) => [k, v.stamp, v.text]),
    });
    const tmp = `${this.tmpDir}/cache-${this.kind}-${randomId()}.json`;
    await this.fs.writeFile(tmp, body);
    await this.fs.rename(tmp, this.cacheFile).catch(async (err: unknown) => {
      await this.fs.rm(tmp).catch(() => undefined);
      throw err;
    });
  }
}

interface CacheEntry {
  /** `fileid:size:mtime:ctime` of the record file when it was read. */
  readonly stamp: string;
  readonly text: string;
}

/**
 * The cluster's state on the export, under `.nfsvol/`:
 *
 *     cluster.json            schema, cluster id, NFS settings (written once by init)
 *     volumes.cache.json      listing cache, validated entry by entry (a hint only)
 *     volumes/<name>.json     one per volume
 *     hosts/<name>.json       one per host, with its pinned SSH host key
 *     mounts/<vol>@<host>.json  host mounts made by `volume mount`
 *     pending/<host>.json     work a host owes because it was unreachable
 *     locks/<key>.lock        short-lived locks (EXCLUSIVE create, broken when stale)
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
  private readonly lockStaleMs: number;
  private readonly lockTimeoutMs: number;
  private readonly tmpDir: string;

  private constructor(
    readonly fs: NfsFs,
    readonly cluster: ClusterRecord,
    options: RegistryOptions,
  ) {
    this.root = options.root ?? '.nfsvol';
    this.now = options.now ?? Date.now;
    this.lockStaleMs = options.lockStaleMs ?? 30_000;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 15_000;
    this.tmpDir = `${this.root}/tmp`;
    this.archiveDir = `${this.root}/archive`;
    const c = options.listConcurrency ?? 64;
    this.volumes = new RecordCollection(
      fs,
      `${this.root}/volumes`,
      'volume',
      this.tmpDir,
      c,
      `${this.root}/volumes.cache.json`,
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
      bytes = await fs.readFile(file);
    } catch (err) {
      if (hasNfsStatus(err, 'NOENT')) throw new NotInitializedError('this export', err);
      throw err;
    }
    if (bytes.length === 0) throw new IncompleteRecordError(file);
    return new Registry(fs, parseRecord(file, bytes, 'cluster'), options);
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
    try {
      await fs.createExclusive(`${root}/cluster.json`, encodeRecord(cluster));
      return { registry: new Registry(fs, cluster, options), created: true };
    } catch (err) {
      if (!hasNfsStatus(err, 'EXIST')) throw err;
      return { registry: await Registry.open(fs, options), created: false };
    }
  }

  /** Path of a volume's data directory on the export (relative to the export root). */
  volumeDir(name: string): string {
    return name;
  }

  isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  /**
   * Runs `fn` holding the lock `key` (a file made with EXCLUSIVE create). A lock older than
   * `lockStaleMs` belongs to a process that died: it is moved aside with RENAME (only one
   * breaker can win that) and acquisition retried.
   */
  async withLock<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const file = `${this.root}/locks/${key}.lock`;
    const owner = `${process.pid}-${randomId(4)}`;
    const deadline = this.now() + this.lockTimeoutMs;
    let delay = 5;
    for (;;) {
      signal?.throwIfAborted();
      const rec: LockRecord = { schema: SCHEMA_VERSION, kind: 'lock', owner, acquiredAt: this.now() };
      try {
        await this.fs.createExclusive(file, encodeRecord(rec));
        break;
      } catch (err) {
        if (!hasNfsStatus(err, 'EXIST')) throw err;
      }
      const holder = await this.readLock(file);
      if (holder && this.now() - holder.acquiredAt > this.lockStaleMs) {
        await this.fs.rename(file, `${this.tmpDir}/stale-${randomId()}.lock`).catch(() => undefined);
        continue;
      }
      if (this.now() > deadline) throw new LockTimeoutError(file, holder?.owner ?? 'unknown');
      await sleep(delay, signal);
      delay = Math.min(delay * 2, 200);
    }
    try {
      return await fn();
    } finally {
      await this.fs.rm(file).catch(() => undefined);
    }
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

  private async readLock(file: string): Promise<LockRecord | undefined> {
    try {
      const bytes = await this.fs.readFile(file);
      // An empty lock file is one being written right now; treat it as fresh.
      if (bytes.length === 0)
        return { schema: SCHEMA_VERSION, kind: 'lock', owner: 'unknown', acquiredAt: this.now() };
      return parseRecord(file, bytes, 'lock');
    } catch (err) {
      if (hasNfsStatus(err, 'NOENT')) return undefined;
      // A garbled lock cannot be trusted to expire on its own: treat it as stale.
      return { schema: SCHEMA_VERSION, kind: 'lock', owner: 'corrupt', acquiredAt: 0 };
    }
  }
}
