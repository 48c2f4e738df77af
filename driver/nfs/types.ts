import type { Readable, Writable } from 'node:stream';

/** NFSv3 ftype3 (RFC 1813 section 2.5). */
export type FileType = 'file' | 'directory' | 'block' | 'char' | 'symlink' | 'socket' | 'fifo';

/** File attributes as the server reports them (fattr3), in plain numbers. */
export interface FileStat {
  readonly type: FileType;
  /** Permission bits only (07777). */
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** Bytes actually used on the server's disk. */
  readonly used: number;
  readonly fileid: bigint;
  readonly atime: Date;
  readonly mtime: Date;
  readonly ctime: Date;
}

export interface DirEntry {
  readonly name: string;
  readonly fileid: bigint;
  /** Absent when the server did not return attributes for this entry. */
  readonly stat?: FileStat;
  /**
   * The entry's file handle when the server sent one (READDIRPLUS): opaque; hand it back to
   * `readFile` to skip the LOOKUP. Valid for this client's connection to this export.
   */
  readonly handle?: Uint8Array;
}

export interface ReaddirOptions {
  /**
   * Bytes of one READDIRPLUS reply (4 KiB to 1 MiB): smaller pages cost more round trips and
   * hold fewer decoded entries at once. @default 1 MiB, or the server's maximum
   */
  readonly pageBytes?: number;
  /**
   * Most entries one listing may bring (counted as the server sends them): more fails with
   * NFS_TOO_LARGE, so a server that lists without end cannot make a listing run forever.
   * @default 10,000,000
   */
  readonly maxEntries?: number;
}

export interface ReadFileOptions {
  /** A handle from a readdir entry of this same path: saves resolving the path. */
  readonly handle?: Uint8Array;
  /**
   * Largest file read whole into memory: a longer one fails with NFS_TOO_LARGE as soon as the
   * server reports its size or sends the byte past it. Read larger files with
   * `createReadStream` or `download`. @default 64 MiB
   */
  readonly maxBytes?: number;
}

export interface MkdirOptions {
  /** @default 0o755 */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface WriteFileOptions {
  /** @default 0o644 */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface StreamOptions {
  /** Bytes per READ/WRITE call. @default the server's preferred size (FSINFO rtpref/wtpref), at most 1 MiB */
  readonly chunkSize?: number;
  /** READ/WRITE calls kept in flight. @default 8 */
  readonly concurrency?: number;
  /**
   * Writing: unstable bytes held for resending until a COMMIT confirms them (a COMMIT is sent
   * when this much is pending). @default max(16 MiB, 4 x chunkSize x concurrency)
   */
  readonly commitWindow?: number;
}

/** Calls in flight for upload and download (see TransferOptions.concurrency). */
export const TRANSFER_CONCURRENCY = 4;

export interface TransferOptions {
  /** Bytes per READ/WRITE call. @default the server's preferred size (FSINFO rtpref/wtpref), at most 1 MiB */
  readonly chunkSize?: number;
  /**
   * READ/WRITE calls kept in flight. More loads the server with parallel work for little gain:
   * on the lab, 2-4 copied fastest and 8 cost ganesha 70% more CPU. @default 4
   */
  readonly concurrency?: number;
  /** Called as bytes arrive: bytes copied so far, and the total expected (the file's size). */
  readonly onProgress?: (bytes: number, total: number) => void;
}

export interface TransferResult {
  readonly bytes: number;
}

export interface Usage {
  /** Disk space used (sum of each entry's `used`, like `du`). */
  readonly bytes: number;
  /** Sum of file sizes (like `du --apparent-size`). */
  readonly apparentBytes: number;
  readonly files: number;
  readonly directories: number;
}

export interface FsStat {
  readonly totalBytes: number;
  readonly freeBytes: number;
  readonly availableBytes: number;
  readonly totalFiles: number;
  readonly freeFiles: number;
}

/**
 * The path-based NFS API the driver uses. Paths are relative to the export root and use `/`;
 * a leading `/` is allowed. The real implementation is `NfsClient`; tests may hand in a fake.
 */
export interface NfsFs extends AsyncDisposable {
  stat(path: string): Promise<FileStat>;
  /** Like stat, but resolves to undefined when the path does not exist. */
  exists(path: string): Promise<FileStat | undefined>;
  mkdir(path: string, options?: MkdirOptions): Promise<FileStat>;
  mkdirp(path: string, options?: MkdirOptions): Promise<FileStat>;
  readdir(path: string, options?: ReaddirOptions): Promise<DirEntry[]>;
  /** Streams entries page by page (READDIRPLUS), without holding the whole directory. */
  readdirIter(path: string, options?: ReaddirOptions): AsyncIterable<DirEntry>;
  readFile(path: string, options?: ReadFileOptions): Promise<Buffer>;
  writeFile(path: string, data: Uint8Array | string, options?: WriteFileOptions): Promise<void>;
  /**
   * Creates a file atomically with EXCLUSIVE semantics; fails with NFS3ERR_EXIST if present.
   * Resolves to the file's attributes after its last write when the server reported them.
   */
  createExclusive(
    path: string,
    data?: Uint8Array | string,
    options?: WriteFileOptions,
  ): Promise<FileStat | undefined>;
  createReadStream(path: string, options?: StreamOptions): Readable;
  createWriteStream(path: string, options?: StreamOptions & WriteFileOptions): Writable;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file, or a directory with `recursive`. */
  rm(path: string, options?: { readonly recursive?: boolean }): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  chown(path: string, uid: number, gid: number): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  readlink(path: string): Promise<string>;
  usage(path: string): Promise<Usage>;
  statfs(path?: string): Promise<FsStat>;
  close(): Promise<void>;
}
