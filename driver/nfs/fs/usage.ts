import { mapLimit } from '../../common/concurrency.js';
import { joinPath, splitPath } from '../paths.js';
import type { Usage } from '../types.js';
import type { WalkPort } from './port.js';

/** Directories listed at once: enough to hide round trips, few enough not to flood the server. */
const DIR_CONCURRENCY = 16;

/**
 * Bytes (disk usage, like `du`), files and directories under `path`. Entries that came without
 * attributes are stat-ed one by one; subdirectories are walked several at a time.
 */
export async function usage(fs: WalkPort, path: string): Promise<Usage> {
  const root = await fs.stat(path);
  const total = {
    bytes: root.used,
    apparentBytes: root.type === 'file' ? root.size : 0,
    files: 0,
    directories: 0,
  };
  if (root.type !== 'directory') return { ...total, files: 1 };
  const walk = async (dirPath: string): Promise<void> => {
    const subdirs: string[] = [];
    for await (const page of fs.readdirPages(dirPath))
      for (const e of page) {
        const st = e.stat ?? (await fs.stat(`${dirPath}/${e.name}`));
        total.bytes += st.used;
        if (st.type === 'directory') {
          total.directories++;
          subdirs.push(`${dirPath}/${e.name}`);
        } else {
          total.files++;
          total.apparentBytes += st.size;
        }
      }
    await mapLimit(subdirs, DIR_CONCURRENCY, walk);
  };
  await walk(joinPath(splitPath(path)));
  return total;
}
