import { Writable } from 'node:stream';
import { COMMIT, StableHow, type Fh } from './nfs3/index.js';
import type { NfsClient } from './client.js';
import { joinPath, splitPath } from './paths.js';

export interface NfsWriteStreamOptions {
  readonly chunkSize: number;
  readonly concurrency: number;
  /** Creates or truncates the file and returns its handle. */
  readonly create: () => Promise<Fh>;
  /** Unstable bytes kept for resending until a COMMIT confirms them. @default max(16 MiB, 4 x chunkSize x concurrency) */
  readonly commitWindow?: number;
}

interface Written {
  readonly offset: number;
  readonly data: Uint8Array;
  readonly verf: Uint8Array;
}

/**
 * A file written as UNSTABLE WRITEs, several in flight, then COMMITted. Written blocks are kept
 * until a COMMIT returns the same write verifier they were written under; a different verifier
 * means the server restarted and may have lost them, so they are written again with FILE_SYNC.
 * Memory is bounded by the commit window.
 */
export class NfsWriteStream extends Writable {
  private fh: Fh | undefined;
  private readonly path: string;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private offset = 0;
  private inFlight = 0;
  private waiting: ((err?: Error | null) => void) | undefined;
  private idle: (() => void) | undefined;
  private window: Written[] = [];
  private windowBytes = 0;
  private failure: Error | undefined;
  private readonly commitWindow: number;

  constructor(
    private readonly client: NfsClient,
    path: string,
    private readonly opts: NfsWriteStreamOptions,
  ) {
    super({ highWaterMark: opts.chunkSize * 2 });
    this.path = joinPath(splitPath(path));
    this.commitWindow = opts.commitWindow ?? Math.max(16 << 20, 4 * opts.chunkSize * opts.concurrency);
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.opts.create().then(
      (fh) => {
        this.fh = fh;
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.failure) return callback(this.failure);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    while (this.pendingBytes >= this.opts.chunkSize) this.dispatch(this.take(this.opts.chunkSize));
    if (this.windowBytes >= this.commitWindow) {
      this.settle()
        .then(() => this.commit())
        .then(() => callback(), callback);
      return;
    }
    if (this.inFlight < this.opts.concurrency) callback();
    else this.waiting = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.pendingBytes > 0) this.dispatch(this.take(this.pendingBytes));
    this.settle()
      .then(() => this.commit())
      .then(() => callback(), callback);
  }

  /** Cuts `n` bytes off the front of the pending buffers (no copy when one buffer suffices). */
  private take(n: number): Buffer {
    const first = this.pending[0]!;
    let block: Buffer;
    if (first.length >= n) {
      block = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.pending);
      block = all.subarray(0, n);
      this.pending = all.length > n ? [all.subarray(n)] : [];
    }
    this.pendingBytes -= n;
    return block;
  }

  private dispatch(data: Buffer): void {
    const offset = this.offset;
    this.offset += data.length;
    this.inFlight++;
    this.client.writeRange(this.fh!, this.path, data, offset, StableHow.UNSTABLE).then(
      (verf) => {
        this.window.push({ offset, data, verf });
        this.windowBytes += data.length;
        this.done();
      },
      (err: Error) => {
        this.failure ??= err;
        this.done();
      },
    );
  }

  private done(): void {
    this.inFlight--;
    const cb = this.waiting;
    if (cb && (this.inFlight < this.opts.concurrency || this.failure)) {
      this.waiting = undefined;
      cb(this.failure);
    }
    if (this.inFlight === 0) this.idle?.();
  }

  /** Waits for every WRITE in flight. */
  private async settle(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    this.idle = undefined;
    if (this.failure) throw this.failure;
  }

  private async commit(): Promise<void> {
    if (this.window.length === 0) return;
    const res = await this.client.call(COMMIT, { file: this.fh!, offset: 0, count: 0 }, this.path);
    for (const w of this.window) {
      if (Buffer.compare(w.verf, res.verf) !== 0) {
        await this.client.writeRange(this.fh!, this.path, w.data, w.offset, StableHow.FILE_SYNC);
      }
    }
    this.window = [];
    this.windowBytes = 0;
  }
}
