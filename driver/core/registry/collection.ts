import type { FileStat, NfsFs } from '../../nfs/types.js';
import { NfsvolError } from '../../common/errors.js';
import { hasNfsStatus } from '../nfs-status.js';
import { mapSettled } from '../../common/concurrency.js';
import {
  CorruptRecordError,
  IncompleteRecordError,
  RecordExistsError,
  RecordNotFoundError,
} from './errors.js';
import { MAX_RECORD_BYTES, encodeRecord, parseRecord, type AnyRecord } from '../records.js';
import { randomId } from './ids.js';
import { CacheCursor, CacheWriter, readCache, stampOf, type CacheLine } from './listing-cache.js';
import { EntrySorter } from './entry-sorter.js';

export type Kind = Exclude<AnyRecord['kind'], 'cluster'>;
export type RecordOf<K extends AnyRecord['kind']> = Extract<AnyRecord, { kind: K }>;

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
    /** Listing cache (see stream()); absent = every listing reads every record. */
    private readonly cacheFile?: string,
    private readonly flushEvery = 10_000,
    /** Directory entries a listing sorts in memory; more are sorted in runs on local disk. */
    private readonly sortRun = 16_384,
  ) {}

  /** Records this process created since the last flushCache(): key, stamp, text (see pack). */
  private created: string[] = [];
  /** The cache merge in progress (flushCache), if any. */
  private flushing: Promise<void> = Promise.resolve();

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
      // A handle the server no longer knows (it restarted, or the file was replaced): the
      // client forgets its handles on STALE, so reading again resolves the path afresh.
      bytes = await this.fs
        .readFile(file, { maxBytes: MAX_RECORD_BYTES })
        .catch((err: unknown) =>
          hasNfsStatus(err, 'STALE')
            ? this.fs.readFile(file, { maxBytes: MAX_RECORD_BYTES })
            : Promise.reject(err),
        );
    } catch (err) {
      if (hasNfsStatus(err, 'NOENT')) return undefined;
      if (isTooLarge(err)) throw new CorruptRecordError(file, `larger than ${MAX_RECORD_BYTES} bytes`, err);
      throw err;
    }
    if (bytes.length === 0) throw new IncompleteRecordError(file);
    return parseRecord(file, bytes, this.kind, key);
  }

  /** Creates a record atomically; fails with REGISTRY_EXISTS if one exists (whoever made it). */
  async create(key: string, record: RecordOf<K>): Promise<void> {
    const text = encodeRecord(record);
    let st: FileStat | undefined;
    try {
      st = await this.fs.createExclusive(this.path(key), text);
    } catch (err) {
      if (hasNfsStatus(err, 'EXIST')) throw new RecordExistsError(this.path(key));
      throw err;
    }
    const stamp = st && stampOf(st);
    if (this.cacheFile && stamp) {
      this.created.push(pack(key, stamp, text)); // JSON text has no raw NUL
      // A bulk create merges into the cache as it goes, so what it remembers stays bounded.
      if (this.created.length >= this.flushEvery) void this.flushCache().catch(() => undefined);
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
   */
  async list(options: ListOptions = {}): Promise<RecordOf<K>[]> {
    const out: RecordOf<K>[] = [];
    for await (const r of this.stream(options)) out.push(r);
    return out;
  }

  /**
   * Streams every record in key order, holding a bounded number of directory entries while they
   * are sorted (more are sorted in runs on local disk, see EntrySorter) and one window of records
   * at a time, so memory stays flat however many records there are.
   *
   * With a listing cache (see listing-cache.ts), a record whose directory entry (READDIRPLUS:
   * fileid, size, mtime, ctime) matches its cache line is taken from the cache instead of being
   * read: records are never changed in place (a replace RENAMEs a new file over them), so a
   * changed record has a new fileid. Misses are read by the handle READDIRPLUS gave, one READ
   * each, many in flight. The cache is rewritten (streamed, then RENAMEd) only when it changed.
   */
  async *stream(options: ListOptions = {}): AsyncGenerator<RecordOf<K>> {
    await using entries = new EntrySorter(this.sortRun);
    const longestKey = await this.entries(entries);
    options.onKeys?.({ count: entries.count, longestKey });
    const stats = { records: 0, read: 0, cached: 0 };
    const cursor = this.cacheFile ? new CacheCursor(this.fs, this.cacheFile, this.kind) : undefined;
    let writer: CacheWriter | undefined;
    let dirty = false;
    const startWriter = async (before?: string): Promise<CacheWriter | undefined> => {
      if (!this.cacheFile) return undefined;
      const w = new CacheWriter(this.fs, this.cacheFile, this.cacheTmp(), this.kind);
      await w.copyFrom(this.kind, before);
      return w;
    };
    try {
      for await (const batch of batches(entries.sorted(), LIST_WINDOW)) {
        const window = batch.map(unpackEntry);
        const lines = new Array<CacheLine | undefined>(window.length);
        const out = new Array<RecordOf<K> | undefined>(window.length);
        const misses: number[] = [];
        for (const [i, e] of window.entries()) {
          const seen = cursor?.skipped ?? 0;
          const line = cursor ? await cursor.take(e.key) : undefined;
          if (cursor && cursor.skipped !== seen) dirty = true; // lines of removed records
          if (line && e.stamp !== undefined && line.stamp === e.stamp) {
            try {
              out[i] = parseRecord(this.path(e.key), line.text, this.kind, e.key);
              lines[i] = line;
              stats.cached++;
              continue;
            } catch {
              // a bad cache line is just a miss
            }
          }
          if (line) dirty = true; // a stale line goes
          misses.push(i);
        }
        const settled = await mapSettled(misses, this.listConcurrency, async (i) => {
          const e = window[i]!;
          let bytes: Buffer;
          try {
            bytes = await this.fs
              .readFile(this.path(e.key), {
                maxBytes: MAX_RECORD_BYTES,
                ...(e.handle ? { handle: e.handle } : {}),
              })
              // The listing's handle went stale (the record was replaced, or the server
              // restarted): read it by name; only NOENT then means it was removed.
              .catch((err: unknown) =>
                hasNfsStatus(err, 'STALE')
                  ? this.fs.readFile(this.path(e.key), { maxBytes: MAX_RECORD_BYTES })
                  : Promise.reject(err),
              );
          } catch (err) {
            if (hasNfsStatus(err, 'NOENT')) return; // removed meanwhile
            throw err;
          }
          stats.read++;
          if (bytes.length === 0) return; // being created
          out[i] = parseRecord(this.path(e.key), bytes, this.kind, e.key);
          if (e.stamp !== undefined) {
            lines[i] = { key: e.key, stamp: e.stamp, text: bytes.toString('utf8') };
            dirty = true;
          }
        });
        const failed = settled.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
        // The first change: the new cache starts with the old one's lines before this window
        // (all of them matched, or the change would have come earlier).
        if (dirty && !writer) writer = await startWriter(window[0]!.key);
        for (const [i, r] of out.entries()) {
          const line = lines[i];
          if (writer && line) await writer.write(line);
          if (r) {
            stats.records++;
            yield r;
          }
        }
      }
      if (cursor) {
        await cursor.finish();
        if (cursor.skipped > 0) dirty = true;
      }
      if (dirty && !writer) writer = await startWriter();
      if (writer) {
        const w = writer;
        writer = undefined;
        await w.commit().catch(() => undefined); // a hint: failing to save it costs nothing
      }
      options.onStats?.(stats);
    } finally {
      await cursor?.close();
      await writer?.abort();
    }
  }

  /**
   * Adds the directory's record names with their attribute stamps and handles, packed, to
   * `entries` (which sorts them by key); returns the length of the longest key.
   */
  private async entries(entries: EntrySorter): Promise<number> {
    let longest = 0;
    try {
      // Small pages: each one's decoded entries (names, attributes, handles) are dropped as
      // soon as its names and stamps are taken, so a big directory never sits decoded whole.
      for await (const e of this.fs.readdirIter(this.dir, { pageBytes: 128 * 1024 })) {
        if (!e.name.endsWith('.json') || e.name.length <= 5) continue;
        const h = e.handle;
        const handle = h ? Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('latin1') : '';
        const key = e.name.slice(0, -5);
        longest = Math.max(longest, key.length);
        await entries.add(pack(key, (e.stat && stampOf(e.stat)) ?? '', handle)); // sorted by key: see pack
      }
    } catch (err) {
      if (hasNfsStatus(err, 'NOENT')) return 0;
      throw err;
    }
    return longest;
  }

  private cacheTmp(): string {
    return `${this.tmpDir}/cache-${this.kind}-${randomId()}.jsonl`;
  }

  /**
   * Adds the records this process created to the listing cache (merged in one streamed pass),
   * so the next listing anywhere need not read them. Best effort: it is only a hint.
   */
  flushCache(): Promise<void> {
    const packed = this.created;
    this.created = [];
    // One merge at a time: each rewrites the whole cache, and a later one must include the
    // lines an earlier one added.
    const run = this.flushing.then(() => this.mergeIntoCache(packed));
    this.flushing = run.catch(() => undefined);
    return run;
  }

  private async mergeIntoCache(packed: string[]): Promise<void> {
    packed.sort(); // by key: see pack
    if (!this.cacheFile || packed.length === 0) return;
    const w = new CacheWriter(this.fs, this.cacheFile, this.cacheTmp(), this.kind);
    // Each unpacked only when the merge writes it.
    const take = (i: number): CacheLine => {
      const [key, stamp, text] = unpack(packed[i]!);
      return { key, stamp, text };
    };
    try {
      let i = 0;
      for await (const old of readCache(this.fs, this.cacheFile, this.kind)) {
        while (i < packed.length && packedKey(packed[i]!) < old.key) await w.write(take(i++));
        if (i < packed.length && packedKey(packed[i]!) === old.key) await w.write(take(i++));
        else await w.write(old);
      }
      while (i < packed.length) await w.write(take(i++));
    } catch (err) {
      await w.abort();
      throw err;
    }
    await w.commit();
  }
}

export interface KeysSummary {
  readonly count: number;
  readonly longestKey: number;
}

export interface ListOptions {
  /** Called once the directory is read, before the first record: how many, the longest key. */
  readonly onKeys?: (summary: KeysSummary) => void;
  /** Called at the end of a listing: records listed, read from the export, taken from the cache. */
  readonly onStats?: (stats: { records: number; read: number; cached: number }) => void;
}

interface ListEntry {
  readonly key: string;
  readonly stamp: string | undefined;
  readonly handle: Uint8Array | undefined;
}

/**
 * A listing holds every directory entry until it is sorted, and a bulk create every record it
 * made, so each is packed into one flat string: key, stamp and a third field (the handle as
 * latin1, or the record's text) joined by NUL, which keys and stamps never contain. Sorting the
 * strings sorts by key (a key that is a prefix of another comes first, as NUL sorts before every
 * character). About 130 bytes an entry instead of about 850 for an object with two strings and a
 * typed array; see BENCHMARKS.md (memory).
 */
function pack(key: string, stamp: string, rest: string): string {
  return [key, stamp, rest].join('\0');
}

function unpack(packed: string): [key: string, stamp: string, rest: string] {
  const a = packed.indexOf('\0');
  const b = packed.indexOf('\0', a + 1);
  return [packed.slice(0, a), packed.slice(a + 1, b), packed.slice(b + 1)];
}

function packedKey(packed: string): string {
  return packed.slice(0, packed.indexOf('\0'));
}

function unpackEntry(packed: string): ListEntry {
  const [key, stamp, handle] = unpack(packed);
  return {
    key,
    stamp: stamp === '' ? undefined : stamp,
    handle: handle === '' ? undefined : new Uint8Array(Buffer.from(handle, 'latin1')),
  };
}

/** Records a listing holds at once (read, parsed, yielded in order). */
const LIST_WINDOW = 512;

async function* batches<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

function isTooLarge(err: unknown): boolean {
  return err instanceof NfsvolError && err.code === 'NFS_TOO_LARGE';
}
