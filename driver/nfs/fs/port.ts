import type { Fh, ReadOk, StableHow } from '../nfs3/index.js';
import type { DirEntry, FileStat, FileType, MkdirOptions } from '../types.js';

/*
 * The seam between a protocol client and the code written on top of it: the streams, the
 * transfers and the path-level algorithms in this folder ask for these few operations and never
 * for a client class, so they import no client and a client can import them.
 */

/** What reading a file needs: the handle of a path, the file's attributes, and READs. */
export interface ReadPort {
  /** The handle of an export-relative path. */
  resolve(path: string): Promise<Fh>;
  statHandle(fh: Fh, path: string): Promise<FileStat>;
  /**
   * One READ of at most `count` bytes at `offset`. With `replyBuffer` the reply is assembled in
   * that memory and the data views it (the caller may lend it again once the call settles).
   */
  readRange(
    fh: Fh,
    path: string,
    offset: number,
    count: number,
    options?: { readonly replyBuffer?: Uint8Array },
  ): Promise<ReadOk>;
}

/** What writing durably needs: WRITEs and COMMITs, each answering with the write verifier. */
export interface WritePort {
  /** Writes one range whole (a short write is continued) and returns the write verifier. */
  writeRange(fh: Fh, path: string, data: Uint8Array, offset: number, stable: StableHow): Promise<Uint8Array>;
  /** COMMITs the whole file and returns the write verifier the server now has. */
  commit(fh: Fh, path: string): Promise<Uint8Array>;
}

/** What a walk of a tree needs: attributes by path, and a directory's entries a page at a time. */
export interface WalkPort {
  stat(path: string): Promise<FileStat>;
  readdirPages(path: string): AsyncIterable<DirEntry[]>;
}

/**
 * What mkdirp needs: which paths the client holds a handle for, a LOOKUP, a MKDIR, and the
 * names its protocol gives to "no such entry", "already exists" and "not a directory".
 */
export interface MkdirpPort {
  stat(path: string): Promise<FileStat>;
  mkdir(path: string, options: MkdirOptions): Promise<FileStat>;
  /** Whether the handle of `path` is cached: the walk then goes on from it without a call. */
  isCached(path: string): boolean;
  /**
   * Looks `path` up (caching its handle) and resolves to its attributes when the reply carried
   * them; fails with the `noEntry` status when it does not exist.
   */
  lookup(path: string): Promise<FileStat | undefined>;
  readonly statuses: { readonly noEntry: string; readonly exists: string; readonly notDir: string };
  /** The operation named in a "not a directory" error. */
  readonly createOp: string;
}

/** One directory entry as a listing brings it; `type` and `handle` only if the server sent them. */
export interface ListedEntry {
  readonly name: string;
  readonly fileid: bigint;
  readonly type?: FileType | undefined;
  readonly handle?: Fh | undefined;
}

/** What removing a tree needs: a listing from the start, the type of an entry, and removal. */
export interface RemoveTreePort {
  /** The first page of `dir`'s entries, always from the start of the directory. */
  listFromStart(dir: Fh, path: string): Promise<readonly ListedEntry[]>;
  /** The type and handle of `name` in `dir`. */
  lookupType(dir: Fh, name: string, path: string): Promise<{ type: FileType; handle: Fh }>;
  /** Removes `name` from `dir`: an empty directory, or anything else. */
  removeEntry(dir: Fh, name: string, path: string, type: FileType): Promise<void>;
  /** Caches (or drops) the handle of a path. */
  remember(path: string, fh: Fh): void;
  forget(path: string): void;
  /** The operation named when a listing goes wrong. */
  readonly listOp: string;
}
