import type { Fh } from './nfs3/structs.js';

/**
 * Export-relative path -> file handle, bounded, least recently used evicted first. Entries under
 * a path are dropped when it is renamed or removed; everything is dropped on NFS3ERR_STALE.
 */
export class HandleCache {
  private readonly map = new Map<string, Fh>();

  constructor(private readonly max: number) {}

  get(path: string): Fh | undefined {
    const fh = this.map.get(path);
    if (fh !== undefined) {
      this.map.delete(path);
      this.map.set(path, fh);
    }
    return fh;
  }

  set(path: string, fh: Fh): void {
    this.map.delete(path);
    this.map.set(path, fh);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }

  /** Forgets `path` and everything below it. */
  forget(path: string): void {
    const prefix = `${path}/`;
    for (const key of [...this.map.keys()]) {
      if (key === path || key.startsWith(prefix)) this.map.delete(key);
    }
  }

  clear(): void {
    this.map.clear();
  }
}
