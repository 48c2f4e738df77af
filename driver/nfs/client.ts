import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { NfsvolError, ValidationError } from '../common/errors.js';
import type { CallOptions, RpcConnection } from './rpc/rpc-connection.js';
import type { Procedure } from './rpc/procedure.js';
import { EXPORT, MOUNT3_PROGRAM, UMNT } from './mount3/index.js';
import {
  COMMIT,
  CREATE,
  FSSTAT,
  GETATTR,
  LOOKUP,
  MKDIR,
  NFS3_PROGRAM,
  Nfs3Status,
  READ,
  READDIRPLUS,
  READLINK,
  REMOVE,
  RENAME,
  RMDIR,
  SETATTR,
  SYMLINK,
  nfs3StatusName,
  nfs3StatusRetriable,
  type CreateHow,
  type DirOpArgs,
  type Fattr3,
  type Fh,
  type FsinfoOk,
  type Nfs3Result,
  type ReadOk,
  type Sattr3,
  type StableHow,
} from './nfs3/index.js';
import { NfsError } from './nfs-error.js';
import { parseNfsUrl, type NfsTarget } from './nfs-url.js';
import { HandleCache } from './handle-cache.js';
import { joinPath, splitPath } from './paths.js';
import { mountNfs3, type NfsClientOptions } from './nfs3-bootstrap.js';
import { accessHint } from './nfs3-hints.js';
import { writeAll, writeRange, type Nfs3Caller } from './nfs3-write.js';
import { download } from './fs/download.js';
import { mkdirp } from './fs/mkdirp.js';
import type { MkdirpPort, ReadPort, RemoveTreePort, WritePort } from './fs/port.js';
import { NfsReadStream } from './fs/read-stream.js';
import { checkRead, readError } from './fs/read-check.js';
import { removePath } from './fs/remove-tree.js';
import { upload } from './fs/upload.js';
import { usage } from './fs/usage.js';
import { NfsWriteStream } from './fs/write-stream.js';
import type {
  DirEntry,
  FileStat,
  FileType,
  FsStat,
  MkdirOptions,
  NfsFs,
  ReaddirOptions,
  ReadFileOptions,
  StreamOptions,
  TransferOptions,
  TransferResult,
  Usage,
  WriteFileOptions,
} from './types.js';

export type { NfsClientOptions } from './nfs3-bootstrap.js';

const ZERO_VERF = new Uint8Array(8);
const MAX_IO = 1024 * 1024;
/** Largest READDIRPLUS reply asked for. */
const READDIR_MAX = 1024 * 1024;
/** Default bound on a file read whole into memory (ReadFileOptions.maxBytes). */
const READ_FILE_MAX = 64 * 1024 * 1024;
/** Default bound on the entries of one listing (ReaddirOptions.maxEntries). */
const MAX_ENTRIES = 10_000_000;

/** One connected, mounted NFSv3 export: NFSv3 calls that throw on failure, and path lookup. */
export interface Nfs3Session extends Nfs3Caller {
  readonly nfs: RpcConnection;
  readonly fsinfo: FsinfoOk;
  resolve(path: string): Promise<Fh>;
}

/**
 * nfsvol's own NFSv3 client: speaks rpcbind, MOUNT and NFS over TCP itself, so the machine
 * running it needs no kernel NFS, no mount and (with `insecure` exports) no root.
 *
 * It holds the connections and the path -> handle cache, and maps each file-system operation to
 * NFSv3 calls. Connecting and mounting is in nfs3-bootstrap.ts, the durable-write engine in
 * nfs3-write.ts; the streams, transfers and tree algorithms in fs/ reach it through the ports
 * of fs/port.ts.
 *
 * ```ts
 * await using nfs = await NfsClient.connect('nfs://server/export?uid=0&gid=0');
 * await nfs.mkdir('vol1', { mode: 0o770, uid: 1000, gid: 1000 });
 * ```
 */
export class NfsClient implements NfsFs, Nfs3Session, ReadPort, WritePort {
  private readonly cache: HandleCache;
  private closed = false;

  private constructor(
    readonly target: NfsTarget,
    readonly nfs: RpcConnection,
    private readonly mount: RpcConnection,
    private readonly root: Fh,
    readonly fsinfo: FsinfoOk,
    options: NfsClientOptions,
  ) {
    this.cache = new HandleCache(options.handleCacheSize ?? 2_048);
  }

  /** Connects and mounts. `url` is `nfs://host[:port]/export?version=3&uid=0&gid=0&mountport=N`. */
  static async connect(url: string | NfsTarget, options: NfsClientOptions = {}): Promise<NfsClient> {
    const target = typeof url === 'string' ? parseNfsUrl(url) : url;
    const m = await mountNfs3(target, options);
    return new NfsClient(target, m.nfs, m.mount, m.root, m.fsinfo, options);
  }

  /** Calls an NFSv3 procedure and turns a failure status into an NfsError naming the path. */
  async call<A, Ok, Fail>(
    proc: Procedure<A, Nfs3Result<Ok, Fail>>,
    args: A,
    path: string,
    options?: CallOptions,
  ): Promise<Ok> {
    const res = await this.nfs.call(NFS3_PROGRAM, proc, args, options);
    if (res.ok) return res.value;
    // A stale handle means the server lost its handles (e.g. it was restored): every cached one is suspect.
    if (res.status === Nfs3Status.NFS3ERR_STALE) this.cache.clear();
    throw new NfsError(nfs3StatusName(res.status), proc.name, `/${path}`, {
      retriable: nfs3StatusRetriable(res.status),
      hint: accessHint(res.status, this.target),
    });
  }

  /** Resolves a path to a file handle with LOOKUPs, from the longest cached prefix. */
  async resolve(path: string): Promise<Fh> {
    return this.resolveParts(splitPath(path));
  }

  private async resolveParts(parts: readonly string[]): Promise<Fh> {
    let i = parts.length;
    let fh: Fh | undefined;
    while (i > 0 && (fh = this.cache.get(joinPath(parts.slice(0, i)))) === undefined) i--;
    fh ??= this.root;
    let at: Fh = fh;
    for (; i < parts.length; i++) {
      const res = await this.call(LOOKUP, { dir: at, name: parts[i]! }, joinPath(parts.slice(0, i + 1)));
      at = res.object;
      this.cache.set(joinPath(parts.slice(0, i + 1)), at);
    }
    return at;
  }

  private async parent(path: string): Promise<{ dir: Fh; name: string; path: string; dirPath: string }> {
    const parts = splitPath(path);
    const name = parts.pop();
    if (name === undefined) throw new NfsvolError('NFS_BAD_PATH', 'the export root has no parent');
    return {
      dir: await this.resolveParts(parts),
      name,
      path: joinPath([...parts, name]),
      dirPath: joinPath(parts),
    };
  }

  /**
   * The handle a CREATE or MKDIR returned, else LOOKUP's: the new object's handle is a
   * post_op_fh3 in both replies, which a server may leave out, and the caller needs it either way.
   */
  private async createdHandle(made: Fh | undefined, where: DirOpArgs, path: string): Promise<Fh> {
    return made ?? (await this.call(LOOKUP, where, path)).object;
  }

  /** CREATEs a regular file as `how` says and returns its handle. */
  private async createFile(
    where: DirOpArgs,
    how: CreateHow,
    path: string,
    options?: CallOptions,
  ): Promise<Fh> {
    const res = await this.call(CREATE, { where, how }, path, options);
    return this.createdHandle(res.object, where, path);
  }

  /** GETATTR of a handle. */
  async statHandle(fh: Fh, path: string): Promise<FileStat> {
    return (await this.call(GETATTR, { object: fh }, path)).objAttributes;
  }

  /** One READ (see ReadPort.readRange). */
  readRange(
    fh: Fh,
    path: string,
    offset: number,
    count: number,
    options?: { readonly replyBuffer?: Uint8Array },
  ): Promise<ReadOk> {
    return this.call(READ, { file: fh, offset, count }, path, options);
  }

  async stat(path: string): Promise<FileStat> {
    const fh = await this.resolve(path);
    return this.statHandle(fh, joinPath(splitPath(path)));
  }

  async exists(path: string): Promise<FileStat | undefined> {
    try {
      return await this.stat(path);
    } catch (err) {
      if (err instanceof NfsError && err.status === 'NFS3ERR_NOENT') return undefined;
      throw err;
    }
  }

  async mkdir(path: string, options: MkdirOptions = {}): Promise<FileStat> {
    const p = await this.parent(path);
    const attributes = sattr(options, 0o755);
    const where = { dir: p.dir, name: p.name };
    const res = await this.call(MKDIR, { where, attributes }, p.path);
    const fh = await this.createdHandle(res.object, where, p.path);
    this.cache.set(p.path, fh);
    return this.ensureAttributes(fh, p.path, res.objAttributes, attributes);
  }

  /**
   * Some servers ignore ownership in a create's sattr3 (or apply a umask): check what they
   * report and fix it with SETATTR, so callers always get the mode/uid/gid they asked for.
   */
  private async ensureAttributes(
    fh: Fh,
    path: string,
    got: Fattr3 | undefined,
    want: Sattr3,
  ): Promise<FileStat> {
    const attrs = got ?? (await this.statHandle(fh, path));
    const fix: { mode?: number; uid?: number; gid?: number } = {};
    if (want.mode !== undefined && attrs.mode !== want.mode) fix.mode = want.mode;
    if (want.uid !== undefined && attrs.uid !== want.uid) fix.uid = want.uid;
    if (want.gid !== undefined && attrs.gid !== want.gid) fix.gid = want.gid;
    if (Object.keys(fix).length === 0) return attrs;
    const res = await this.call(SETATTR, { object: fh, attributes: fix }, path);
    return res.objWcc.after ?? (await this.statHandle(fh, path));
  }

  mkdirp(path: string, options: MkdirOptions = {}): Promise<FileStat> {
    return mkdirp(this.mkdirpPort, path, options);
  }

  /** mkdirp's view of this client: a LOOKUP from the cached parent, which caches the handle. */
  private readonly mkdirpPort: MkdirpPort = {
    stat: (path) => this.stat(path),
    mkdir: (path, options) => this.mkdir(path, options),
    isCached: (path) => this.cache.get(path) !== undefined,
    lookup: async (path) => {
      const p = await this.parent(path);
      const res = await this.call(LOOKUP, { dir: p.dir, name: p.name }, p.path);
      this.cache.set(p.path, res.object);
      return res.objAttributes;
    },
    statuses: { noEntry: 'NFS3ERR_NOENT', exists: 'NFS3ERR_EXIST', notDir: 'NFS3ERR_NOTDIR' },
    createOp: 'MKDIR',
  };

  /**
   * A directory's entries a READDIRPLUS reply at a time (up to 1 MiB each), so a caller can
   * stream a huge directory without holding it whole.
   *
   * A listing always ends: a resume cookie the listing already asked with (a server that
   * loops, or starts again from 0 or an earlier point) fails with NFS_PROTOCOL, and more than
   * `maxEntries` entries with NFS_TOO_LARGE. Cookies are opaque and need not grow (ext4's are
   * hashes), so only a repeat is wrong; remembering one cookie per reply costs nothing per
   * entry. A change of cookieverf between replies is accepted, as the Linux client does: the
   * cookie check alone keeps such a listing from looping.
   */
  async *readdirPages(path: string, options: ReaddirOptions = {}): AsyncIterable<DirEntry[]> {
    const maxEntries = options.maxEntries ?? MAX_ENTRIES;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new ValidationError('maxEntries', `must be a positive integer, got ${maxEntries}`);
    }
    const parts = splitPath(path);
    const dir = await this.resolveParts(parts);
    const dirPath = joinPath(parts);
    const prefix = dirPath ? `${dirPath}/` : '';
    let cookie = 0n;
    let cookieverf: Uint8Array = ZERO_VERF;
    const want = Math.max(4096, Math.min(options.pageBytes ?? READDIR_MAX, READDIR_MAX));
    const maxcount = Math.min(want, this.fsinfo.rtmax || READDIR_MAX);
    const asked = new Set<bigint>();
    let count = 0;
    const broken = (hint: string): NfsError =>
      new NfsError('NFS_PROTOCOL', 'READDIRPLUS', `/${dirPath}`, { hint });
    for (;;) {
      asked.add(cookie);
      const res = await this.call(
        READDIRPLUS,
        { dir, cookie, cookieverf, dircount: maxcount / 16, maxcount },
        dirPath,
      );
      count += res.entries.length;
      if (count > maxEntries) {
        throw new NfsError('NFS_TOO_LARGE', 'READDIRPLUS', `/${dirPath}`, {
          hint: `more than ${maxEntries} entries (the listing's maxEntries)`,
        });
      }
      const page: DirEntry[] = [];
      for (const e of res.entries) {
        cookie = e.cookie;
        if (e.name === '.' || e.name === '..') continue;
        if (e.handle && e.attributes?.type === 'directory') this.cache.set(prefix + e.name, e.handle);
        page.push({
          name: e.name,
          fileid: e.fileid,
          ...(e.attributes ? { stat: e.attributes } : {}),
          ...(e.handle ? { handle: e.handle } : {}),
        });
      }
      yield page;
      if (res.eof) return;
      if (res.entries.length === 0) throw broken('server returned no entries and no end of directory');
      if (asked.has(cookie)) {
        throw broken(`server gave resume cookie ${cookie} again: the listing would never end`);
      }
      cookieverf = res.cookieverf;
    }
  }

  async *readdirIter(path: string, options: ReaddirOptions = {}): AsyncIterable<DirEntry> {
    for await (const page of this.readdirPages(path, options)) yield* page;
  }

  async readdir(path: string, options: ReaddirOptions = {}): Promise<DirEntry[]> {
    const pages: DirEntry[][] = [];
    for await (const page of this.readdirPages(path, options)) pages.push(page);
    return pages.flat();
  }

  /**
   * Reads a whole file into memory, at most `maxBytes` of it. A small file (most registry
   * records) costs one READ: the first reply that says EOF ends it; a larger one goes on as a
   * stream with several READs in flight. `options.handle` (a readdir entry's) saves the LOOKUPs.
   */
  async readFile(path: string, options: ReadFileOptions = {}): Promise<Buffer> {
    const maxBytes = options.maxBytes ?? READ_FILE_MAX;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new ValidationError('maxBytes', `must be a whole number of bytes, got ${maxBytes}`);
    }
    const p = joinPath(splitPath(path));
    const fh = options.handle ?? (await this.resolve(p));
    const count = this.ioSize('read');
    const first = await this.call(READ, { file: fh, offset: 0, count }, p);
    const size = checkRead(first, 0, count, p);
    if (size !== undefined && size > maxBytes) {
      throw readError('NFS_TOO_LARGE', p, `the server reports ${size} bytes, over maxBytes (${maxBytes})`);
    }
    if (first.data.length > maxBytes) {
      throw readError('NFS_TOO_LARGE', p, `the file is longer, over maxBytes (${maxBytes})`);
    }
    const head = Buffer.from(first.data); // a copy: the reply buffer is not kept alive
    if (first.eof) return head;
    const chunks: Buffer[] = [head];
    const rest = new NfsReadStream(this, p, count, 8, { fh, offset: head.length, size }, maxBytes);
    for await (const c of rest) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Creates or truncates `path` and writes `data` durably (FILE_SYNC, or UNSTABLE + COMMIT). */
  async writeFile(path: string, data: Uint8Array | string, options: WriteFileOptions = {}): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const p = await this.parent(path);
    const attributes = { ...sattr(options, 0o644), size: 0 };
    const fh = await this.createFile({ dir: p.dir, name: p.name }, { mode: 'unchecked', attributes }, p.path);
    await writeAll(this, fh, p.path, bytes, this.ioSize('write'));
  }

  /**
   * Resolves to the file's attributes after the last step, as the server reported them (the
   * registry keys its listing cache on them), or undefined when the server sent none.
   */
  async createExclusive(
    path: string,
    data?: Uint8Array | string,
    options: WriteFileOptions = {},
  ): Promise<FileStat | undefined> {
    const p = await this.parent(path);
    // RFC 1813 3.3.8: the verifier makes a retransmitted EXCLUSIVE create succeed and a
    // competing one fail with NFS3ERR_EXIST, so it is safe to resend after a lost reply.
    // The resend is the connection's own retry (`resend`), and it is the only one: a retry of
    // this whole method would draw a new verifier, so a create whose reply was lost would then
    // fail with NFS3ERR_EXIST against itself; and a retry loop around the connection's would
    // multiply its attempts. Callers treat NFS3ERR_EXIST as "someone else has it".
    const verf = randomBytes(8);
    const where = { dir: p.dir, name: p.name };
    const fh = await this.createFile(where, { mode: 'exclusive', verf }, p.path, { resend: true });
    // The server kept the verifier in the file's times: set the real attributes now.
    const set = await this.call(
      SETATTR,
      { object: fh, attributes: { ...sattr(options, 0o644), atime: 'server', mtime: 'server' } },
      p.path,
    );
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (bytes && bytes.length > 0) return writeAll(this, fh, p.path, bytes, this.ioSize('write'));
    return set.objWcc.after;
  }

  /** Writes one range, resending the rest after a short write; returns the write verifier. */
  async writeRange(
    fh: Fh,
    path: string,
    data: Uint8Array,
    offset: number,
    stable: StableHow,
  ): Promise<Uint8Array> {
    return (await writeRange(this, fh, path, data, offset, stable)).verf;
  }

  /** COMMITs the whole file; returns the write verifier. */
  async commit(fh: Fh, path: string): Promise<Uint8Array> {
    return (await this.call(COMMIT, { file: fh, offset: 0, count: 0 }, path)).verf;
  }

  /** READ/WRITE size: the server's preferred size within its maximum, capped at 1 MiB. */
  ioSize(kind: 'read' | 'write', requested?: number): number {
    const max = kind === 'read' ? this.fsinfo.rtmax : this.fsinfo.wtmax;
    const pref = kind === 'read' ? this.fsinfo.rtpref : this.fsinfo.wtpref;
    const want = requested ?? (pref || 65536);
    return Math.max(512, Math.min(want, max || MAX_IO, MAX_IO));
  }

  createReadStream(path: string, options: StreamOptions = {}): Readable {
    return new NfsReadStream(this, path, this.ioSize('read', options.chunkSize), options.concurrency ?? 8);
  }

  /**
   * Copies a file from the export to the local path `local`, several READs in flight (like
   * libnfs's nfs-cp). `local` is replaced atomically when the copy is complete and left as it
   * was if the copy fails.
   */
  download(path: string, local: string, options: TransferOptions = {}): Promise<TransferResult> {
    return download(this, path, local, this.ioSize('read', options.chunkSize), options);
  }

  /**
   * Copies the local file `local` to `path` on the export, several WRITEs in flight (like libnfs's
   * nfs-cp), then COMMITs. The file is written under a temporary name beside `path` and renamed
   * over it when complete and committed, so `path` is either as it was or the whole new file.
   */
  async upload(
    local: string,
    path: string,
    options: TransferOptions & WriteFileOptions & { readonly commitEvery?: number } = {},
  ): Promise<TransferResult> {
    const dest = await this.parent(path);
    const tmpName = `.${dest.name}.nfsvol-${randomBytes(4).toString('hex')}`;
    const tmpPath = joinPath([...splitPath(dest.dirPath), tmpName]);
    return upload(
      local,
      {
        create: async () => {
          const attributes = { ...sattr(options, 0o644), size: 0 };
          const where = { dir: dest.dir, name: tmpName };
          return {
            fh: await this.createFile(where, { mode: 'guarded', attributes }, tmpPath),
            path: tmpPath,
          };
        },
        writeRange: (fh, p, data, offset, stable) => this.writeRange(fh, p, data, offset, stable),
        commit: (fh, p) => this.commit(fh, p),
        finish: (p) => this.rename(p, dest.path),
        abandon: (p) => this.rm(p),
      },
      this.ioSize('write', options.chunkSize),
      options,
    );
  }

  createWriteStream(path: string, options: StreamOptions & WriteFileOptions = {}): Writable {
    return new NfsWriteStream(this, path, {
      chunkSize: this.ioSize('write', options.chunkSize),
      concurrency: options.concurrency ?? 8,
      ...(options.commitWindow === undefined ? {} : { commitWindow: options.commitWindow }),
      create: async () => {
        const p = await this.parent(path);
        const attributes = { ...sattr(options, 0o644), size: 0 };
        return this.createFile({ dir: p.dir, name: p.name }, { mode: 'unchecked', attributes }, p.path);
      },
    });
  }

  async rename(from: string, to: string): Promise<void> {
    const [a, b] = await Promise.all([this.parent(from), this.parent(to)]);
    await this.call(RENAME, { from: { dir: a.dir, name: a.name }, to: { dir: b.dir, name: b.name } }, a.path);
    this.cache.forget(a.path);
    this.cache.forget(b.path);
  }

  async rm(path: string, options: { readonly recursive?: boolean } = {}): Promise<void> {
    const p = await this.parent(path);
    await removePath(this.removeTreePort, p.dir, p.name, p.path, options.recursive ?? false);
  }

  /** The tree removal's view of this client: READDIRPLUS from cookie 0, LOOKUP, RMDIR or REMOVE. */
  private readonly removeTreePort: RemoveTreePort = {
    listFromStart: async (dir, path) => {
      const res = await this.call(
        READDIRPLUS,
        { dir, cookie: 0n, cookieverf: ZERO_VERF, dircount: READDIR_MAX / 16, maxcount: READDIR_MAX },
        path,
      );
      return res.entries.map((e) => ({
        name: e.name,
        fileid: e.fileid,
        type: e.attributes?.type,
        handle: e.handle,
      }));
    },
    lookupType: async (dir, name, path) => {
      const found = await this.call(LOOKUP, { dir, name }, path);
      const type: FileType = found.objAttributes?.type ?? (await this.statHandle(found.object, path)).type;
      return { type, handle: found.object };
    },
    removeEntry: async (dir, name, path, type) => {
      if (type === 'directory') await this.call(RMDIR, { dir, name }, path);
      else await this.call(REMOVE, { dir, name }, path);
    },
    remember: (path, fh) => this.cache.set(path, fh),
    forget: (path) => this.cache.forget(path),
    listOp: 'READDIRPLUS',
  };

  async chmod(path: string, mode: number): Promise<void> {
    await this.call(SETATTR, { object: await this.resolve(path), attributes: { mode } }, path);
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    await this.call(SETATTR, { object: await this.resolve(path), attributes: { uid, gid } }, path);
  }

  async symlink(target: string, path: string): Promise<void> {
    const p = await this.parent(path);
    await this.call(
      SYMLINK,
      { where: { dir: p.dir, name: p.name }, attributes: { mode: 0o777 }, target },
      p.path,
    );
  }

  async readlink(path: string): Promise<string> {
    return (await this.call(READLINK, { symlink: await this.resolve(path) }, path)).data;
  }

  /** Bytes (disk usage, like `du`), files and directories under `path`, walked with READDIRPLUS. */
  usage(path: string): Promise<Usage> {
    return usage(this, path);
  }

  async statfs(path = ''): Promise<FsStat> {
    const r = await this.call(FSSTAT, { fsroot: await this.resolve(path) }, path);
    return {
      totalBytes: r.tbytes,
      freeBytes: r.fbytes,
      availableBytes: r.abytes,
      totalFiles: r.tfiles,
      freeFiles: r.ffiles,
    };
  }

  /** Lists the server's exports (MOUNT EXPORT). */
  async exports(): Promise<{ dir: string; groups: string[] }[]> {
    return this.mount.call(MOUNT3_PROGRAM, EXPORT, undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.mount.call(MOUNT3_PROGRAM, UMNT, this.target.exportPath, { timeoutMs: 2000 });
    } catch {
      // UMNT only tidies the server's mount list; nothing depends on it.
    }
    await Promise.all([this.mount.close(), this.nfs.close()]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function sattr(options: MkdirOptions | WriteFileOptions, defaultMode: number): Sattr3 {
  return {
    mode: options.mode ?? defaultMode,
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  };
}
