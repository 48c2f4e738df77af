import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { NfsvolError, ValidationError } from '../../common/errors.js';
import { mapLimit } from '../../common/concurrency.js';
import { AUTH_SYS, authSys } from '../rpc/auth.js';
import { RpcConnection, type SocketFactory } from '../rpc/rpc-connection.js';
import { RpcError } from '../rpc/rpc-error.js';
import { MountError, NfsError } from '../nfs-error.js';
import { parseNfsUrl, type NfsTarget } from '../nfs-url.js';
import { mkdirp } from '../fs/mkdirp.js';
import type { MkdirpPort } from '../fs/port.js';
import { usage } from '../fs/usage.js';
import { HandleCache } from '../handle-cache.js';
import { joinPath, splitPath } from '../paths.js';
import { readError } from '../fs/read-check.js';
import type {
  DirEntry,
  FileStat,
  FsStat,
  MkdirOptions,
  NfsFs,
  ReaddirOptions,
  ReadFileOptions,
  StreamOptions,
  Usage,
  WriteFileOptions,
} from '../types.js';
import {
  FATTR4_FILEHANDLE,
  FATTR4_FILES_AVAIL,
  FATTR4_FILES_FREE,
  FATTR4_FILES_TOTAL,
  FATTR4_LEASE_TIME,
  FATTR4_MAXREAD,
  FATTR4_MAXWRITE,
  FATTR4_RDATTR_ERROR,
  FATTR4_SPACE_AVAIL,
  FATTR4_SPACE_FREE,
  FATTR4_SPACE_TOTAL,
  FATTR4_TYPE,
  STAT_ATTRS,
  type Fattr4,
  type Nfstime4,
  type SetAttrs4,
} from './attrs.js';
import { CLOSE } from './close.js';
import { COMMIT } from './commit.js';
import { NULL4 } from './compound.js';
import { CREATE } from './create.js';
import { DELEGRETURN } from './delegreturn.js';
import { GETATTR } from './getattr.js';
import { GETFH } from './getfh.js';
import { LOOKUP } from './lookup.js';
import {
  OPEN,
  OPEN4_SHARE_ACCESS_READ,
  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
  OPEN4_SHARE_ACCESS_WRITE,
  OPEN4_SHARE_DENY_NONE,
  type CreateHow4,
  type OpenOk,
} from './open.js';
import { NFS4_PROGRAM } from './program.js';
import { PUTFH } from './putfh.js';
import { PUTROOTFH } from './putrootfh.js';
import { READ } from './read.js';
import { READDIR, type Entry4 } from './readdir.js';
import { READLINK } from './readlink.js';
import { REMOVE } from './remove.js';
import { RENAME } from './rename.js';
import { SAVEFH } from './savefh.js';
import { SECINFO_NO_NAME } from './secinfo-no-name.js';
import {
  Nfs4Session,
  OpList,
  type Nfs4SessionOptions,
  type OpRef,
  type OpResults,
  type RunOptions,
} from './session.js';
import { SETATTR } from './setattr.js';
import { Nfs4Status } from './status.js';
import { ANONYMOUS_STATEID, CURRENT_STATEID, type Fh4, type Stateid4 } from './structs.js';
import { FILE_SYNC4, UNSTABLE4, WRITE } from './write.js';

export interface Nfs4ClientOptions extends Nfs4SessionOptions {
  /** Cached path -> handle entries (see NfsClientOptions.handleCacheSize). @default 2048 */
  readonly handleCacheSize?: number;
  /** @default net.connect */
  readonly socketFactory?: SocketFactory;
  /** Sees every reply record (golden-byte capture). */
  readonly onReply?: (record: Uint8Array, call: { prog: number; proc: number }) => void;
}

/**
 * The stateid WRITEs use: the OPEN's, until the server no longer knows it (it restarted, or
 * revoked the state), then the anonymous stateid, which needs no open state (RFC 8881 section
 * 8.2.3): the file stays writable across a server restart, as with NFSv3.
 */
interface WriteState {
  stateid: Stateid4;
}

const LOST_STATE = new Set([
  'NFS4ERR_BAD_STATEID',
  'NFS4ERR_STALE_STATEID',
  'NFS4ERR_OLD_STATEID',
  'NFS4ERR_EXPIRED',
  'NFS4ERR_ADMIN_REVOKED',
  'NFS4ERR_DELEG_REVOKED',
]);

/** The NFSv4 port: v4.1 servers need no rpcbind, and most serve only here. */
export const NFS4_PORT = 2049;
const MAX_IO = 1024 * 1024;
const DIR_CONCURRENCY = 16;
const READDIR_MAX = 256 * 1024;
/** The defaults NfsFs documents for ReadFileOptions.maxBytes and ReaddirOptions.maxEntries, as NfsClient has them. */
const READ_FILE_MAX = 64 * 1024 * 1024;
const MAX_ENTRIES = 10_000_000;
const ZERO_VERF = new Uint8Array(8);
/** Room for everything around READ/WRITE data in a COMPOUND reply or request. */
const COMPOUND_OVERHEAD = 4096;

/** Owner strings this client sends and reads: numeric ids ("1000"), which RFC 8881 section 5.9 allows with AUTH_SYS. */
function ownerString(id: number): string {
  return String(id);
}

/**
 * The server could not map an owner string to a user or group (NFS4ERR_BADOWNER): it wants
 * `user@domain` names and refuses numeric ids.
 */
export class Nfs4OwnerError extends NfsError {
  constructor(op: string, path: string, owner: string, options: { cause?: unknown } = {}) {
    super('NFS4ERR_BADOWNER', op, path, {
      ...options,
      hint: `the server refused owner "${owner}": let it accept numeric owners (nfs-ganesha: NFSV4 { Allow_Numeric_Owners = true; }; Linux nfsd: nfs4_disable_idmapping=Y) or use NFSv3`,
    });
  }
}

/** Parses an owner string back to an id: "1000", "1000@domain"; "root" is 0, "nobody" 65534. */
export function parseOwner(s: string): number {
  const name = s.includes('@') ? s.slice(0, s.indexOf('@')) : s;
  if (/^\d{1,10}$/.test(name)) {
    const n = Number(name);
    if (n <= 0xffffffff) return n;
  }
  if (name === 'root') return 0;
  // Names the server could not express as numbers: report "nobody" rather than fail a stat.
  return 65534;
}

function toDate(t: Nfstime4 | undefined): Date {
  if (t === undefined) return new Date(0);
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nseconds / 1e6));
}

function toStat(a: Fattr4, path: string): FileStat {
  if (a.type === undefined || a.type === 'attrdir' || a.type === 'namedattr') {
    throw new NfsError('NFS4ERR_SERVERFAULT', 'GETATTR', `/${path}`, { hint: 'server sent no usable type' });
  }
  return {
    type: a.type,
    mode: a.mode ?? 0,
    nlink: a.numlinks ?? 1,
    uid: a.owner === undefined ? 0 : parseOwner(a.owner),
    gid: a.ownerGroup === undefined ? 0 : parseOwner(a.ownerGroup),
    size: a.size ?? 0,
    used: a.spaceUsed ?? a.size ?? 0,
    fileid: a.fileid ?? 0n,
    atime: toDate(a.atime),
    mtime: toDate(a.mtime),
    ctime: toDate(a.ctime),
  };
}

function setAttrs(options: MkdirOptions | WriteFileOptions, defaultMode: number): SetAttrs4 {
  return {
    mode: options.mode ?? defaultMode,
    ...(options.uid === undefined ? {} : { owner: ownerString(options.uid) }),
    ...(options.gid === undefined ? {} : { ownerGroup: ownerString(options.gid) }),
  };
}

/** BADOWNER from an operation that set `attrs`: name the owner the server refused. */
function explainOwner(err: unknown, attrs: SetAttrs4): unknown {
  if (!(err instanceof NfsError) || err.status !== 'NFS4ERR_BADOWNER') return err;
  const owner = [attrs.owner, attrs.ownerGroup].filter((x) => x !== undefined).join('/');
  return new Nfs4OwnerError(err.op, err.path, owner, { cause: err });
}

/**
 * nfsvol's NFSv4.1 client: one TCP connection to port 2049 (no rpcbind, no MOUNT), one session,
 * COMPOUNDs with many in flight within the slot table the server grants.
 *
 * ```ts
 * await using nfs = await Nfs4Client.connect('nfs://server/export?version=4.1');
 * await nfs.mkdir('vol1', { mode: 0o770, uid: 1000, gid: 1000 });
 * ```
 */
export class Nfs4Client implements NfsFs {
  private readonly cache: HandleCache;
  private readonly openOwner = randomBytes(12);
  private leaseTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly target: NfsTarget,
    private readonly conn: RpcConnection,
    readonly session: Nfs4Session,
    private readonly root: Fh4,
    private readonly maxRead: number,
    private readonly maxWrite: number,
    leaseSeconds: number,
    options: Nfs4ClientOptions,
  ) {
    this.cache = new HandleCache(options.handleCacheSize ?? 2_048);
    // Renew the lease when idle: a SEQUENCE every third of the lease keeps the client id alive
    // across two lost renewals.
    const every = Math.max(1000, (leaseSeconds * 1000) / 3);
    this.leaseTimer = setInterval(() => {
      if (this.session.idleMs() >= every) void this.session.ping().catch(() => undefined);
    }, every);
    this.leaseTimer.unref();
  }

  /** Connects and opens a session. `url` is `nfs://host[:port]/export?version=4.1`. */
  static async connect(url: string | NfsTarget, options: Nfs4ClientOptions = {}): Promise<Nfs4Client> {
    const target = typeof url === 'string' ? parseNfsUrl(url) : url;
    const conn = new RpcConnection({
      host: target.host,
      port: target.port ?? NFS4_PORT,
      credential: authSys({
        uid: target.uid,
        gid: target.gid,
        gids: target.gids,
        machineName: hostname().slice(0, 255),
      }),
      reservedPort: target.reservedPort,
      timeoutMs: target.timeoutMs,
      // A full slot table plus the few sessionless calls (CREATE_SESSION during recovery).
      maxInFlight: (options.slots ?? 64) + 4,
      ...(options.socketFactory ? { socketFactory: options.socketFactory } : {}),
      ...(options.onReply ? { onReply: options.onReply } : {}),
    });
    const session = new Nfs4Session(conn, options);
    try {
      await conn.call(NFS4_PROGRAM, NULL4, undefined);
      await session.establish();
      const { root, attrs } = await lookupExport(session, target);
      const channel = session.channel;
      const maxRead = Math.min(attrs.maxread || MAX_IO, channel.maxResponseSize - COMPOUND_OVERHEAD, MAX_IO);
      const maxWrite = Math.min(attrs.maxwrite || MAX_IO, channel.maxRequestSize - COMPOUND_OVERHEAD, MAX_IO);
      return new Nfs4Client(
        target,
        conn,
        session,
        root,
        Math.max(512, maxRead),
        Math.max(512, maxWrite),
        attrs.leaseTime ?? 90,
        options,
      );
    } catch (err) {
      await session.destroy().catch(() => undefined);
      await conn.close();
      throw explainConnect(err, target);
    }
  }

  /** READ/WRITE size: the server's maximum within its session limits, capped at 1 MiB. */
  ioSize(kind: 'read' | 'write', requested?: number): number {
    const max = kind === 'read' ? this.maxRead : this.maxWrite;
    return Math.max(512, Math.min(requested ?? max, max));
  }

  private run(ops: OpList, options: RunOptions): Promise<OpResults> {
    return this.session.run(ops, options).catch((err: unknown) => {
      if (err instanceof NfsError && (err.status === 'NFS4ERR_STALE' || err.status === 'NFS4ERR_FHEXPIRED')) {
        this.cache.clear();
      }
      throw err;
    });
  }

  /**
   * Starts a COMPOUND at `parts`: PUTFH of the longest cached prefix, then LOOKUP + GETFH for
   * each remaining component, caching every handle on success. One round trip for the walk.
   */
  private walk(ops: OpList, parts: readonly string[]): { done: (r: OpResults) => void } {
    let i = parts.length;
    let fh: Fh4 | undefined;
    while (i > 0 && (fh = this.cache.get(joinPath(parts.slice(0, i)))) === undefined) i--;
    ops.add(PUTFH, fh ?? this.root, `/${joinPath(parts.slice(0, i))}`);
    const refs: { path: string; ref: OpRef<Fh4> }[] = [];
    for (; i < parts.length; i++) {
      const path = joinPath(parts.slice(0, i + 1));
      ops.add(LOOKUP, parts[i]!, `/${path}`);
      refs.push({ path, ref: ops.add(GETFH, undefined, `/${path}`) });
    }
    return {
      done: (r) => {
        for (const { path, ref } of refs) this.cache.set(path, r.get(ref));
      },
    };
  }

  /** Resolves a path to a file handle (one COMPOUND for the uncached part). */
  async resolve(path: string): Promise<Fh4> {
    const parts = splitPath(path);
    const cached = parts.length === 0 ? this.root : this.cache.get(joinPath(parts));
    if (cached) return cached;
    const ops = new OpList();
    const w = this.walk(ops, parts);
    const fh = ops.add(GETFH, undefined, `/${joinPath(parts)}`);
    const r = await this.run(ops, { idempotent: true, path: `/${joinPath(parts)}` });
    w.done(r);
    return r.get(fh);
  }

  private async parent(path: string): Promise<{ dir: Fh4; name: string; path: string; dirParts: string[] }> {
    const parts = splitPath(path);
    const name = parts.pop();
    if (name === undefined) throw new NfsvolError('NFS_BAD_PATH', 'the export root has no parent');
    return {
      dir: await this.resolve(joinPath(parts)),
      name,
      path: joinPath([...parts, name]),
      dirParts: parts,
    };
  }

  async stat(path: string): Promise<FileStat> {
    const parts = splitPath(path);
    const ops = new OpList();
    const w = this.walk(ops, parts);
    const attrs = ops.add(GETATTR, STAT_ATTRS, `/${joinPath(parts)}`);
    const r = await this.run(ops, { idempotent: true, path: `/${joinPath(parts)}` });
    w.done(r);
    return toStat(r.get(attrs), joinPath(parts));
  }

  async exists(path: string): Promise<FileStat | undefined> {
    try {
      return await this.stat(path);
    } catch (err) {
      if (err instanceof NfsError && err.status === 'NFS4ERR_NOENT') return undefined;
      throw err;
    }
  }

  async mkdir(path: string, options: MkdirOptions = {}): Promise<FileStat> {
    const p = await this.parent(path);
    const attrs = setAttrs(options, 0o755);
    const ops = new OpList();
    ops.add(PUTFH, p.dir, `/${joinPath(p.dirParts)}`);
    ops.add(CREATE, { objtype: { type: 'directory' }, name: p.name, attrs }, `/${p.path}`);
    const fh = ops.add(GETFH, undefined, `/${p.path}`);
    const got = ops.add(GETATTR, STAT_ATTRS, `/${p.path}`);
    let r;
    try {
      r = await this.run(ops, { path: `/${p.path}` });
    } catch (err) {
      throw explainOwner(err, attrs);
    }
    this.cache.set(p.path, r.get(fh));
    return this.ensureAttributes(r.get(fh), p.path, toStat(r.get(got), p.path), attrs);
  }

  /** Servers may apply a umask to a create's mode or ignore its owner: check and fix with SETATTR. */
  private async ensureAttributes(fh: Fh4, path: string, got: FileStat, want: SetAttrs4): Promise<FileStat> {
    const fix: { mode?: number; owner?: string; ownerGroup?: string } = {};
    if (want.mode !== undefined && got.mode !== want.mode) fix.mode = want.mode;
    if (want.owner !== undefined && ownerString(got.uid) !== want.owner) fix.owner = want.owner;
    if (want.ownerGroup !== undefined && ownerString(got.gid) !== want.ownerGroup)
      fix.ownerGroup = want.ownerGroup;
    if (Object.keys(fix).length === 0) return got;
    const ops = new OpList();
    ops.add(PUTFH, fh, `/${path}`);
    ops.add(SETATTR, { stateid: ANONYMOUS_STATEID, attrs: fix }, `/${path}`);
    const after = ops.add(GETATTR, STAT_ATTRS, `/${path}`);
    try {
      return toStat((await this.run(ops, { idempotent: true, path: `/${path}` })).get(after), path);
    } catch (err) {
      throw explainOwner(err, fix);
    }
  }

  mkdirp(path: string, options: MkdirOptions = {}): Promise<FileStat> {
    return mkdirp(this.mkdirpPort, path, options);
  }

  /** mkdirp's view of this client: a lookup is a stat (one COMPOUND from the cached prefix). */
  private readonly mkdirpPort: MkdirpPort = {
    stat: (path) => this.stat(path),
    mkdir: (path, options) => this.mkdir(path, options),
    isCached: (path) => this.cache.get(path) !== undefined,
    lookup: (path) => this.stat(path),
    statuses: { noEntry: 'NFS4ERR_NOENT', exists: 'NFS4ERR_EXIST', notDir: 'NFS4ERR_NOTDIR' },
    createOp: 'CREATE',
  };

  /** A directory's entries a READDIR reply at a time. */
  async *readdirPages(path: string, options: ReaddirOptions = {}): AsyncIterable<DirEntry[]> {
    // maxEntries bounds a listing so that a server that lists without end cannot make it run forever.
    const maxEntries = options.maxEntries ?? MAX_ENTRIES;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new ValidationError('maxEntries', `must be a positive integer, got ${maxEntries}`);
    }
    let count = 0;
    const parts = splitPath(path);
    const dir = await this.resolve(joinPath(parts));
    const dirPath = joinPath(parts);
    const prefix = dirPath ? `${dirPath}/` : '';
    const maxcount = this.readdirBytes(options.pageBytes);
    let cookie = 0n;
    let cookieverf: Uint8Array = ZERO_VERF;
    for (;;) {
      const ops = new OpList();
      ops.add(PUTFH, dir, `/${dirPath}`);
      const rd = ops.add(
        READDIR,
        {
          cookie,
          cookieverf,
          dircount: maxcount,
          maxcount,
          attrs: [...STAT_ATTRS, FATTR4_RDATTR_ERROR, FATTR4_FILEHANDLE].sort((a, b) => a - b),
        },
        `/${dirPath}`,
      );
      const res = (await this.run(ops, { idempotent: true, path: `/${dirPath}` })).get(rd);
      count += res.entries.length;
      if (count > maxEntries) {
        throw new NfsError('NFS_TOO_LARGE', 'READDIR', `/${dirPath}`, {
          hint: `more than ${maxEntries} entries (the listing's maxEntries)`,
        });
      }
      const page: DirEntry[] = [];
      for (const e of res.entries) {
        cookie = e.cookie;
        page.push(this.dirEntry(e, prefix));
      }
      yield page;
      if (res.eof) return;
      if (res.entries.length === 0) {
        throw new NfsError('NFS4ERR_SERVERFAULT', 'READDIR', `/${dirPath}`, {
          hint: 'server returned no entries and no end of directory',
        });
      }
      cookieverf = Uint8Array.from(res.cookieverf);
    }
  }

  private readdirBytes(requested?: number): number {
    const want = Math.max(4096, Math.min(requested ?? READDIR_MAX, 1024 * 1024));
    return Math.min(want, this.session.channel.maxResponseSize - COMPOUND_OVERHEAD);
  }

  private dirEntry(e: Entry4, prefix: string): DirEntry {
    const a = e.attrs;
    const usable = a.rdattrError === undefined || a.rdattrError === Nfs4Status.NFS4_OK;
    if (a.filehandle && a.type === 'directory')
      this.cache.set(prefix + e.name, Uint8Array.from(a.filehandle));
    return {
      name: e.name,
      fileid: a.fileid ?? 0n,
      ...(usable && a.type !== undefined ? { stat: toStat(a, prefix + e.name) } : {}),
      ...(a.filehandle ? { handle: Uint8Array.from(a.filehandle) } : {}),
    };
  }

  async *readdirIter(path: string, options: ReaddirOptions = {}): AsyncIterable<DirEntry> {
    for await (const page of this.readdirPages(path, options)) yield* page;
  }

  async readdir(path: string, options: ReaddirOptions = {}): Promise<DirEntry[]> {
    const out: DirEntry[] = [];
    for await (const page of this.readdirPages(path, options)) out.push(...page);
    return out;
  }

  /** Reads with the anonymous stateid (RFC 8881 section 8.2.3): no OPEN/CLOSE for a read. */
  private async readAt(
    fh: Fh4,
    path: string,
    offset: number,
    count: number,
  ): Promise<{ eof: boolean; data: Buffer }> {
    const ops = new OpList();
    ops.add(PUTFH, fh, `/${path}`);
    const rd = ops.add(READ, { stateid: ANONYMOUS_STATEID, offset, count }, `/${path}`);
    const res = (await this.run(ops, { idempotent: true, path: `/${path}` })).get(rd);
    return { eof: res.eof, data: Buffer.from(res.data) };
  }

  async readFile(path: string, options: ReadFileOptions = {}): Promise<Buffer> {
    const maxBytes = options.maxBytes ?? READ_FILE_MAX;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new ValidationError('maxBytes', `must be a whole number of bytes, got ${maxBytes}`);
    }
    const p = joinPath(splitPath(path));
    const fh = options.handle ?? (await this.resolve(p));
    const chunk = this.ioSize('read');
    const chunks: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const { eof, data } = await this.readAt(fh, p, offset, chunk);
      offset += data.length;
      // Hold no more than the caller allowed: a longer file fails once its byte past maxBytes arrives.
      if (offset > maxBytes) {
        throw readError('NFS_TOO_LARGE', p, `the file is longer, over maxBytes (${maxBytes})`);
      }
      chunks.push(data);
      if (eof || data.length === 0) return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    }
  }

  /** OPEN for writing (creating the file as `create` says) in `dir`; the caller CLOSEs. */
  private async openForWrite(
    dir: Fh4,
    dirPath: string,
    name: string,
    path: string,
    create: CreateHow4,
  ): Promise<{ fh: Fh4; stateid: Stateid4; stat: FileStat }> {
    const ops = new OpList();
    ops.add(PUTFH, dir, `/${dirPath}`);
    const open = ops.add(
      OPEN,
      {
        shareAccess: OPEN4_SHARE_ACCESS_WRITE | OPEN4_SHARE_ACCESS_READ | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
        shareDeny: OPEN4_SHARE_DENY_NONE,
        owner: { clientid: this.session.clientId, owner: this.openOwner },
        create,
        claim: { type: 'null', name },
      },
      `/${path}`,
    );
    const fh = ops.add(GETFH, undefined, `/${path}`);
    const attrs = ops.add(GETATTR, STAT_ATTRS, `/${path}`);
    let r;
    try {
      r = await this.run(ops, { path: `/${path}` });
    } catch (err) {
      throw explainOwner(err, create.attrs);
    }
    const opened: OpenOk = r.get(open);
    if (opened.delegation.type !== 'none')
      await this.returnDelegation(r.get(fh), opened.delegation.stateid, path);
    return { fh: r.get(fh), stateid: opened.stateid, stat: toStat(r.get(attrs), path) };
  }

  private async returnDelegation(fh: Fh4, stateid: Stateid4, path: string): Promise<void> {
    const ops = new OpList();
    ops.add(PUTFH, fh, `/${path}`);
    ops.add(DELEGRETURN, stateid, `/${path}`);
    await this.run(ops, { path: `/${path}` }).catch(() => undefined);
  }

  private async close4(fh: Fh4, stateid: Stateid4, path: string): Promise<void> {
    const ops = new OpList();
    ops.add(PUTFH, fh, `/${path}`);
    ops.add(CLOSE, stateid, `/${path}`);
    await this.run(ops, { path: `/${path}` });
  }

  /** Writes `bytes` at 0 durably: one FILE_SYNC WRITE, or UNSTABLE WRITEs in flight and a COMMIT. */
  private async writeAll(
    fh: Fh4,
    state: WriteState,
    path: string,
    bytes: Uint8Array,
  ): Promise<FileStat | undefined> {
    if (bytes.length === 0) return undefined;
    const chunk = this.ioSize('write');
    if (bytes.length <= chunk) {
      return (await this.writeRange(fh, state, path, bytes, 0, FILE_SYNC4, true)).stat;
    }
    const offsets: number[] = [];
    for (let off = 0; off < bytes.length; off += chunk) offsets.push(off);
    const verfs = await mapLimit(
      offsets,
      8,
      async (off) =>
        (await this.writeRange(fh, state, path, bytes.subarray(off, off + chunk), off, UNSTABLE4, false))
          .verf,
    );
    const ops = new OpList();
    ops.add(PUTFH, fh, `/${path}`);
    const c = ops.add(COMMIT, { offset: 0, count: 0 }, `/${path}`);
    const attrs = ops.add(GETATTR, STAT_ATTRS, `/${path}`);
    const r = await this.run(ops, { idempotent: true, path: `/${path}` });
    const committed = r.get(c);
    // A changed verifier means the server restarted and may have lost unstable data: resend durably.
    const stale = offsets.filter((_, i) => Buffer.compare(verfs[i]!, committed) !== 0);
    await mapLimit(stale, 8, (off) =>
      this.writeRange(fh, state, path, bytes.subarray(off, off + chunk), off, FILE_SYNC4, false),
    );
    return stale.length === 0 ? toStat(r.get(attrs), path) : undefined;
  }

  private async writeRange(
    fh: Fh4,
    state: WriteState,
    path: string,
    data: Uint8Array,
    offset: number,
    stable: number,
    withAttrs: boolean,
  ): Promise<{ verf: Uint8Array; stat: FileStat | undefined }> {
    let done = 0;
    let verf: Uint8Array = ZERO_VERF;
    let stat: FileStat | undefined;
    while (done < data.length) {
      const ops = new OpList();
      ops.add(PUTFH, fh, `/${path}`);
      const stateid = state.stateid;
      const w = ops.add(
        WRITE,
        { stateid, offset: offset + done, stable, data: data.subarray(done) },
        `/${path}`,
      );
      const a = withAttrs ? ops.add(GETATTR, STAT_ATTRS, `/${path}`) : undefined;
      let r;
      try {
        r = await this.run(ops, { idempotent: true, path: `/${path}` });
      } catch (err) {
        if (!(err instanceof NfsError && LOST_STATE.has(err.status)) || stateid === ANONYMOUS_STATEID)
          throw err;
        state.stateid = ANONYMOUS_STATEID;
        continue;
      }
      const res = r.get(w);
      if (res.count === 0)
        throw new NfsError('NFS4ERR_IO', 'WRITE', `/${path}`, { hint: 'server accepted 0 bytes' });
      if (stable !== UNSTABLE4 && res.committed === UNSTABLE4) {
        throw new NfsError('NFS4ERR_IO', 'WRITE', `/${path}`, {
          hint: 'server did not honour a stable write',
        });
      }
      done += res.count;
      verf = Uint8Array.from(res.verf);
      stat = a && done >= data.length ? toStat(r.get(a), path) : undefined;
    }
    return { verf, stat };
  }

  async writeFile(path: string, data: Uint8Array | string, options: WriteFileOptions = {}): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const p = await this.parent(path);
    const attrs = { ...setAttrs(options, 0o644), size: 0 };
    if (bytes.length > 0 && bytes.length <= this.ioSize('write')) {
      await this.writeSmall(p.dir, joinPath(p.dirParts), p.name, p.path, attrs, bytes);
      return;
    }
    const f = await this.openForWrite(p.dir, joinPath(p.dirParts), p.name, p.path, {
      mode: 'unchecked',
      attrs,
    });
    this.cache.set(p.path, f.fh);
    const state: WriteState = { stateid: f.stateid };
    try {
      await this.writeAll(f.fh, state, p.path, bytes);
    } finally {
      await this.closeQuietly(f.fh, f.stateid, state, p.path);
    }
  }

  /**
   * A file that fits one WRITE in one round trip: OPEN (create or truncate), GETFH, a FILE_SYNC
   * WRITE and CLOSE, the last two naming the OPEN's stateid as the current one. If the WRITE fails
   * the CLOSE does not run: the open is then released with the client id (at close, or when the
   * lease ends).
   */
  private async writeSmall(
    dir: Fh4,
    dirPath: string,
    name: string,
    path: string,
    attrs: SetAttrs4,
    bytes: Uint8Array,
  ): Promise<void> {
    const ops = new OpList();
    ops.add(PUTFH, dir, `/${dirPath}`);
    const open = ops.add(
      OPEN,
      {
        shareAccess: OPEN4_SHARE_ACCESS_WRITE | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
        shareDeny: OPEN4_SHARE_DENY_NONE,
        owner: { clientid: this.session.clientId, owner: this.openOwner },
        create: { mode: 'unchecked', attrs },
        claim: { type: 'null', name },
      },
      `/${path}`,
    );
    const fh = ops.add(GETFH, undefined, `/${path}`);
    const w = ops.add(
      WRITE,
      { stateid: CURRENT_STATEID, offset: 0, stable: FILE_SYNC4, data: bytes },
      `/${path}`,
    );
    ops.add(CLOSE, CURRENT_STATEID, `/${path}`);
    let r;
    try {
      r = await this.run(ops, { path: `/${path}` });
    } catch (err) {
      throw explainOwner(err, attrs);
    }
    this.cache.set(path, r.get(fh));
    const opened: OpenOk = r.get(open);
    if (opened.delegation.type !== 'none')
      await this.returnDelegation(r.get(fh), opened.delegation.stateid, path);
    const res = r.get(w);
    if (res.count < bytes.length || res.committed === UNSTABLE4) {
      // A short or unstable answer to a small FILE_SYNC write: finish it the long way.
      await this.writeRange(r.get(fh), { stateid: ANONYMOUS_STATEID }, path, bytes, 0, FILE_SYNC4, false);
    }
  }

  /** CLOSEs an open whose state the server still has; a failed CLOSE only leaves state to expire. */
  private async closeQuietly(fh: Fh4, opened: Stateid4, state: WriteState, path: string): Promise<void> {
    if (state.stateid !== opened) return;
    await this.close4(fh, opened, path).catch(() => undefined);
  }

  async createExclusive(
    path: string,
    data?: Uint8Array | string,
    options: WriteFileOptions = {},
  ): Promise<FileStat | undefined> {
    const p = await this.parent(path);
    const attrs = setAttrs(options, 0o644);
    // EXCLUSIVE4_1 (RFC 8881 section 18.16.3): the verifier makes a resent OPEN succeed and a
    // competing one fail with NFS4ERR_EXIST; unlike EXCLUSIVE4 the attributes are set at once.
    const verf = randomBytes(8);
    let f;
    try {
      f = await this.openForWrite(p.dir, joinPath(p.dirParts), p.name, p.path, {
        mode: 'exclusive4_1',
        verf,
        attrs,
      });
    } catch (err) {
      // A directory of that name: OPEN answers NFS4ERR_ISDIR before it looks at the create
      // mode (RFC 8881 section 18.16). The name is taken all the same, and callers (the
      // registry's exclusive creates) know that answer as EXIST, as NFSv3 gives it.
      if (err instanceof NfsError && err.status === 'NFS4ERR_ISDIR') {
        throw new NfsError('NFS4ERR_EXIST', err.op, err.path, { cause: err });
      }
      // A server without EXCLUSIVE4_1 support: GUARDED4 is exclusive on the server too.
      if (!(err instanceof NfsError && ['NFS4ERR_NOTSUPP', 'NFS4ERR_INVAL'].includes(err.status))) throw err;
      f = await this.openForWrite(p.dir, joinPath(p.dirParts), p.name, p.path, { mode: 'guarded', attrs });
    }
    this.cache.set(p.path, f.fh);
    let stat: FileStat | undefined;
    const state: WriteState = { stateid: f.stateid };
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      // The server may keep the verifier in the file's times (RFC 8881 section 18.16.3): set
      // them, with the attributes asked for, now that the create is settled.
      const ops = new OpList();
      ops.add(PUTFH, f.fh, `/${p.path}`);
      const set = { ...attrs, atime: 'server' as const, mtime: 'server' as const };
      // The anonymous stateid: setting no size, this needs no open state, so it survives a
      // server restart between the OPEN and here.
      ops.add(SETATTR, { stateid: ANONYMOUS_STATEID, attrs: set }, `/${p.path}`);
      const after = ops.add(GETATTR, STAT_ATTRS, `/${p.path}`);
      try {
        stat = toStat((await this.run(ops, { idempotent: true, path: `/${p.path}` })).get(after), p.path);
      } catch (err) {
        throw explainOwner(err, attrs);
      }
      if (bytes && bytes.length > 0) stat = await this.writeAll(f.fh, state, p.path, bytes);
    } finally {
      await this.closeQuietly(f.fh, f.stateid, state, p.path);
    }
    return stat;
  }

  createReadStream(path: string, options: StreamOptions = {}): Readable {
    const chunk = this.ioSize('read', options.chunkSize);
    const p = joinPath(splitPath(path));
    const chunks = async function* (client: Nfs4Client): AsyncGenerator<Buffer> {
      const fh = await client.resolve(p);
      let offset = 0;
      for (;;) {
        const { eof, data } = await client.readAt(fh, p, offset, chunk);
        if (data.length > 0) yield data;
        offset += data.length;
        if (eof || data.length === 0) return;
      }
    };
    return Readable.from(chunks(this), { objectMode: false });
  }

  /** Sequential UNSTABLE WRITEs, a COMMIT and CLOSE at the end. */
  createWriteStream(path: string, options: StreamOptions & WriteFileOptions = {}): Writable {
    let file: { fh: Fh4; opened: Stateid4; state: WriteState; path: string } | undefined;
    let offset = 0;
    const verfs: Uint8Array[] = [];
    const open = async (): Promise<{ fh: Fh4; opened: Stateid4; state: WriteState; path: string }> => {
      if (file) return file;
      const p = await this.parent(path);
      const attrs = { ...setAttrs(options, 0o644), size: 0 };
      const f = await this.openForWrite(p.dir, joinPath(p.dirParts), p.name, p.path, {
        mode: 'unchecked',
        attrs,
      });
      file = { fh: f.fh, opened: f.stateid, state: { stateid: f.stateid }, path: p.path };
      return file;
    };
    const chunk = this.ioSize('write', options.chunkSize);
    return new Writable({
      write: (data: Buffer, _enc, cb) => {
        void (async () => {
          const f = await open();
          for (let off = 0; off < data.length; off += chunk) {
            const part = data.subarray(off, off + chunk);
            verfs.push((await this.writeRange(f.fh, f.state, f.path, part, offset, UNSTABLE4, false)).verf);
            offset += part.length;
          }
        })().then(() => cb(), cb);
      },
      final: (cb) => {
        void (async () => {
          const f = await open();
          const ops = new OpList();
          ops.add(PUTFH, f.fh, `/${f.path}`);
          const c = ops.add(COMMIT, { offset: 0, count: 0 }, `/${f.path}`);
          const verf = (await this.run(ops, { idempotent: true, path: `/${f.path}` })).get(c);
          await this.closeQuietly(f.fh, f.opened, f.state, f.path);
          if (verfs.some((v) => Buffer.compare(v, verf) !== 0)) {
            // Unstable data is not kept for resending here: the caller writes the stream again.
            throw new NfsError('NFS4ERR_IO', 'COMMIT', `/${f.path}`, {
              retriable: true,
              hint: 'the server restarted during the write and may have lost data; write the file again',
            });
          }
        })().then(() => cb(), cb);
      },
    });
  }

  async rename(from: string, to: string): Promise<void> {
    const [a, b] = await Promise.all([this.parent(from), this.parent(to)]);
    const ops = new OpList();
    ops.add(PUTFH, a.dir, `/${joinPath(a.dirParts)}`);
    ops.add(SAVEFH, undefined, `/${joinPath(a.dirParts)}`);
    ops.add(PUTFH, b.dir, `/${joinPath(b.dirParts)}`);
    ops.add(RENAME, { oldname: a.name, newname: b.name }, `/${a.path}`);
    await this.run(ops, { path: `/${a.path}` });
    this.cache.forget(a.path);
    this.cache.forget(b.path);
  }

  async rm(path: string, options: { readonly recursive?: boolean } = {}): Promise<void> {
    const p = await this.parent(path);
    if (options.recursive) {
      const ops = new OpList();
      ops.add(PUTFH, p.dir, `/${joinPath(p.dirParts)}`);
      ops.add(LOOKUP, p.name, `/${p.path}`);
      const fh = ops.add(GETFH, undefined, `/${p.path}`);
      const t = ops.add(GETATTR, [FATTR4_TYPE], `/${p.path}`);
      const r = await this.run(ops, { idempotent: true, path: `/${p.path}` });
      if (r.get(t).type === 'directory') await this.emptyDir(r.get(fh), p.path);
    }
    const ops = new OpList();
    ops.add(PUTFH, p.dir, `/${joinPath(p.dirParts)}`);
    ops.add(REMOVE, p.name, `/${p.path}`);
    await this.run(ops, { path: `/${p.path}` });
    this.cache.forget(p.path);
  }

  /** Removes everything in a directory: entries many at a time, subdirectories depth first. */
  private async emptyDir(dir: Fh4, path: string): Promise<void> {
    for (;;) {
      // Restart from cookie 0 after each page: paging on while removing is not reliable everywhere.
      const ops = new OpList();
      ops.add(PUTFH, dir, `/${path}`);
      const rd = ops.add(
        READDIR,
        {
          cookie: 0n,
          cookieverf: ZERO_VERF,
          dircount: this.readdirBytes(),
          maxcount: this.readdirBytes(),
          attrs: [FATTR4_TYPE, FATTR4_FILEHANDLE],
        },
        `/${path}`,
      );
      const entries = (await this.run(ops, { idempotent: true, path: `/${path}` })).get(rd).entries;
      if (entries.length === 0) return;
      await mapLimit(entries, DIR_CONCURRENCY, async (e) => {
        const sub = `${path}/${e.name}`;
        if (e.attrs.type === 'directory') {
          const fh = e.attrs.filehandle ? Uint8Array.from(e.attrs.filehandle) : await this.resolve(sub);
          await this.emptyDir(fh, sub);
        }
        const del = new OpList();
        del.add(PUTFH, dir, `/${path}`);
        del.add(REMOVE, e.name, `/${sub}`);
        try {
          await this.run(del, { path: `/${sub}` });
        } catch (err) {
          // Gone already (another remover): that is what we wanted.
          if (!(err instanceof NfsError && err.status === 'NFS4ERR_NOENT')) throw err;
        }
        this.cache.forget(sub);
      });
    }
  }

  private async setattr(path: string, attrs: SetAttrs4): Promise<void> {
    const fh = await this.resolve(path);
    const ops = new OpList();
    ops.add(PUTFH, fh, `/${path}`);
    ops.add(SETATTR, { stateid: ANONYMOUS_STATEID, attrs }, `/${path}`);
    try {
      await this.run(ops, { idempotent: true, path: `/${path}` });
    } catch (err) {
      throw explainOwner(err, attrs);
    }
  }

  chmod(path: string, mode: number): Promise<void> {
    return this.setattr(path, { mode });
  }

  chown(path: string, uid: number, gid: number): Promise<void> {
    return this.setattr(path, { owner: ownerString(uid), ownerGroup: ownerString(gid) });
  }

  async symlink(target: string, path: string): Promise<void> {
    const p = await this.parent(path);
    const ops = new OpList();
    ops.add(PUTFH, p.dir, `/${joinPath(p.dirParts)}`);
    ops.add(
      CREATE,
      { objtype: { type: 'symlink', target }, name: p.name, attrs: { mode: 0o777 } },
      `/${p.path}`,
    );
    await this.run(ops, { path: `/${p.path}` });
  }

  async readlink(path: string): Promise<string> {
    const fh = await this.resolve(path);
    const ops = new OpList();
    ops.add(PUTFH, fh, `/${path}`);
    const l = ops.add(READLINK, undefined, `/${path}`);
    return (await this.run(ops, { idempotent: true, path: `/${path}` })).get(l);
  }

  /** Bytes (like `du`), files and directories under `path`, walked with READDIR. */
  usage(path: string): Promise<Usage> {
    return usage(this, path);
  }

  async statfs(path = ''): Promise<FsStat> {
    const fh = await this.resolve(path);
    const ops = new OpList();
    ops.add(PUTFH, fh, `/${path}`);
    const g = ops.add(
      GETATTR,
      [
        FATTR4_FILES_AVAIL,
        FATTR4_FILES_FREE,
        FATTR4_FILES_TOTAL,
        FATTR4_SPACE_AVAIL,
        FATTR4_SPACE_FREE,
        FATTR4_SPACE_TOTAL,
      ],
      `/${path}`,
    );
    const a = (await this.run(ops, { idempotent: true, path: `/${path}` })).get(g);
    return {
      totalBytes: a.spaceTotal ?? 0,
      freeBytes: a.spaceFree ?? 0,
      availableBytes: a.spaceAvail ?? 0,
      totalFiles: a.filesTotal ?? 0,
      freeFiles: a.filesFree ?? 0,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.leaseTimer);
    this.leaseTimer = undefined;
    await this.session.destroy().catch(() => undefined);
    await this.conn.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** PUTROOTFH, a LOOKUP per component of the export path, its handle, limits and security. */
async function lookupExport(session: Nfs4Session, target: NfsTarget): Promise<{ root: Fh4; attrs: Fattr4 }> {
  const parts = splitPath(target.exportPath);
  const ops = new OpList();
  ops.add(PUTROOTFH, undefined, '/');
  for (const part of parts) ops.add(LOOKUP, part, target.exportPath);
  const fh = ops.add(GETFH, undefined, target.exportPath);
  const attrs = ops.add(
    GETATTR,
    [FATTR4_TYPE, FATTR4_LEASE_TIME, FATTR4_MAXREAD, FATTR4_MAXWRITE],
    target.exportPath,
  );
  const sec = ops.add(SECINFO_NO_NAME, 0, target.exportPath);
  let r;
  try {
    r = await session.run(ops, { idempotent: true, path: target.exportPath });
  } catch (err) {
    if (err instanceof NfsError && (err.status === 'NFS4ERR_NOENT' || err.status === 'NFS4ERR_NOTDIR')) {
      throw new MountError(
        'MOUNT_NO_EXPORT',
        target.exportPath,
        `export ${target.exportPath} does not exist on ${target.host} (NFSv4 pseudo path)`,
        { cause: err },
      );
    }
    if (
      err instanceof NfsError &&
      ['NFS4ERR_ACCESS', 'NFS4ERR_PERM', 'NFS4ERR_WRONGSEC'].includes(err.status)
    ) {
      throw new MountError(
        'MOUNT_REFUSED',
        target.exportPath,
        `${target.host} refused ${target.exportPath} (${err.status}): check the export's client list and that it allows sec=sys`,
        { cause: err },
      );
    }
    throw err;
  }
  const flavors = r.get(sec).map((s) => s.flavor);
  if (flavors.length > 0 && !flavors.includes(AUTH_SYS)) {
    throw new MountError(
      'MOUNT_AUTH_UNSUPPORTED',
      target.exportPath,
      `export ${target.exportPath} on ${target.host} does not accept AUTH_SYS (it offers flavors ${flavors.join(', ')}); nfsvol needs sec=sys`,
    );
  }
  const a = r.get(attrs);
  if (a.type !== 'directory') {
    throw new MountError(
      'MOUNT_NO_EXPORT',
      target.exportPath,
      `${target.exportPath} on ${target.host} is not a directory`,
    );
  }
  return { root: Uint8Array.from(r.get(fh)), attrs: a };
}

/** What a failed connect means for a user. */
function explainConnect(err: unknown, target: NfsTarget): unknown {
  if (err instanceof RpcError && err.code === 'RPC_PROG_MISMATCH') {
    return new MountError(
      'NFS4_UNSUPPORTED',
      target.exportPath,
      `${target.host} does not serve NFSv4 on port ${target.port ?? NFS4_PORT}; use version=3`,
      { cause: err },
    );
  }
  if (err instanceof RpcError && err.authStat === 'AUTH_TOOWEAK') {
    return new MountError(
      'MOUNT_PRIVILEGED_PORT',
      target.exportPath,
      `${target.host} refused ${target.exportPath} (AUTH_TOOWEAK): the export requires a privileged source port; run as root (reserved=1) or allow other ports on the server`,
      { cause: err },
    );
  }
  return err;
}
