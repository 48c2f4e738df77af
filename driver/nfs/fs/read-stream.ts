import { Readable } from 'node:stream';
import type { Fh } from '../nfs3/index.js';
import { joinPath, splitPath } from '../paths.js';
import type { ReadPort } from './port.js';
import { checkRead, readError } from './read-check.js';

interface Chunk {
  readonly data: Uint8Array;
  readonly eof: boolean;
  /** The file size the last reply reported, when it carried attributes. */
  readonly size: number | undefined;
}

/**
 * A file read with several READ calls in flight at increasing offsets, pushed in order. Reads
 * are planned up to the size GETATTR reported and go on past it until the server says EOF, so a
 * file that grows while being read is read to its end.
 *
 * Every reply is checked (see checkRead): a server cannot keep it going with empty replies or
 * with data past the end of the file its own attributes report. Data past the last size known
 * from a reply without attributes is confirmed with a GETATTR (a file that grew shows it). With
 * `maxBytes`, no read is planned past that offset and data beyond it fails with NFS_TOO_LARGE.
 */
export class NfsReadStream extends Readable {
  private fh: Fh | undefined;
  private limit = 0;
  private next = 0;
  /** The file size last reported by the server. */
  private size: number | undefined;
  private readonly queue: { offset: number; count: number; result: Promise<Chunk> }[] = [];
  private draining = false;
  private wanted = false;
  private finished = false;
  private readonly path: string;

  constructor(
    private readonly port: ReadPort,
    path: string,
    private readonly chunkSize: number,
    private readonly concurrency: number,
    /**
     * Go on from `offset` of a file already resolved (readFile after its first READ), whose size
     * the server reported as `size` if it did.
     */
    private readonly from?: { readonly fh: Fh; readonly offset: number; readonly size?: number | undefined },
    /** Offset no data may pass: NFS_TOO_LARGE if it does. @default no limit */
    private readonly maxBytes = Number.POSITIVE_INFINITY,
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
      this.size = this.from.size;
      this.limit =
        this.size === undefined
          ? this.next + this.chunkSize * this.concurrency
          : Math.max(this.size, this.next + 1);
      callback();
      return;
    }
    this.port
      .resolve(this.path)
      .then(async (fh) => {
        this.fh = fh;
        const attrs = await this.port.statHandle(fh, this.path);
        this.size = attrs.size;
        if (attrs.size > this.maxBytes) throw this.tooLarge(`the server reports ${attrs.size} bytes`);
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
    const res = await this.port.readRange(fh, this.path, offset, count);
    const size = checkRead(res, offset, count, this.path);
    if (res.data.length >= count || res.eof) return { data: res.data, eof: res.eof, size };
    const rest = await this.readFull(fh, offset + res.data.length, count - res.data.length);
    return { data: Buffer.concat([res.data, rest.data]), eof: rest.eof, size: rest.size };
  }

  private fill(fh: Fh): void {
    while (this.queue.length < this.concurrency && this.next < this.limit && this.next <= this.maxBytes) {
      const count = this.chunkSize;
      const offset = this.next;
      const result = this.readFull(fh, offset, count);
      result.catch(() => undefined); // awaited in order by drain(); don't report it twice
      this.queue.push({ offset, count, result });
      this.next += count;
    }
  }

  private tooLarge(what: string): Error {
    return readError('NFS_TOO_LARGE', this.path, `${what}, over maxBytes (${this.maxBytes})`);
  }

  /** Data up to `end` came in a reply without attributes: asks whether the file really is that long. */
  private async confirmSize(fh: Fh, end: number): Promise<void> {
    const now = (await this.port.statHandle(fh, this.path)).size;
    if (now < end) {
      throw readError(
        'NFS_PROTOCOL',
        this.path,
        `server returned data up to offset ${end}, past the end of the file it reports (${now} bytes)`,
      );
    }
    this.size = now;
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
          if (this.next > this.maxBytes) throw this.tooLarge('the file is longer');
          this.limit = this.next + this.chunkSize * this.concurrency;
          continue;
        }
        const chunk = await head.result;
        if (this.destroyed) return;
        const end = head.offset + chunk.data.length;
        if (chunk.size !== undefined) this.size = chunk.size;
        else if (this.size !== undefined && end > this.size) {
          await this.confirmSize(this.fh, end);
          if (this.destroyed) return;
        }
        if (end > this.maxBytes) throw this.tooLarge('the file is longer');
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
