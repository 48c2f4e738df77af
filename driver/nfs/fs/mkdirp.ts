import { NfsError } from '../nfs-error.js';
import { joinPath, splitPath } from '../paths.js';
import type { FileStat, MkdirOptions } from '../types.js';
import type { MkdirpPort } from './port.js';

/**
 * Makes `path` and any missing parents, like `mkdir -p`, and resolves to its attributes.
 *
 * Each component is looked up before it is made, and a directory whose handle is cached is
 * passed without a call, so making a path that exists costs no MKDIR. A MKDIR that fails with
 * "exists" is success: another client made it first, which is what was wanted. Whatever is at
 * `path` must end up a directory, else the call fails with the protocol's NOTDIR.
 */
export async function mkdirp(fs: MkdirpPort, path: string, options: MkdirOptions = {}): Promise<FileStat> {
  const parts = splitPath(path);
  const notDir = (sub: string): NfsError =>
    new NfsError(fs.statuses.notDir, fs.createOp, `/${sub}`, { hint: 'exists and is not a directory' });
  let attrs: FileStat | undefined;
  for (let i = 0; i < parts.length; i++) {
    const sub = joinPath(parts.slice(0, i + 1));
    attrs = undefined;
    if (fs.isCached(sub)) continue;
    try {
      attrs = await fs.lookup(sub);
      if (attrs && attrs.type !== 'directory') throw notDir(sub);
    } catch (err) {
      if (!(err instanceof NfsError && err.status === fs.statuses.noEntry)) throw err;
      try {
        attrs = await fs.mkdir(sub, options);
      } catch (mkErr) {
        if (!(mkErr instanceof NfsError && mkErr.status === fs.statuses.exists)) throw mkErr;
      }
    }
  }
  attrs ??= await fs.stat(joinPath(parts));
  if (attrs.type !== 'directory') throw notDir(joinPath(parts));
  return attrs;
}
