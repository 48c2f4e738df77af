import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { NfsvolError, ValidationError, isRetriable } from '../common/errors.js';
import { mapLimit } from '../common/concurrency.js';
import { authSys } from './rpc/auth.js';
import {
  RpcConnection,
  type CallOptions,
  type RpcConnectionOptions,
  type SocketFactory,
} from './rpc/rpc-connection.js';
import type { Procedure } from './rpc/procedure.js';
import { RpcError } from './rpc/rpc-error.js';
import { GETPORT, IPPROTO_TCP, PORTMAP_PROGRAM } from './portmap/index.js';
import { EXPORT, MNT, MOUNT3_PROGRAM, UMNT, mount3StatusName } from './mount3/index.js';
import {
  COMMIT,
  CREATE,
  FSINFO,
  FSSTAT,
  GETATTR,
  LOOKUP,
  MKDIR,
  NFS3_PROGRAM,
  READ,
  READDIRPLUS,
  READLINK,
  REMOVE,
  RENAME,
  RMDIR,
  SETATTR,
  StableHow,
  SYMLINK,
  WRITE,
  nfs3StatusName,
  nfs3StatusRetriable,
  type Fattr3,
  type Fh,
  type FsinfoOk,
  type Nfs3Result,
  type Sattr3,
} from './nfs3/index.js';
import { MountError, NfsError } from './nfs-error.js';
import { parseNfsUrl, type NfsTarget } from './nfs-url.js';
import { HandleCache } from './handle-cache.js';
import { joinPath, splitPath } from './paths.js';
import { NfsReadStream } from './read-stream.js';
import { checkRead, readError } from './read-check.js';
import { download } from './download.js';
import { upload } from './upload.js';
import { NfsWriteStream } from './write-stream.js';
import type {
  DirEntry,
  FileStat,
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

export interface NfsClientOptions {
  /** Calls in flight on the NFS connection. @default 64 */
  readonly maxInFlight?: number;
  /** Retries of idempotent calls after retriable failures (e.g. a server restart). @default 8 */
  readonly retries?: number;
  /**
   * Time one NFS, MOUNT or rpcbind call may take in total, retries and reconnects included: a
   * server that stops answering fails the call with RPC_TIMEOUT (retriable) after this long.
   * @default the URL's `timeout`, else 30000
   */
  readonly timeoutMs?: number;
  /**
   * Cached path -> handle entries. Lookups walk from the export root, so the directories in use
   * stay cached; a bulk create or remove touches each path once, and more entries would only hold
   * handles nobody asks for again (about 250 bytes each). @default 2048
   */
  readonly handleCacheSize?: number;
  /** @default net.connect */
  readonly socketFactory?: SocketFactory;
  /** Sees every reply record (golden-byte capture). */
  readonly onReply?: (record: Uint8Array, call: { prog: number; proc: number }) => void;
}

const ZERO_VERF = new Uint8Array(8);
const MAX_IO = 1024 * 1024;
const DIR_CONCURRENCY = 16;
/** Largest READDIRPLUS reply asked for. */
const READDIR_MAX = 1024 * 1024;
/** Default bound on a file read whole into memory (ReadFileOptions.maxBytes). */
const READ_FILE_MAX = 64 * 1024 * 1024;
/** Default bound on the entries of one listing (ReaddirOptions.maxEntries). */
const MAX_ENTRIES = 10_000_000;

/** One connected, mounted NFSv3 export. */
export interface Nfs3Session {
  readonly nfs: RpcConnection;
  readonly fsinfo: FsinfoOk;
  call<A, Ok, Fail>(
    proc: Procedure<A, Nfs3Result<Ok, Fail>>,
    args: A,
    path: string,
    options?: CallOptions,
  ): Promise<Ok>;
  resolve(path: string): Promise<Fh>;
}

/**
 * nfsvol's own NFSv3 client: speaks rpcbind, MOUNT and NFS over TCP itself, so the machine
 * running it needs no kernel NFS, no mount and (with `insecure` exports) no root.
 *
 * ```ts
 * await using nfs = await NfsClient.connect('nfs://server/export?uid=0&gid=0');
 * await nfs.mkdir('vol1', { mode: 0o770, uid: 1000, gid: 1000 });
 * ```
 */
export class NfsClient implements NfsFs, Nfs3Session {
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
    if (target.version !== 3) {
      throw new NfsvolError(
        'NFS_VERSION_UNSUPPORTED',
        `nfsvol's own client speaks NFSv3 for provisioning; use version=3 in the URL (hosts can still mount with ${target.version})`,
      );
    }
    const credential = authSys({
      uid: target.uid,
      gid: target.gid,
      gids: target.gids,
      machineName: hostname().slice(0, 255),
    });
    const common = {
      host: target.host,
      credential,
      reservedPort: target.reservedPort,
      timeoutMs: options.timeoutMs ?? target.timeoutMs,
      ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
      ...(options.onReply ? { onReply: options.onReply } : {}),
    };
    const [mountPort, nfsPort] = await discoverPorts(target, common);
    const mount = new RpcConnection({ ...common, port: mountPort, retries: 2 });
    const nfs = new RpcConnection({
      ...common,
      port: nfsPort,
      retries: options.retries ?? 8,
      maxInFlight: options.maxInFlight ?? 64,
    });
    try {
      const root = await mountExport(mount, target);
      const info = await nfs.call(NFS3_PROGRAM, FSINFO, { fsroot: root });
      if (!info.ok) {
        throw new NfsError(nfs3StatusName(info.status), 'FSINFO', '/', {
          hint: accessHint(info.status, target),
        });
      }
      return new NfsClient(target, nfs, mount, root, info.value, options);
    } catch (err) {
      await Promise.all([mount.close(), nfs.close()]);
      throw explainRefusal(err, target);
    }
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
    if (res.status === 70) this.cache.clear(); // NFS3ERR_STALE: every cached handle is suspect
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

  async stat(path: string): Promise<FileStat> {
    const fh = await this.resolve(path);
    return (await this.call(GETATTR, { object: fh }, joinPath(splitPath(path)))).objAttributes;
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
    const res = await this.call(MKDIR, { where: { dir: p.dir, name: p.name }, attributes }, p.path);
    const fh = res.object ?? (await this.call(LOOKUP, { dir: p.dir, name: p.name }, p.path)).object;
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
    const attrs = got ?? (await this.call(GETATTR, { object: fh }, path)).objAttributes;
    const fix: { mode?: number; uid?: number; gid?: number } = {};
    if (want.mode !== undefined && attrs.mode !== want.mode) fix.mode = want.mode;
    if (want.uid !== undefined && attrs.uid !== want.uid) fix.uid = want.uid;
    if (want.gid !== undefined && attrs.gid !== want.gid) fix.gid = want.gid;
    if (Object.keys(fix).length === 0) return attrs;
    const res = await this.call(SETATTR, { object: fh, attributes: fix }, path);
    return res.objWcc.after ?? (await this.call(GETATTR, { object: fh }, path)).objAttributes;
  }

  async mkdirp(path: string, options: MkdirOptions = {}): Promise<FileStat> {
    const parts = splitPath(path);
    let fh = this.root;
    let attrs: FileStat | undefined;
    for (let i = 0; i < parts.length; i++) {
      const sub = joinPath(parts.slice(0, i + 1));
      const cached = this.cache.get(sub);
      if (cached) {
        fh = cached;
        attrs = undefined;
        continue;
      }
      try {
        const res = await this.call(LOOKUP, { dir: fh, name: parts[i]! }, sub);
        if (res.objAttributes && res.objAttributes.type !== 'directory') {
          throw new NfsError('NFS3ERR_NOTDIR', 'MKDIR', `/${sub}`, { hint: 'exists and is not a directory' });
        }
        fh = res.object;
        attrs = res.objAttributes;
      } catch (err) {
        if (!(err instanceof NfsError && err.status === 'NFS3ERR_NOENT')) throw err;
        try {
          attrs = await this.mkdir(sub, options);
          fh = this.cache.get(sub) ?? (await this.resolveParts(parts.slice(0, i + 1)));
        } catch (mkErr) {
          // Another client made it first: that is what we wanted.
          if (!(mkErr instanceof NfsError && mkErr.status === 'NFS3ERR_EXIST')) throw mkErr;
          fh = await this.resolveParts(parts.slice(0, i + 1));
          attrs = undefined;
        }
      }
      this.cache.set(sub, fh);
    }
    return attrs ?? (await this.call(GETATTR, { object: fh }, joinPath(parts))).objAttributes;
  }

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
    const res = await this.call(
      CREATE,
      { where: { dir: p.dir, name: p.name }, how: { mode: 'unchecked', attributes } },
      p.path,
    );
    const fh = res.object ?? (await this.call(LOOKUP, { dir: p.dir, name: p.name }, p.path)).object;
    await this.writeAll(fh, p.path, bytes);
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
    const verf = randomBytes(8);
    const args = { where: { dir: p.dir, name: p.name }, how: { mode: 'exclusive' as const, verf } };
    const res = await this.call(CREATE, args, p.path, { resend: true });
    const fh = res.object ?? (await this.call(LOOKUP, { dir: p.dir, name: p.name }, p.path)).object;
    // The server kept the verifier in the file's times: set the real attributes now.
    const set = await this.call(
      SETATTR,
      { object: fh, attributes: { ...sattr(options, 0o644), atime: 'server', mtime: 'server' } },
      p.path,
    );
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (bytes && bytes.length > 0) return this.writeAll(fh, p.path, bytes);
    return set.objWcc.after;
  }

  /** Writes `bytes` durably; resolves to the attributes after a single-WRITE file, if sent. */
  private async writeAll(fh: Fh, path: string, bytes: Uint8Array): Promise<FileStat | undefined> {
    const chunk = this.ioSize('write');
    if (bytes.length <= chunk) {
      if (bytes.length === 0) return undefined;
      return (await this.writeLoop(fh, path, bytes, 0, StableHow.FILE_SYNC)).after;
    }
    const offsets: number[] = [];
    for (let off = 0; off < bytes.length; off += chunk) offsets.push(off);
    const verfs = await mapLimit(offsets, 8, (off) =>
      this.writeRange(fh, path, bytes.subarray(off, off + chunk), off, StableHow.UNSTABLE),
    );
    const committed = await this.call(COMMIT, { file: fh, offset: 0, count: 0 }, path);
    const stale = offsets.filter((_, i) => !sameVerf(verfs[i]!, committed.verf));
    // The server restarted between WRITE and COMMIT and may have lost those writes: resend them durably.
    await mapLimit(stale, 8, (off) =>
      this.writeRange(fh, path, bytes.subarray(off, off + chunk), off, StableHow.FILE_SYNC),
    );
    return undefined;
  }

  /** Writes one range, resending the rest after a short write; returns the write verifier. */
  async writeRange(
    fh: Fh,
    path: string,
    data: Uint8Array,
    offset: number,
    stable: StableHow,
  ): Promise<Uint8Array> {
    return (await this.writeLoop(fh, path, data, offset, stable)).verf;
  }

  private async writeLoop(
    fh: Fh,
    path: string,
    data: Uint8Array,
    offset: number,
    stable: StableHow,
  ): Promise<{ verf: Uint8Array; after: FileStat | undefined }> {
    let done = 0;
    let verf: Uint8Array = ZERO_VERF;
    let after: FileStat | undefined;
    while (done < data.length) {
      const res = await this.call(
        WRITE,
        { file: fh, offset: offset + done, stable, data: data.subarray(done) },
        path,
      );
      if (res.count === 0) {
        throw new NfsError('NFS3ERR_IO', 'WRITE', `/${path}`, { hint: 'server accepted 0 bytes' });
      }
      done += res.count;
      verf = res.verf;
      after = res.fileWcc.after;
      if (stable !== StableHow.UNSTABLE && res.committed === StableHow.UNSTABLE) {
        throw new NfsError('NFS3ERR_IO', 'WRITE', `/${path}`, {
          hint: 'server did not honour a stable write',
        });
      }
    }
    return { verf, after };
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
          const res = await this.call(CREATE, { where, how: { mode: 'guarded', attributes } }, tmpPath);
          return { fh: res.object ?? (await this.call(LOOKUP, where, tmpPath)).object, path: tmpPath };
        },
        writeRange: (fh, p, data, offset, stable) => this.writeRange(fh, p, data, offset, stable),
        commit: async (fh, p) => (await this.call(COMMIT, { file: fh, offset: 0, count: 0 }, p)).verf,
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
        const res = await this.call(
          CREATE,
          { where: { dir: p.dir, name: p.name }, how: { mode: 'unchecked', attributes } },
          p.path,
        );
        return res.object ?? (await this.call(LOOKUP, { dir: p.dir, name: p.name }, p.path)).object;
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
    const found = await this.call(LOOKUP, { dir: p.dir, name: p.name }, p.path);
    const type =
      found.objAttributes?.type ??
      (await this.call(GETATTR, { object: found.object }, p.path)).objAttributes.type;
    if (type === 'directory') {
      if (options.recursive) await this.emptyDir(found.object, p.path);
      await this.call(RMDIR, { dir: p.dir, name: p.name }, p.path);
    } else {
      await this.call(REMOVE, { dir: p.dir, name: p.name }, p.path);
    }
    this.cache.forget(p.path);
  }

  /** Removes everything in a directory: files many at a time, subdirectories depth first. */
  private async emptyDir(dir: Fh, path: string): Promise<void> {
    this.cache.set(path, dir);
    // What the previous pass removed: a server that lists it again would keep this loop going.
    let removed = new Map<string, bigint>();
    for (;;) {
      // Read one page at a time and delete it: removing entries while paging with cookies
      // is not reliable on every server, so start again from cookie 0 until the directory is empty.
      const res = await this.call(
        READDIRPLUS,
        { dir, cookie: 0n, cookieverf: ZERO_VERF, dircount: READDIR_MAX / 16, maxcount: READDIR_MAX },
        path,
      );
      const entries = res.entries.filter((e) => e.name !== '.' && e.name !== '..');
      if (entries.length === 0) return;
      for (const e of entries) {
        if (removed.get(e.name) === e.fileid) {
          throw new NfsError('NFS_PROTOCOL', 'READDIRPLUS', `/${path}`, {
            hint: `server still lists ${e.name} after removing it`,
          });
        }
      }
      removed = new Map(entries.map((e) => [e.name, e.fileid]));
      await mapLimit(entries, DIR_CONCURRENCY, async (e) => {
        const sub = `${path}/${e.name}`;
        let type = e.attributes?.type;
        let handle = e.handle;
        if (type === undefined || (type === 'directory' && handle === undefined)) {
          const l = await this.call(LOOKUP, { dir, name: e.name }, sub);
          handle = l.object;
          type =
            l.objAttributes?.type ?? (await this.call(GETATTR, { object: l.object }, sub)).objAttributes.type;
        }
        if (type === 'directory') {
          await this.emptyDir(handle!, sub);
          await this.call(RMDIR, { dir, name: e.name }, sub);
        } else {
          await this.call(REMOVE, { dir, name: e.name }, sub);
        }
        this.cache.forget(sub);
      });
    }
  }

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
  async usage(path: string): Promise<Usage> {
    const root = await this.stat(path);
    const total = {
      bytes: root.used,
      apparentBytes: root.type === 'file' ? root.size : 0,
      files: 0,
      directories: 0,
    };
    if (root.type !== 'directory') return { ...total, files: 1 };
    const walk = async (dirPath: string): Promise<void> => {
      const subdirs: string[] = [];
      for await (const page of this.readdirPages(dirPath))
        for (const e of page) {
          const st = e.stat ?? (await this.stat(`${dirPath}/${e.name}`));
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

function sameVerf(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}

const PRIVILEGED_PORT_FIX =
  'run nfsvol as root (it then binds one; reserved=1 in the URL), or allow other ports on the server: "insecure" in /etc/exports (kernel nfsd), "PrivilegedPort = false" (nfs-ganesha)';
const PRIVILEGED_PORT_HINT = `if the export requires a privileged source port (below 1024): ${PRIVILEGED_PORT_FIX}`;

/** What to tell a user whose call was refused for want of permission. */
function accessHint(status: number, target: NfsTarget): string | undefined {
  if (status !== 1 && status !== 13) return undefined;
  return target.reservedPort
    ? `server refused uid ${target.uid}: check root squashing and the export's client list`
    : `server refused the call; ${PRIVILEGED_PORT_HINT}`;
}

type ConnOptions = Omit<RpcConnectionOptions, 'port'>;

/**
 * A server that insists on a privileged source port answers AUTH_TOOWEAK (nfs-ganesha's
 * PrivilegedPort) or MNT3ERR_ACCES / NFS3ERR_PERM (kernel nfsd without `insecure`): say so.
 */
function explainRefusal(err: unknown, target: NfsTarget): unknown {
  if (!(err instanceof RpcError) || err.authStat !== 'AUTH_TOOWEAK') return err;
  const how = target.reservedPort
    ? 'nfsvol already used a reserved source port, so the server wants a stronger flavor than AUTH_SYS'
    : `the export requires a privileged source port (below 1024): ${PRIVILEGED_PORT_FIX}`;
  return new MountError(
    'MOUNT_PRIVILEGED_PORT',
    target.exportPath,
    `${target.host} refused ${target.exportPath} (AUTH_TOOWEAK): ${how}`,
    {
      cause: err,
    },
  );
}

/** Asks rpcbind for the MOUNT and NFS ports unless the URL gave them. */
async function discoverPorts(target: NfsTarget, common: ConnOptions): Promise<[number, number]> {
  if (target.port !== undefined && target.mountPort !== undefined) return [target.mountPort, target.port];
  await using pm = new RpcConnection({
    ...common,
    port: target.rpcbindPort,
    reservedPort: false,
    retries: 2,
  });
  const ask = async (prog: number, vers: number, name: string): Promise<number> => {
    let port: number;
    try {
      port = await pm.call(PORTMAP_PROGRAM, GETPORT, { prog, vers, prot: IPPROTO_TCP });
    } catch (err) {
      throw new MountError(
        'RPCBIND_UNREACHABLE',
        target.exportPath,
        `cannot ask rpcbind at ${target.host}:${target.rpcbindPort} for the ${name} port: ${(err as Error).message}; give the ports in the URL (nfs://host:PORT/export?mountport=N)`,
        { cause: err, retriable: isRetriable(err) },
      );
    }
    if (port === 0) {
      throw new MountError(
        'RPCBIND_NOT_REGISTERED',
        target.exportPath,
        `${name} v${vers} over TCP is not registered with rpcbind on ${target.host}: is the NFS server running with NFSv3 enabled?`,
      );
    }
    return port;
  };
  const mountPort = target.mountPort ?? (await ask(MOUNT3_PROGRAM.prog, 3, 'MOUNT'));
  const nfsPort = target.port ?? (await ask(NFS3_PROGRAM.prog, 3, 'NFS'));
  return [mountPort, nfsPort];
}

async function mountExport(mount: RpcConnection, target: NfsTarget): Promise<Fh> {
  let res;
  try {
    res = await mount.call(MOUNT3_PROGRAM, MNT, target.exportPath);
  } catch (err) {
    if (err instanceof RpcError && err.code === 'RPC_AUTH_ERROR') {
      throw new MountError(
        'MOUNT_REFUSED',
        target.exportPath,
        `${target.host} refused to mount ${target.exportPath}: ${err.message}`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
  if (res.ok) {
    const flavors = res.value.authFlavors;
    if (flavors.length > 0 && !flavors.includes(1)) {
      throw new MountError(
        'MOUNT_AUTH_UNSUPPORTED',
        target.exportPath,
        `export ${target.exportPath} on ${target.host} does not accept AUTH_SYS (it offers flavors ${flavors.join(', ')}); nfsvol needs sec=sys`,
      );
    }
    return res.value.fhandle;
  }
  const status = mount3StatusName(res.status);
  if (res.status === 2 || res.status === 13 || res.status === 1) {
    // Servers answer NOENT or ACCES for a path they do not export (ganesha says ACCES), so
    // look at the export list to tell "no such export" from "not allowed".
    let exported: string[] | undefined;
    try {
      exported = (await mount.call(MOUNT3_PROGRAM, EXPORT, undefined)).map((e) => e.dir);
    } catch {
      // the listing only improves the message
    }
    if (res.status === 2 || (exported !== undefined && !exported.includes(target.exportPath))) {
      const list = exported?.length
        ? `; exports this client may mount: ${exported.join(', ')}`
        : exported
          ? '; the server lists no export for this client'
          : '';
      const what =
        res.status === 2
          ? `export ${target.exportPath} does not exist on ${target.host}`
          : `export ${target.exportPath} does not exist on ${target.host}, or this client may not mount it (${status})`;
      const port = res.status !== 2 && !target.reservedPort ? `; ${PRIVILEGED_PORT_HINT}` : '';
      throw new MountError(status, target.exportPath, `${what}${list}${port}`);
    }
    throw new MountError(
      status,
      target.exportPath,
      `${target.host} refused to mount ${target.exportPath} (${status}): ${accessHint(res.status, target) ?? ''}`,
    );
  }
  throw new MountError(
    status,
    target.exportPath,
    `mounting ${target.exportPath} on ${target.host} failed: ${status}`,
  );
}
