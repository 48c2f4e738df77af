import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { runWorkers } from '../../common/concurrency.js';
import { REPLY_OVERHEAD } from '../rpc/procedure.js';
import { joinPath, splitPath } from '../paths.js';
import { TRANSFER_CONCURRENCY, type TransferOptions, type TransferResult } from '../types.js';
import type { ReadPort } from './port.js';
import { checkRead, readError } from './read-check.js';

/**
 * Copies a file from the export to a local path, like libnfs's nfs-cp: `concurrency` workers
 * each keep one READ in flight and write what it brings at its offset in the local file
 * (positional writes, so chunks land in any order). The writes are synchronous: a 1 MiB write
 * into the page cache takes a fraction of a millisecond, and handing it to libuv's threads
 * instead cost twice the CPU here (the reads compete with the server for it). Each worker lends
 * one reply buffer for all of its READs: no memory is allocated per chunk. The copy goes to a
 * temporary file beside `local` that is renamed over it at the end, so a failed copy leaves
 * `local` as it was. A file that grows while it is copied is copied to its end, but every reply
 * is checked (checkRead), and data past the size last reported is confirmed with a GETATTR: a
 * server cannot keep the copy going, filling the local disk, with a file it says is shorter.
 */
export async function download(
  port: ReadPort,
  remote: string,
  local: string,
  chunkSize: number,
  options: TransferOptions = {},
): Promise<TransferResult> {
  const path = joinPath(splitPath(remote));
  const fh = await port.resolve(path);
  const size = (await port.statHandle(fh, path)).size;
  const concurrency = options.concurrency ?? TRANSFER_CONCURRENCY;
  const tmp = join(dirname(local), `.${basename(local)}.nfsvol-${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'wx');
  let open = true;
  let limit = Math.max(size, 1); // reads are planned up to here, then on until EOF
  let next = 0;
  let end = Number.POSITIVE_INFINITY; // the offset EOF was seen at
  let bytes = 0;
  let known = size; // the file's size as the server last reported it

  /** Data up to `end` with no attributes to vouch for it: ask whether the file really is that long. */
  const confirm = async (end: number): Promise<void> => {
    const now = (await port.statHandle(fh, path)).size;
    if (now < end) {
      throw readError(
        'NFS_PROTOCOL',
        path,
        `server returned data up to offset ${end}, past the end of the file it reports (${now} bytes)`,
      );
    }
    known = Math.max(known, now);
  };

  const worker = async (stopped: () => boolean): Promise<void> => {
    const lent = Buffer.allocUnsafe(chunkSize + REPLY_OVERHEAD);
    while (!stopped() && next < Math.min(limit, end)) {
      const offset = next;
      const stop = offset + chunkSize;
      next = stop;
      let at = offset;
      while (at < stop) {
        const res = await port.readRange(fh, path, at, stop - at, { replyBuffer: lent });
        const reported = checkRead(res, at, stop - at, path);
        if (reported !== undefined) known = reported;
        else if (at + res.data.length > known) await confirm(at + res.data.length);
        for (let done = 0; done < res.data.length;) {
          done += writeSync(fd, res.data, done, res.data.length - done, at + done);
        }
        at += res.data.length;
        bytes += res.data.length;
        options.onProgress?.(bytes, Math.max(size, bytes));
        if (res.eof) {
          end = Math.min(end, at);
          return;
        }
      }
      // The planned reads are done and no EOF yet: the file grew; read on.
      if (stop >= limit && end === Number.POSITIVE_INFINITY) limit = stop + chunkSize * concurrency;
    }
  };

  // What the copy holds: up to EOF (bytes read past a shrunken end are cut off).
  const total = (): number => (end === Number.POSITIVE_INFINITY ? bytes : end);
  try {
    await runWorkers(concurrency, worker); // all stopped before the file is closed
    ftruncateSync(fd, total());
    open = false;
    closeSync(fd);
    await rename(tmp, local);
  } catch (err) {
    if (open) closeSync(fd);
    await rm(tmp, { force: true });
    throw err;
  }
  return { bytes: total() };
}
