import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { NfsFs } from '../../nfs/types.js';

/**
 * The listing cache: one file on the export per record collection, so a listing on any machine
 * can skip reading records whose directory entry has not changed. It is a hint only: every line
 * is checked against the record file's attributes from READDIRPLUS, and a cache that is missing,
 * stale, corrupt or foreign costs reads, never a wrong answer.
 *
 * Format (JSON lines, sorted by key so a listing merges it with the sorted directory in one
 * pass, holding one line at a time):
 *
 *     {"format":"nfsvol-listing-cache","schema":1,"kind":"volume"}
 *     ["key","fileid:size:mtime:ctime","<the record file's text>"]
 *     ...
 */
export interface CacheLine {
  readonly key: string;
  /** `fileid:size:mtimeMs:ctimeMs` of the record file when its text was read or written. */
  readonly stamp: string;
  readonly text: string;
}

const FORMAT = 'nfsvol-listing-cache';
const CACHE_SCHEMA = 1;
/** A longer line is not from us: the cache ends there (records are a few hundred bytes). */
const MAX_LINE = 256 * 1024;
/**
 * Small READs and WRITEs, few in flight: the cache is merged line by line, so reading ahead
 * megabytes (the defaults for bulk data) would only hold a large cache in memory.
 */
const READ_SIZE = { chunkSize: 32 * 1024, concurrency: 2 } as const;
const WRITE_SIZE = { chunkSize: 256 * 1024, concurrency: 2, commitWindow: 1024 * 1024 } as const;
/** Lines are joined into blocks of this size before they reach the write stream. */
const BLOCK = 16 * 1024;

/** Stamp of a record file from its attributes: a replaced record (RENAME) has a new fileid. */
export function stampOf(st: {
  readonly type: string;
  readonly fileid: bigint;
  readonly size: number;
  readonly mtime: Date;
  readonly ctime: Date;
}): string | undefined {
  if (st.type !== 'file' || st.size <= 0) return undefined;
  return `${st.fileid}:${st.size}:${st.mtime.getTime()}:${st.ctime.getTime()}`;
}

function header(kind: string): string {
  return JSON.stringify({ format: FORMAT, schema: CACHE_SCHEMA, kind });
}

/**
 * Lines of a cache file in strictly increasing key order. Anything unexpected (no file, another
 * header, a malformed, overlong or out-of-order line) ends the stream quietly at that point.
 */
export async function* readCache(fs: NfsFs, file: string, kind: string): AsyncGenerator<CacheLine> {
  let stream: Readable;
  try {
    stream = fs.createReadStream(file, READ_SIZE);
  } catch {
    return;
  }
  // One decoder for the whole file: it holds the bytes of a character split between two READs
  // until the rest arrives, where decoding each chunk alone would turn both halves into U+FFFD.
  const decoder = new StringDecoder('utf8');
  let tail = '';
  let first = true;
  let last: string | undefined;
  try {
    for await (const chunk of stream) {
      tail += decoder.write(chunk as Buffer);
      let nl: number;
      while ((nl = tail.indexOf('\n')) >= 0) {
        const text = tail.slice(0, nl);
        tail = tail.slice(nl + 1);
        if (first) {
          if (text !== header(kind)) return;
          first = false;
          continue;
        }
        const line = parseLine(text);
        if (!line || (last !== undefined && line.key <= last)) return;
        last = line.key;
        yield line;
      }
      if (tail.length > MAX_LINE) return;
    }
  } catch {
    // absent or unreadable: the cache ends here
  } finally {
    stream.destroy();
  }
}

function parseLine(text: string): CacheLine | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'string')) {
      const [key, stamp, t] = v as [string, string, string];
      return { key, stamp, text: t };
    }
  } catch {
    // not a line of ours
  }
  return undefined;
}

/** Walks a cache file forward, key by key, for a merge with a sorted listing. */
export class CacheCursor {
  private readonly it: AsyncGenerator<CacheLine>;
  private head: CacheLine | undefined;
  private started = false;
  private done = false;
  /** Lines passed over because no record had their key (removed records). */
  skipped = 0;

  constructor(fs: NfsFs, file: string, kind: string) {
    this.it = readCache(fs, file, kind);
  }

  private async advance(): Promise<void> {
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      this.head = undefined;
    } else {
      this.head = r.value;
    }
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.advance();
  }

  /** The line for `key` (keys asked in increasing order), or undefined; earlier lines are skipped. */
  async take(key: string): Promise<CacheLine | undefined> {
    await this.start();
    while (!this.done && this.head && this.head.key < key) {
      this.skipped++;
      await this.advance();
    }
    if (this.head && this.head.key === key) {
      const line = this.head;
      await this.advance();
      return line;
    }
    return undefined;
  }

  /** Counts the lines left (keys after the last one asked for) and closes the file. */
  async finish(): Promise<void> {
    await this.start();
    while (!this.done) {
      this.skipped++;
      await this.advance();
    }
  }

  async close(): Promise<void> {
    await this.it.return(undefined);
  }
}

/**
 * Resolves when `out` can take more, or is closed (an error closes it; the writer records it).
 * One listener each, both removed: racing two `events.once()` left the loser's listeners on the
 * stream at every drain, past Node's leak warning on a 30,000-volume create.
 */
function drainedOrClosed(out: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}

/**
 * A new cache file, written line by line to a temporary file and RENAMEd over the cache at the
 * end, so readers see the old cache or the new one, never half of one.
 */
export class CacheWriter {
  private readonly out: Writable;
  private failed: Error | undefined;
  private last: string | undefined;
  private block = '';

  constructor(
    private readonly fs: NfsFs,
    private readonly file: string,
    private readonly tmp: string,
    kind: string,
  ) {
    this.out = fs.createWriteStream(tmp, WRITE_SIZE);
    this.out.on('error', (err) => {
      this.failed = err;
    });
    this.block = `${header(kind)}\n`;
  }

  async write(line: CacheLine): Promise<void> {
    if (this.failed) return;
    if (this.last !== undefined && line.key <= this.last) return; // keep the file sorted
    this.last = line.key;
    this.block += `${JSON.stringify([line.key, line.stamp, line.text])}\n`;
    if (this.block.length >= BLOCK) await this.flush();
  }

  private async flush(): Promise<void> {
    const text = this.block;
    this.block = '';
    if (text === '' || this.failed) return;
    if (!this.out.write(text)) {
      await drainedOrClosed(this.out);
    }
  }

  /** Copies the lines of the current cache whose keys come before `before` (all when undefined). */
  async copyFrom(kind: string, before?: string): Promise<void> {
    for await (const line of readCache(this.fs, this.file, kind)) {
      if (before !== undefined && line.key >= before) break;
      await this.write(line);
    }
  }

  /** Finishes the file and puts it in place of the cache. */
  async commit(): Promise<void> {
    try {
      await this.flush();
      if (this.failed) throw this.failed;
      this.out.end();
      await once(this.out, 'finish');
      await this.fs.rename(this.tmp, this.file);
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  async abort(): Promise<void> {
    this.out.destroy();
    await this.fs.rm(this.tmp).catch(() => undefined);
  }
}
