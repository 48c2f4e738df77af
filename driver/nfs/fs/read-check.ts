import type { ReadOk } from '../nfs3/index.js';
import { NfsError } from '../nfs-error.js';

/**
 * Checks one READ reply for what a broken or hostile server could do to make a reader loop or
 * buffer without end: more bytes than asked for, no bytes and no end of file (RFC 1813 3.3.6:
 * a read that returns nothing has reached the end and says so), or bytes past the end of the
 * file the reply itself reports. Returns the file size the reply reports, if it has attributes.
 */
export function checkRead(res: ReadOk, offset: number, count: number, path: string): number | undefined {
  const n = res.data.length;
  if (n > count) throw readError('NFS_PROTOCOL', path, `server returned ${n} bytes for a READ of ${count}`);
  if (n === 0 && !res.eof) {
    throw readError('NFS_PROTOCOL', path, `server returned no data and no end of file at offset ${offset}`);
  }
  const size = res.fileAttributes?.size;
  // An empty reply past the end is how a read of a file that shrank ends: only bytes count.
  if (size !== undefined && n > 0 && offset + n > size) {
    throw readError(
      'NFS_PROTOCOL',
      path,
      `server returned data up to offset ${offset + n}, past the end of the file it reports (${size} bytes)`,
    );
  }
  return size;
}

/** A READ-side failure naming the file: NFS_PROTOCOL (the server broke the rules) or NFS_TOO_LARGE. */
export function readError(code: 'NFS_PROTOCOL' | 'NFS_TOO_LARGE', path: string, hint: string): NfsError {
  return new NfsError(code, 'READ', `/${path}`, { hint });
}
