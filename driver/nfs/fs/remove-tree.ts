import { mapLimit } from '../../common/concurrency.js';
import type { Fh } from '../nfs3/index.js';
import { NfsError } from '../nfs-error.js';
import type { RemoveTreePort } from './port.js';

/** Entries removed at once: enough to hide round trips, few enough not to flood the server. */
const DIR_CONCURRENCY = 16;

/** Removes `name` from `dir` (its path is `path`): a file, or a directory with `recursive`. */
export async function removePath(
  fs: RemoveTreePort,
  dir: Fh,
  name: string,
  path: string,
  recursive: boolean,
): Promise<void> {
  const { type, handle } = await fs.lookupType(dir, name, path);
  if (type === 'directory' && recursive) await emptyDirectory(fs, handle, path);
  await fs.removeEntry(dir, name, path, type);
  fs.forget(path);
}

/** Removes everything in a directory: files many at a time, subdirectories depth first. */
export async function emptyDirectory(fs: RemoveTreePort, dir: Fh, path: string): Promise<void> {
  fs.remember(path, dir);
  // What the previous pass removed: a server that lists it again would keep this loop going.
  let removed = new Map<string, bigint>();
  for (;;) {
    // Read one page at a time and delete it: removing entries while paging with cookies
    // is not reliable on every server, so start again from the top until the directory is empty.
    const entries = (await fs.listFromStart(dir, path)).filter((e) => e.name !== '.' && e.name !== '..');
    if (entries.length === 0) return;
    for (const e of entries) {
      if (removed.get(e.name) === e.fileid) {
        throw new NfsError('NFS_PROTOCOL', fs.listOp, `/${path}`, {
          hint: `server still lists ${e.name} after removing it`,
        });
      }
    }
    removed = new Map(entries.map((e) => [e.name, e.fileid]));
    await mapLimit(entries, DIR_CONCURRENCY, async (e) => {
      const sub = `${path}/${e.name}`;
      let type = e.type;
      let handle = e.handle;
      if (type === undefined || (type === 'directory' && handle === undefined)) {
        ({ type, handle } = await fs.lookupType(dir, e.name, sub));
      }
      if (type === 'directory') await emptyDirectory(fs, handle!, sub);
      await fs.removeEntry(dir, e.name, sub, type);
      fs.forget(sub);
    });
  }
}
