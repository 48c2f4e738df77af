import { Writable } from 'node:stream';
import { StableHow, type Fh } from '../nfs3/index.js';
import { joinPath, splitPath } from '../paths.js';
import type { WritePort } from './port.js';

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
  /** The stream's own block `data` lies in, reused once the data is committed. */
  readonly block: Buffer | undefined;
}

/**
 * A file written as UNSTABLE WRITEs, several in flight, then COMMITted. Written blocks are kept
 * until a COMMIT returns the same write verifier they were written under; a different verifier
 * means the server restarted and may have lost them, so they are written again with FILE_SYNC.
 *
 * COMMITs overlap the writes: once half the commit window is written, a COMMIT goes out for the
 * blocks whose WRITE replies have come (the server flushes everything written before it), and
 * writing goes on; only a full window waits for it. Memory is bounded by the commit window.
 *
 * Data written in pieces smaller than a chunk (lines, say) is gathered into blocks of the
 * stream's own, and a block is used again once its data is committed. Fresh blocks would live
 * from their WRITE to their COMMIT, long enough for V8 to move them to the old generation, and
 * pile up there as garbage until a full GC: writing the listing cache of 40,000 volumes (15 MB)
 * left 13 MB of such blocks at its end.
 */
export class NfsWriteStream extends Writable {
  private fh: Fh | undefined;
  private readonly path: string;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Blocks whose data is committed, to gather the next pieces in. */
  private readonly spare: Buffer[] = [];
  private offset = 0;
  private inFlight = 0;
  private waiting: ((err?: Error | null) => void) | undefined;
  private idle: (() => void) | undefined;
  /** Written, not yet covered by a COMMIT. */
  private window: Written[] = [];
  private windowBytes = 0;
  /** Covered by the COMMIT in flight. */
  private committing: Promise<void> | undefined;
  private committingBytes = 0;
  private failure: Error | undefined;
  private readonly commitWindow: number;

  constructor(
    private readonly port: WritePort,
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
    while (this.pendingBytes >= this.opts.chunkSize) this.dispatch(...this.take(this.opts.chunkSize));
    this.maybeCommit();
    if (this.windowBytes + this.committingBytes >= this.commitWindow) {
      // The window is full: wait for the COMMIT in flight (or the writes, then one).
      this.settleCommit().then(() => callback(), callback);
      return;
    }
    if (this.inFlight < this.opts.concurrency) callback();
    else this.waiting = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.pendingBytes > 0) this.dispatch(...this.take(this.pendingBytes));
    this.settle()
      .then(() => this.committing)
      .then(() => this.commitNow())
      .then(() => callback(), callback);
  }

  /**
   * Cuts `n` bytes off the front of the pending buffers: a view of the first one when it holds
   * them (no copy), else gathered into one of the stream's blocks, which is returned with it.
   */
  private take(n: number): [data: Buffer, block: Buffer | undefined] {
    const first = this.pending[0]!;
    this.pendingBytes -= n;
    if (first.length >= n) {
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
      return [first.subarray(0, n), undefined];
    }
    const block = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.opts.chunkSize);
    let at = 0;
    while (at < n) {
      const piece = this.pending[0]!;
      const used = Math.min(piece.length, n - at);
      block.set(used === piece.length ? piece : piece.subarray(0, used), at);
      at += used;
      if (used === piece.length) this.pending.shift();
      else this.pending[0] = piece.subarray(used);
    }
    return [block.subarray(0, n), block];
  }

  private dispatch(data: Buffer, block: Buffer | undefined): void {
    const offset = this.offset;
    this.offset += data.length;
    this.inFlight++;
    this.port.writeRange(this.fh!, this.path, data, offset, StableHow.UNSTABLE).then(
      (verf) => {
        this.window.push({ offset, data, verf, block });
        this.windowBytes += data.length;
        this.maybeCommit();
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

  /** Starts a COMMIT in the background once half a window is written and none is in flight. */
  private maybeCommit(): void {
    if (this.committing || this.failure || this.windowBytes < this.commitWindow / 2) return;
    const run = this.commitNow().finally(() => {
      this.committing = undefined;
    });
    run.catch((err: Error) => {
      this.failure ??= err;
    });
    this.committing = run;
  }

  /** Room in the window: the COMMIT in flight done, or else the writes, then a COMMIT. */
  private async settleCommit(): Promise<void> {
    if (this.committing) await this.committing;
    if (this.windowBytes + this.committingBytes < this.commitWindow) return;
    await this.settle();
    if (this.committing) await this.committing;
    await this.commitNow();
  }

  /** COMMITs what is written now; resends with FILE_SYNC whatever the server may have lost. */
  private async commitNow(): Promise<void> {
    if (this.failure) throw this.failure;
    const batch = this.window;
    if (batch.length === 0) return;
    this.window = [];
    this.committingBytes += this.windowBytes;
    const bytes = this.windowBytes;
    this.windowBytes = 0;
    try {
      const verf = await this.port.commit(this.fh!, this.path);
      for (const w of batch) {
        if (Buffer.compare(w.verf, verf) !== 0) {
          await this.port.writeRange(this.fh!, this.path, w.data, w.offset, StableHow.FILE_SYNC);
        }
        if (w.block) this.spare.push(w.block);
      }
    } finally {
      this.committingBytes -= bytes;
    }
  }
}
