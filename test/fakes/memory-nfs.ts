import type { Readable } from 'node:stream';
import { PassThrough, Writable } from 'node:stream';
import { NfsvolError, ValidationError } from '../../driver/common/errors.js';
import { NfsError } from '../../driver/nfs/nfs-error.js';
import { splitPath } from '../../driver/nfs/paths.js';
import type {
  DirEntry,
  FileStat,
  FsStat,
  MkdirOptions,
  NfsFs,
  ReaddirOptions,
  Usage,
  WriteFileOptions,
} from '../../driver/nfs/types.js';

/** The real `NfsError` (status name, retriable), raised by the fake for a path it names in `message`. */
export class FakeNfsError extends NfsError {
  constructor(status: string, message: string, retriable = false) {
    super(status, 'fake', message, { retriable });
  }
}

interface Node {
  kind: 'file' | 'directory' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  data: Buffer;
  children: Map<string, Node>;
  fileid: bigint;
  mtime: Date;
  /** Changes on every change of data or attributes, as a server's ctime does. */
  ctime: Date;
  target?: string;
}

export type FakeOp = keyof Omit<NfsFs, typeof Symbol.asyncDispose>;

/**
 * An in-memory NfsFs with the semantics the registry relies on: EXCLUSIVE create fails with
 * NFS3ERR_EXIST, RENAME atomically replaces a file, MKDIR of an existing name fails with
 * NFS3ERR_EXIST. Every call yields to the event loop first so concurrent callers interleave.
 * Its results and errors are those of NfsClient on nfs-ganesha: the NfsFs contract
 * (test/contract/nfs-fs.contract.ts) runs against both and keeps them the same.
 */
export class MemoryNfs implements NfsFs {
  private nextId = 1n;
  readonly root: Node;
  /** Count of calls per operation, for assertions. */
  readonly calls = new Map<string, number>();
  private readonly faults: { op: string; path?: RegExp; error: () => Error; remaining: number }[] = [];
  closed = false;

  constructor() {
    this.root = this.node('directory', 0o755);
  }

  /** Makes the next `count` calls of `op` (optionally on paths matching `path`) fail. */
  inject(op: FakeOp, error: () => Error, options: { path?: RegExp; count?: number } = {}): void {
    this.faults.push({ op, path: options.path, error, remaining: options.count ?? 1 });
  }

  private node(kind: Node['kind'], mode: number, uid = 0, gid = 0): Node {
    return {
      kind,
      mode,
      uid,
      gid,
      data: Buffer.alloc(0),
      children: new Map(),
      fileid: this.nextId++,
      mtime: new Date(),
      ctime: new Date(),
    };
  }

  /** Milliseconds each call waits before it acts (a server's round trip); none by default. */
  latency: (() => number) | undefined;

  private async enter(op: string, path: string): Promise<void> {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    const ms = this.latency?.() ?? 0;
    if (ms > 0) await new Promise<void>((r) => setTimeout(r, ms));
    else await new Promise<void>((r) => setImmediate(r));
    if (this.closed) throw new FakeNfsError('CLOSED', 'client closed');
    const i = this.faults.findIndex((f) => f.op === op && (f.path === undefined || f.path.test(path)));
    const fault = i >= 0 ? this.faults[i] : undefined;
    if (fault) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.faults.splice(i, 1);
      throw fault.error();
    }
  }

  /** The clients' own path rules: "..", NUL or an over-long name is refused before any call. */
  private parts(path: string): string[] {
    return splitPath(path);
  }

  /**
   * The node at `path`, undefined when its last component is missing. A missing directory on the
   * way fails with NOENT and a file on the way with NOTDIR, as a server's LOOKUP does.
   */
  private lookup(path: string): Node | undefined {
    let cur: Node = this.root;
    const parts = this.parts(path);
    for (let i = 0; i < parts.length; i++) {
      if (cur.kind !== 'directory') {
        throw new FakeNfsError('NFS3ERR_NOTDIR', `not a directory: ${parts.slice(0, i).join('/')}`);
      }
      const next = cur.children.get(parts[i]!);
      if (!next) {
        if (i === parts.length - 1) return undefined;
        throw new FakeNfsError('NFS3ERR_NOENT', `no such directory: ${parts.slice(0, i + 1).join('/')}`);
      }
      cur = next;
    }
    return cur;
  }

  /** lookup for the synchronous helpers: any path that cannot be reached is simply absent. */
  private find(path: string): Node | undefined {
    try {
      return this.lookup(path);
    } catch {
      return undefined;
    }
  }

  private parent(path: string): { dir: Node; name: string } {
    const parts = this.parts(path);
    const name = parts.pop();
    if (name === undefined) throw new NfsvolError('NFS_BAD_PATH', 'the export root has no parent');
    const dir = this.lookup(parts.join('/'));
    if (!dir) throw new FakeNfsError('NFS3ERR_NOENT', `no such directory: ${parts.join('/')}`);
    if (dir.kind !== 'directory')
      throw new FakeNfsError('NFS3ERR_NOTDIR', `not a directory: ${parts.join('/')}`);
    return { dir, name };
  }

  private must(path: string): Node {
    const n = this.lookup(path);
    if (!n) throw new FakeNfsError('NFS3ERR_NOENT', `no such file: ${path}`);
    return n;
  }

  private toStat(n: Node): FileStat {
    // A directory is linked from its parent, from its own "." and from each subdirectory's "..".
    let nlink = 1;
    if (n.kind === 'directory') {
      nlink = 2;
      for (const c of n.children.values()) if (c.kind === 'directory') nlink++;
    }
    const size =
      n.kind === 'directory'
        ? 4096
        : n.kind === 'symlink'
          ? Buffer.byteLength(n.target ?? '')
          : n.data.length;
    return {
      type: n.kind,
      mode: n.mode,
      nlink,
      uid: n.uid,
      gid: n.gid,
      size,
      used: n.data.length,
      fileid: n.fileid,
      atime: n.mtime,
      mtime: n.mtime,
      ctime: n.ctime > n.mtime ? n.ctime : n.mtime,
    };
  }

  /** Synchronous helpers for test set-up and assertions (no yielding, no fault injection). */
  peek(path: string): Buffer | undefined {
    const n = this.find(path);
    return n?.kind === 'file' ? n.data : undefined;
  }
  list(path: string): string[] {
    const n = this.find(path);
    return n?.kind === 'directory' ? [...n.children.keys()].sort() : [];
  }
  put(path: string, data: string | Buffer, mtime?: Date): void {
    const { dir, name } = this.parent(path);
    const n = this.node('file', 0o644);
    n.data = Buffer.from(data);
    if (mtime) n.mtime = mtime;
    dir.children.set(name, n);
  }
  has(path: string): boolean {
    return this.find(path) !== undefined;
  }

  async stat(path: string): Promise<FileStat> {
    await this.enter('stat', path);
    return this.toStat(this.must(path));
  }
  async exists(path: string): Promise<FileStat | undefined> {
    await this.enter('exists', path);
    const n = this.lookup(path);
    return n ? this.toStat(n) : undefined;
  }
  async mkdir(path: string, options: MkdirOptions = {}): Promise<FileStat> {
    await this.enter('mkdir', path);
    const { dir, name } = this.parent(path);
    if (dir.children.has(name)) throw new FakeNfsError('NFS3ERR_EXIST', `exists: ${path}`);
    const n = this.node('directory', options.mode ?? 0o755, options.uid, options.gid);
    dir.children.set(name, n);
    return this.toStat(n);
  }
  async mkdirp(path: string, options: MkdirOptions = {}): Promise<FileStat> {
    await this.enter('mkdirp', path);
    let cur = this.root;
    for (const p of this.parts(path)) {
      let next = cur.children.get(p);
      if (!next) {
        next = this.node('directory', options.mode ?? 0o755, options.uid, options.gid);
        cur.children.set(p, next);
      } else if (next.kind !== 'directory') {
        throw new FakeNfsError('NFS3ERR_NOTDIR', `not a directory: ${p}`);
      }
      cur = next;
    }
    return this.toStat(cur);
  }
  async readdir(path: string, options: ReaddirOptions = {}): Promise<DirEntry[]> {
    await this.enter('readdir', path);
    const maxEntries = options.maxEntries ?? 10_000_000;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new ValidationError('maxEntries', `must be a positive integer, got ${maxEntries}`);
    }
    const n = this.must(path);
    if (n.kind !== 'directory') throw new FakeNfsError('NFS3ERR_NOTDIR', `not a directory: ${path}`);
    if (n.children.size > maxEntries) throw new FakeNfsError('NFS_TOO_LARGE', `over maxEntries: ${path}`);
    return [...n.children.entries()].map(([name, c]) => ({ name, fileid: c.fileid, stat: this.toStat(c) }));
  }
  async *readdirIter(path: string, options: ReaddirOptions = {}): AsyncIterable<DirEntry> {
    for (const e of await this.readdir(path, options)) yield e;
  }
  async readFile(path: string, options: { readonly maxBytes?: number } = {}): Promise<Buffer> {
    await this.enter('readFile', path);
    const n = this.must(path);
    if (n.kind !== 'file') throw new FakeNfsError('NFS3ERR_ISDIR', `is a directory: ${path}`);
    if (options.maxBytes !== undefined && n.data.length > options.maxBytes)
      throw new FakeNfsError('NFS_TOO_LARGE', `over maxBytes: ${path}`);
    return Buffer.from(n.data);
  }
  async writeFile(path: string, data: Uint8Array | string, options: WriteFileOptions = {}): Promise<void> {
    await this.enter('writeFile', path);
    const { dir, name } = this.parent(path);
    let n = dir.children.get(name);
    if (n && n.kind !== 'file') throw new FakeNfsError('NFS3ERR_ISDIR', `is a directory: ${path}`);
    if (!n) {
      n = this.node('file', options.mode ?? 0o644, options.uid, options.gid);
      dir.children.set(name, n);
    }
    n.data = Buffer.from(data);
    n.mtime = new Date(n.mtime.getTime() + 1); // as a server does: a write changes mtime/ctime
  }
  async createExclusive(
    path: string,
    data: Uint8Array | string = '',
    options: WriteFileOptions = {},
  ): Promise<FileStat | undefined> {
    await this.enter('createExclusive', path);
    const { dir, name } = this.parent(path);
    if (dir.children.has(name)) throw new FakeNfsError('NFS3ERR_EXIST', `exists: ${path}`);
    const n = this.node('file', options.mode ?? 0o644, options.uid, options.gid);
    n.data = Buffer.from(data);
    dir.children.set(name, n);
    return this.toStat(n);
  }
  createReadStream(path: string): Readable {
    const out = new PassThrough();
    this.readFile(path).then(
      (b) => out.end(b),
      (e: unknown) => out.destroy(e as Error),
    );
    return out;
  }
  createWriteStream(path: string, options: WriteFileOptions = {}): Writable {
    const chunks: Buffer[] = [];
    return new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        chunks.push(chunk);
        cb();
      },
      final: (cb) => {
        this.writeFile(path, Buffer.concat(chunks), options).then(
          () => cb(),
          (e: unknown) => cb(e as Error),
        );
      },
    });
  }
  async rename(from: string, to: string): Promise<void> {
    await this.enter('rename', `${from} -> ${to}`);
    const src = this.parent(from);
    const node = src.dir.children.get(src.name);
    if (!node) throw new FakeNfsError('NFS3ERR_NOENT', `no such file: ${from}`);
    const dst = this.parent(to);
    const existing = dst.dir.children.get(dst.name);
    if (existing === node) return;
    if (node.kind === 'directory') {
      // A directory cannot move below itself: the target's parent must not be it or inside it.
      const toParts = this.parts(to);
      for (let i = 1; i < toParts.length; i++) {
        if (this.lookup(toParts.slice(0, i).join('/')) === node) {
          throw new FakeNfsError('NFS3ERR_INVAL', `into itself: ${from} -> ${to}`);
        }
      }
    }
    if (existing) {
      if (existing.kind === 'directory' && node.kind !== 'directory') {
        throw new FakeNfsError('NFS3ERR_ISDIR', `is a directory: ${to}`);
      }
      if (existing.kind !== 'directory' && node.kind === 'directory') {
        throw new FakeNfsError('NFS3ERR_NOTDIR', `not a directory: ${to}`);
      }
      if (existing.kind === 'directory' && existing.children.size > 0) {
        throw new FakeNfsError('NFS3ERR_NOTEMPTY', `not empty: ${to}`);
      }
    }
    src.dir.children.delete(src.name);
    dst.dir.children.set(dst.name, node);
  }
  async rm(path: string, options: { readonly recursive?: boolean } = {}): Promise<void> {
    await this.enter('rm', path);
    const { dir, name } = this.parent(path);
    const n = dir.children.get(name);
    if (!n) throw new FakeNfsError('NFS3ERR_NOENT', `no such file: ${path}`);
    if (n.kind === 'directory' && n.children.size > 0 && !options.recursive) {
      throw new FakeNfsError('NFS3ERR_NOTEMPTY', `not empty: ${path}`);
    }
    dir.children.delete(name);
  }
  async chmod(path: string, mode: number): Promise<void> {
    await this.enter('chmod', path);
    const n = this.must(path);
    n.mode = mode;
    n.ctime = new Date(Math.max(Date.now(), n.ctime.getTime() + 1));
  }
  async chown(path: string, uid: number, gid: number): Promise<void> {
    await this.enter('chown', path);
    const n = this.must(path);
    n.uid = uid;
    n.gid = gid;
  }
  async symlink(target: string, path: string): Promise<void> {
    await this.enter('symlink', path);
    const { dir, name } = this.parent(path);
    if (dir.children.has(name)) throw new FakeNfsError('NFS3ERR_EXIST', `exists: ${path}`);
    const n = this.node('symlink', 0o777);
    n.target = target;
    dir.children.set(name, n);
  }
  async readlink(path: string): Promise<string> {
    await this.enter('readlink', path);
    const n = this.must(path);
    if (n.kind !== 'symlink') throw new FakeNfsError('NFS3ERR_INVAL', `not a symlink: ${path}`);
    return n.target ?? '';
  }
  async usage(path: string): Promise<Usage> {
    await this.enter('usage', path);
    // Like the clients: what is below a directory, the directory itself not counted.
    const walk = (n: Node, top: boolean): Usage => {
      if (n.kind !== 'directory') {
        const st = this.toStat(n); // a symlink's size is its target's length
        return { bytes: st.used, apparentBytes: st.size, files: 1, directories: 0 };
      }
      let acc = { bytes: 0, apparentBytes: 0, files: 0, directories: top ? 0 : 1 };
      for (const c of n.children.values()) {
        const u = walk(c, false);
        acc = {
          bytes: acc.bytes + u.bytes,
          apparentBytes: acc.apparentBytes + u.apparentBytes,
          files: acc.files + u.files,
          directories: acc.directories + u.directories,
        };
      }
      return acc;
    };
    return walk(this.must(path), true);
  }
  async statfs(): Promise<FsStat> {
    await this.enter('statfs', '/');
    return { totalBytes: 1e12, freeBytes: 5e11, availableBytes: 5e11, totalFiles: 1e9, freeFiles: 1e9 };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A handle on a shared MemoryNfs whose close() leaves the shared tree usable (one per "process"). */
export function sharedView(fs: MemoryNfs): NfsFs {
  return new Proxy(fs, {
    get(target, prop) {
      if (prop === 'close' || prop === Symbol.asyncDispose) return async () => undefined;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
