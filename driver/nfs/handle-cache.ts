import type { Fh } from './nfs3/structs.js';

/**
 * Export-relative path -> file handle, bounded, least recently used evicted first. Entries under
 * a path are dropped when it is renamed or removed; everything is dropped on NFS3ERR_STALE.
 *
 * Besides the handles it keeps, for every path that has cached descendants, the names of its
 * children on the way to them, so dropping a path's subtree costs the size of that subtree, not
 * of the cache: emptying a directory of 100,000 files forgets 100,000 paths, and a scan of the
 * whole cache for each (10,000 entries) was a billion string comparisons.
 */
export class HandleCache {
  private readonly map = new Map<string, Fh>();
  /** Path -> its children that are cached or have cached descendants. */
  private readonly children = new Map<string, Set<string>>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  get(path: string): Fh | undefined {
    const fh = this.map.get(path);
    if (fh !== undefined) {
      this.map.delete(path);
      this.map.set(path, fh);
    }
    return fh;
  }

  set(path: string, fh: Fh): void {
    const known = this.map.delete(path);
    this.map.set(path, fh);
    if (!known) this.link(path);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) {
        this.map.delete(oldest.value);
        this.prune(oldest.value);
      }
    }
  }

  /** Forgets `path` and everything below it. */
  forget(path: string): void {
    this.dropBelow(path);
    this.map.delete(path);
    this.prune(path);
  }

  clear(): void {
    this.map.clear();
    this.children.clear();
  }

  private dropBelow(path: string): void {
    const kids = this.children.get(path);
    if (!kids) return;
    this.children.delete(path);
    for (const kid of kids) {
      this.dropBelow(kid);
      this.map.delete(kid);
    }
  }

  /** Records `path` under each of its ancestors, up to the first that already knew it. */
  private link(path: string): void {
    for (let p = path; p !== '';) {
      const parent = parentOf(p);
      const kids = this.children.get(parent);
      if (kids) {
        kids.add(p);
        return;
      }
      this.children.set(parent, new Set([p]));
      p = parent;
    }
  }

  /** Unlinks `path` and then its ancestors while they are neither cached nor lead to anything. */
  private prune(path: string): void {
    for (let p = path; p !== '';) {
      if (this.map.has(p) || this.children.has(p)) return;
      const parent = parentOf(p);
      const kids = this.children.get(parent);
      if (!kids) return;
      kids.delete(p);
      if (kids.size > 0) return;
      this.children.delete(parent);
      p = parent;
    }
  }
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}
