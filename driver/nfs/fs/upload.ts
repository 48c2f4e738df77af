import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { runWorkers } from '../../common/concurrency.js';
import { NfsvolError } from '../../common/errors.js';
import { StableHow, type Fh } from '../nfs3/index.js';
import { TRANSFER_CONCURRENCY, type TransferOptions, type TransferResult } from '../types.js';
import type { WritePort } from './port.js';

/** What upload needs of the client: WRITE and COMMIT, and the file's life around them. */
export interface UploadTarget extends WritePort {
  /** Creates (or truncates) the file the bytes go to and returns its handle and path. */
  create(): Promise<{ fh: Fh; path: string }>;
  /** Puts the finished file in place (a RENAME over the destination). */
  finish(path: string): Promise<void>;
  /** Removes the unfinished file after a failure. */
  abandon(path: string): Promise<void>;
}

interface Written {
  readonly offset: number;
  readonly length: number;
  readonly verf: Uint8Array;
}

/**
 * Copies a local file to the export, like libnfs's nfs-cp: `concurrency` workers each read a
 * chunk of the local file into their own buffer (lent again for every chunk, so nothing is
 * allocated per chunk) and send it as an UNSTABLE WRITE. A COMMIT goes out in the background each
 * time `commitEvery` bytes have been written, and one at the end. A COMMIT whose verifier differs
 * from a chunk's WRITE means the server restarted and may have lost it: that chunk is read again
 * from the local file and written with FILE_SYNC, so no written data is held in memory for it.
 * The file is written under a temporary name and renamed over the destination when complete.
 */
export async function upload(
  local: string,
  target: UploadTarget,
  chunkSize: number,
  options: TransferOptions & { readonly commitEvery?: number } = {},
): Promise<TransferResult> {
  const fd = openSync(local, 'r');
  try {
    const size = fstatSync(fd).size;
    const concurrency = options.concurrency ?? TRANSFER_CONCURRENCY;
    const commitEvery = options.commitEvery ?? Math.max(16 << 20, 2 * chunkSize * concurrency);
    const { fh, path } = await target.create();
    let next = 0;
    let bytes = 0;
    let written: Written[] = [];
    let uncommitted = 0;
    let committing: Promise<void> | undefined;
    let commitError: unknown;

    const readChunk = (buf: Buffer, offset: number, length: number): Buffer => {
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, offset + got);
        if (n === 0) {
          throw new NfsvolError('LOCAL_FILE_CHANGED', `${local} shrank while it was being uploaded`);
        }
        got += n;
      }
      return buf.subarray(0, length);
    };

    const commit = async (): Promise<void> => {
      const batch = written;
      written = [];
      uncommitted = 0;
      if (batch.length === 0) return;
      const verf = await target.commit(fh, path);
      const buf = Buffer.allocUnsafe(chunkSize);
      for (const w of batch) {
        if (Buffer.compare(w.verf, verf) === 0) continue;
        await target.writeRange(fh, path, readChunk(buf, w.offset, w.length), w.offset, StableHow.FILE_SYNC);
      }
    };

    const worker = async (stopped: () => boolean): Promise<void> => {
      const lent = Buffer.allocUnsafe(chunkSize);
      while (!stopped() && commitError === undefined && next < size) {
        const offset = next;
        const length = Math.min(chunkSize, size - offset);
        next += length;
        const data = readChunk(lent, offset, length);
        const verf = await target.writeRange(fh, path, data, offset, StableHow.UNSTABLE);
        written.push({ offset, length, verf });
        uncommitted += length;
        bytes += length;
        options.onProgress?.(bytes, size);
        if (uncommitted >= commitEvery && !committing) {
          committing = commit()
            .catch((err: unknown) => {
              commitError ??= err;
            })
            .finally(() => (committing = undefined));
        }
      }
    };

    try {
      await runWorkers(concurrency, worker);
      await committing;
      if (commitError !== undefined) throw commitError;
      await commit();
      await target.finish(path);
    } catch (err) {
      await committing;
      await target.abandon(path).catch(() => undefined);
      throw err;
    }
    return { bytes };
  } finally {
    closeSync(fd);
  }
}
