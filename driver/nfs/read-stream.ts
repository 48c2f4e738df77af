import { Readable } from 'node:stream';
import { GETATTR, READ, type Fh } from './nfs3/index.js';
import type { NfsClient } from './client.js';
import { joinPath, splitPath } from './paths.js';

interface Chunk {
  readonly data: Uint8Array;
  readonly eof: boolean;
}

/**
 * A file read with several READ calls in flight at increasing offsets, pushed in order. Reads
 * are planned up to the size GETATTR reported and go on past it until the server says EOF, so a
 * file that grows while being read is read to its end.
 */
export class NfsReadStream extends Readable {
  private fh: Fh | undefined;
  private limit = 0;
  private next = 0;
  private readonly queue: { count: number; result: Promise<Chunk> }[] = [];
  private draining = false;
  private wanted = false;
  private finished = false;
  private readonly path: string;

  constructor(
    private readonly client: NfsClient,
    path: string,
    private readonly chunkSize: number,
    private readonly concurrency: number,
    /** Go on from `offset` of a file already resolved (readFile after its first READ). */
    private readonly from?: { readonly fh: Fh; readonly offset: number },
  ) {
    // One chunk buffered: the READs in flight are the read-ahead. A larger buffer lets read()
    // (and so `for await`) hand out several chunks joined into a new buffer: a copy of every
    // byte and an allocation the size of the buffer.
    super({ highWaterMark: chunkSize });
    this.path = joinPath(splitPath(path));
  }

  override _construct(callback: (error?: Error | null) => void): void {
    if (this.from) {
      this.fh = this.from.fh;
      this.next = this.from.offset;
      this.limit = this.next + this.chunkSize * this.concurrency;
      callback();
      return;
    }
    this.client
      .resolve(this.path)
      .then(async (fh) => {
        this.fh = fh;
        const attrs = (await this.client.call(GETATTR, { object: fh }, this.path)).objAttributes;
        this.limit = Math.max(attrs.size, 1);
        callback();
      })
      .catch((err: Error) => callback(err));
  }

  override _read(): void {
    this.wanted = true;
    void this.drain();
  }

  /** Reads exactly `count` bytes at `offset` unless EOF comes first (short reads are continued). */
  private async readFull(fh: Fh, offset: number, count: number): Promise<Chunk> {
    const res = await this.client.call(READ, { file: fh, offset, count }, this.path);
    if (res.data.length >= count || res.eof) return { data: res.data, eof: res.eof };
    if (res.data.length === 0) return { data: res.data, eof: true };
    const rest = await this.readFull(fh, offset + res.data.length, count - res.data.length);
    return { data: Buffer.concat([res.data, rest.data]), eof: rest.eof };
  }

  private fill(fh: Fh): void {
    while (this.queue.length < this.concurrency && this.next < this.limit) {
      const count = this.chunkSize;
      const result = this.readFull(fh, this.next, count);
      result.catch(() => undefined); // awaited in order by drain(); don't report it twice
      this.queue.push({ count, result });
      this.next += count;
    }
  }

  private async drain(): Promise<void> {
    if (this.draining || this.finished || !this.fh) return;
    this.draining = true;
    try {
      while (this.wanted && !this.finished) {
        this.fill(this.fh);
        const head = this.queue.shift();
        if (!head) {
          // Planned reads done and no EOF yet: the file grew; keep going.
          this.limit = this.next + this.chunkSize * this.concurrency;
          continue;
        }
        const chunk = await head.result;
        if (this.destroyed) return;
        if (chunk.data.length > 0) {
          const d = chunk.data;
          this.wanted = this.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
        }
        if (chunk.eof || chunk.data.length < head.count) {
          this.finished = true;
          this.queue.length = 0;
          this.push(null);
        }
      }
    } catch (err) {
      this.finished = true;
      this.destroy(err as Error);
    } finally {
      this.draining = false;
    }
  }
}
