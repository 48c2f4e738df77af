import { mapLimit } from '../common/concurrency.js';
import type { CallOptions } from './rpc/rpc-connection.js';
import type { Procedure } from './rpc/procedure.js';
import { COMMIT, StableHow, WRITE, type Fh, type Nfs3Result } from './nfs3/index.js';
import { NfsError } from './nfs-error.js';
import type { FileStat } from './types.js';

/** An NFSv3 call whose failure status is already thrown as an NfsError naming the path. */
export interface Nfs3Caller {
  call<A, Ok, Fail>(
    proc: Procedure<A, Nfs3Result<Ok, Fail>>,
    args: A,
    path: string,
    options?: CallOptions,
  ): Promise<Ok>;
}

const ZERO_VERF = new Uint8Array(8);
/** UNSTABLE WRITEs in flight while writing a whole file. */
const WRITE_CONCURRENCY = 8;

/**
 * Writes `bytes` at offset 0 durably. What fits one WRITE goes as FILE_SYNC (one round trip);
 * more goes as UNSTABLE WRITEs in flight and one COMMIT. Resolves to the attributes after a
 * single-WRITE file, if the server sent them.
 */
export async function writeAll(
  nfs: Nfs3Caller,
  fh: Fh,
  path: string,
  bytes: Uint8Array,
  chunk: number,
): Promise<FileStat | undefined> {
  if (bytes.length <= chunk) {
    if (bytes.length === 0) return undefined;
    return (await writeRange(nfs, fh, path, bytes, 0, StableHow.FILE_SYNC)).after;
  }
  const offsets: number[] = [];
  for (let off = 0; off < bytes.length; off += chunk) offsets.push(off);
  const verfs = await mapLimit(
    offsets,
    WRITE_CONCURRENCY,
    async (off) =>
      (await writeRange(nfs, fh, path, bytes.subarray(off, off + chunk), off, StableHow.UNSTABLE)).verf,
  );
  const committed = await nfs.call(COMMIT, { file: fh, offset: 0, count: 0 }, path);
  const stale = offsets.filter((_, i) => Buffer.compare(verfs[i]!, committed.verf) !== 0);
  // The server restarted between WRITE and COMMIT and may have lost those writes: resend them durably.
  await mapLimit(stale, WRITE_CONCURRENCY, (off) =>
    writeRange(nfs, fh, path, bytes.subarray(off, off + chunk), off, StableHow.FILE_SYNC),
  );
  return undefined;
}

/**
 * Writes one range, resending the rest after a short write. Returns the write verifier and the
 * attributes after the last WRITE, if the server sent them.
 */
export async function writeRange(
  nfs: Nfs3Caller,
  fh: Fh,
  path: string,
  data: Uint8Array,
  offset: number,
  stable: StableHow,
): Promise<{ verf: Uint8Array; after: FileStat | undefined }> {
  let done = 0;
  let verf: Uint8Array = ZERO_VERF;
  let after: FileStat | undefined;
  while (done < data.length) {
    const res = await nfs.call(
      WRITE,
      { file: fh, offset: offset + done, stable, data: data.subarray(done) },
      path,
    );
    if (res.count === 0) {
      throw new NfsError('NFS3ERR_IO', 'WRITE', `/${path}`, { hint: 'server accepted 0 bytes' });
    }
    done += res.count;
    verf = res.verf;
    after = res.fileWcc.after;
    if (stable !== StableHow.UNSTABLE && res.committed === StableHow.UNSTABLE) {
      throw new NfsError('NFS3ERR_IO', 'WRITE', `/${path}`, {
        hint: 'server did not honour a stable write',
      });
    }
  }
  return { verf, after };
}
