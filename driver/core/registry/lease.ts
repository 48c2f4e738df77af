import { appendFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { DirEntry, FileStat, NfsFs } from '../../nfs/types.js';
import { hasNfsStatus } from '../nfs-status.js';
import { sleep } from '../../common/concurrency.js';
import { LeaseHeldError, LockLostError, LockTimeoutError } from './errors.js';
import { SCHEMA_VERSION } from '../records.js';
import { randomId } from './ids.js';

/*
 * Leases on keys of the registry, built from what NFS makes atomic (EXCLUSIVE create) and from
 * what the server reports (attributes), never from a client's wall clock. See docs/consistency.md
 * for the argument; in short:
 *
 * - `locks/<key>/` holds files named by a generation number. The holder is the creator of the
 *   highest generation. To take the lease, create the next generation EXCLUSIVE (one creator of a
 *   name wins), then list again and give up if a higher one exists (a contender that paused
 *   between its look and its create).
 * - The top generation is never removed: release marks it (mode 0), and the next holder removes
 *   the ones below its own. So generations only go up and a late create always loses.
 * - The holder renews by changing its file's mode, which moves its attributes on the server.
 *   A waiter ages what it sees by its own monotonic clock: a stamp unchanged for a whole lease
 *   is stale. The holder stops counting on its lease a margin earlier, so the two never overlap.
 */

/** Mode of a released generation file: what the next contender takes as free. */
const RELEASED_MODE = 0o000;
/** The holder alternates between these on each renewal so every renewal changes the stamp. */
const RENEW_MODES = [0o644, 0o640] as const;
/** Share of the lease the holder counts on after a confirmed renewal (the rest absorbs drift). */
const HOLDER_SHARE = 0.8;
const GEN = /^\d{12}$/;

export interface LeaseOptions {
  /** Length of a lease. @default 20_000 */
  readonly leaseMs?: number;
  /** How long to wait for a held lease before LOCK_TIMEOUT. @default 60_000 */
  readonly timeoutMs?: number;
  /** Monotonic clock in ms, injectable for tests. @default performance.now */
  readonly clock?: () => number;
  /** Local file each holder appends acquired/releasing/lost lines to. @default $NFSVOL_LOCK_TRACE */
  readonly traceFile?: string;
  /** What the lock file says about its holder (for the LOCK_TIMEOUT message of others). */
  readonly command?: string;
  /**
   * Who holds, as others are told (e.g. a registered host's name): written in the lock file
   * and named by LOCK_TIMEOUT and VOLUME_HELD. @default this machine's hostname
   */
  readonly holder?: string;
}

export interface AcquireOptions {
  readonly signal?: AbortSignal;
  /**
   * Fail with VOLUME_HELD as soon as the holder is seen renewing (its stamp moved), instead of
   * waiting for it: for a lease held as long as something is in use, where waiting is pointless.
   * A holder that stops renewing is still taken over after one lease.
   */
  readonly refuseLive?: boolean;
  /**
   * A lease whose lock file names this holder is taken over at once, without waiting for it to
   * go stale: the same holder restarted (a plugin after a crash takes back its own host's lease).
   */
  readonly adoptFrom?: string;
}

export interface Lease {
  readonly key: string;
  /** Aborted when the lease is lost: work under it stops. */
  readonly signal: AbortSignal;
  /** Throws LOCK_LOST unless the lease is still valid: call before each step that changes state. */
  assertHeld(): void;
}

interface Observed {
  readonly stamp: string;
  readonly since: number;
}

export class LeaseManager {
  readonly leaseMs: number;
  readonly timeoutMs: number;
  private readonly clock: () => number;
  private readonly traceFile: string | undefined;
  private readonly command: string;
  readonly holder: string;

  constructor(
    private readonly fs: NfsFs,
    /** Directory that holds one directory per key, e.g. `.nfsvol/locks`. */
    private readonly dir: string,
    options: LeaseOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 20_000;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.clock = options.clock ?? (() => performance.now());
    this.traceFile = options.traceFile ?? (process.env['NFSVOL_LOCK_TRACE'] || undefined);
    this.command = (options.command ?? process.argv.slice(2).join(' ')).slice(0, 200);
    this.holder = options.holder ?? hostname();
  }

  /** Runs `fn` holding the lease on `key`; releases it however `fn` ends. */
  async with<T>(key: string, fn: (lease: Lease) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const held = await this.acquire(key, signal);
    try {
      return await fn(held);
    } finally {
      await held.release();
    }
  }

  async acquire(key: string, signalOrOptions?: AbortSignal | AcquireOptions): Promise<HeldLease> {
    const o: AcquireOptions =
      signalOrOptions instanceof AbortSignal ? { signal: signalOrOptions } : (signalOrOptions ?? {});
    const signal = o.signal;
    const keyDir = `${this.dir}/${key}`;
    const owner = randomId(6);
    const deadline = this.clock() + this.timeoutMs;
    const seen = new Map<string, Observed>();
    // Generations already read for `adoptFrom`: their holder does not change.
    const holders = new Map<string, string | undefined>();
    let delay = 20;
    for (;;) {
      signal?.throwIfAborted();
      const gens = await this.generations(keyDir);
      let top = gens.at(-1);
      // A server may leave attributes out of a listing: then ask for them.
      if (top && !top.stat) top = { ...top, ...(await this.statOf(`${keyDir}/${top.name}`)) };
      let next = 1;
      if (top) {
        const before = seen.get(top.name);
        let state = this.judge(top, seen);
        if (state === 'held' && o.adoptFrom !== undefined) {
          if (!holders.has(top.name)) holders.set(top.name, await this.holderOf(keyDir, top));
          if (holders.get(top.name) === o.adoptFrom) state = 'stale';
        }
        if (state === 'held') {
          // A stamp that moved since it was first seen: a live holder renewing.
          const renewed = before !== undefined && seen.get(top.name)?.since !== before.since;
          if (o.refuseLive && renewed) {
            throw new LeaseHeldError(key, (await this.holderOf(keyDir, top)) ?? 'an unknown holder');
          }
          if (this.clock() > deadline)
            throw new LockTimeoutError(keyDir, await this.describeHolder(keyDir, top));
          await sleep(delay, signal);
          // Look more often than the holder renews, so every renewal is seen.
          delay = Math.min(delay * 1.5, 150, this.leaseMs / 8) + Math.random() * 20;
          continue;
        }
        next = Number(top.name) + 1;
      }
      const name = String(next).padStart(12, '0');
      const file = `${keyDir}/${name}`;
      const started = this.clock();
      try {
        await this.fs.createExclusive(file, this.content(owner), { mode: RENEW_MODES[0] });
      } catch (err) {
        if (hasNfsStatus(err, 'EXIST') || hasNfsStatus(err, 'NOENT')) continue; // lost the race, or the directory went
        throw err;
      }
      // A contender that paused between its look and its create may have created a generation
      // that is no longer the top: then it does not hold the lease.
      let after: DirEntry[];
      try {
        after = await this.generations(keyDir);
      } catch (err) {
        await this.fs.rm(file).catch(() => undefined);
        throw err;
      }
      if (after.at(-1)?.name !== name) {
        await this.fs.rm(file).catch(() => undefined);
        continue;
      }
      const lease = new HeldLease(this, key, file, owner, started);
      this.trace('acquired', key, owner);
      for (const old of after.slice(0, -1)) await this.fs.rm(`${keyDir}/${old.name}`).catch(() => undefined);
      return lease;
    }
  }

  /** Generation files of a key, lowest first; creates the key's directory when missing. */
  private async generations(keyDir: string): Promise<DirEntry[]> {
    let entries: DirEntry[];
    try {
      entries = await this.fs.readdir(keyDir);
    } catch (err) {
      if (!hasNfsStatus(err, 'NOENT')) throw err;
      await this.fs.mkdir(keyDir, { mode: 0o755 }).catch((e: unknown) => {
        if (!hasNfsStatus(e, 'EXIST')) throw e;
      });
      return [];
    }
    return entries.filter((e) => GEN.test(e.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  /**
   * Whether the top generation is held, free (released) or stale. A stamp is aged on this
   * process's monotonic clock from when it was first seen; attributes the listing did not give
   * count as not seen (never as stale).
   */
  private judge(top: DirEntry, seen: Map<string, Observed>): 'held' | 'free' | 'stale' {
    const st: FileStat | undefined = top.stat;
    if (!st) return 'held';
    if (st.mode === RELEASED_MODE) return 'free';
    const stamp = `${top.name}:${st.fileid}:${st.mode}:${st.ctime.getTime()}:${st.mtime.getTime()}:${st.size}`;
    const now = this.clock();
    const prev = seen.get(top.name);
    if (!prev || prev.stamp !== stamp) {
      seen.set(top.name, { stamp, since: now });
      return 'held';
    }
    return now - prev.since >= this.leaseMs ? 'stale' : 'held';
  }

  private async statOf(file: string): Promise<{ stat?: FileStat }> {
    try {
      return { stat: await this.fs.stat(file) };
    } catch {
      return {}; // gone, or unreadable this time: judged as not seen
    }
  }

  private async describeHolder(keyDir: string, top: DirEntry): Promise<string> {
    const j = await this.lockFile(keyDir, top);
    if (!j) return 'an unknown holder';
    const text = `${String(j['host'])} pid ${String(j['pid'])} (${String(j['command'])})`;
    return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  }

  /** The holder a lock file names (printable, bounded), if it can be read. */
  private async holderOf(keyDir: string, top: DirEntry): Promise<string | undefined> {
    const h = (await this.lockFile(keyDir, top))?.['host'];
    return typeof h === 'string' ? h.replace(/[^\x20-\x7e]/g, '?').slice(0, 200) : undefined;
  }

  private async lockFile(keyDir: string, top: DirEntry): Promise<Record<string, unknown> | undefined> {
    try {
      const bytes = await this.fs.readFile(`${keyDir}/${top.name}`, { maxBytes: 4096 });
      const j: unknown = JSON.parse(bytes.subarray(0, 4096).toString('utf8'));
      return j !== null && typeof j === 'object' ? (j as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  private content(owner: string): string {
    return `${JSON.stringify({
      schema: SCHEMA_VERSION,
      kind: 'lock',
      owner,
      host: this.holder,
      pid: process.pid,
      command: this.command,
      // For people reading the file; nothing compares it with another clock.
      acquiredAt: new Date().toISOString(),
    })}\n`;
  }

  /** @internal */
  trace(event: 'acquired' | 'releasing' | 'lost', key: string, owner: string): void {
    if (!this.traceFile) return;
    const line = JSON.stringify({ event, key, owner, pid: process.pid, t: Date.now() });
    try {
      appendFileSync(this.traceFile, `${line}\n`);
    } catch {
      // the trace is a test aid: failing to write it must not change what the command does
    }
  }

  /** @internal */
  get fsForLease(): NfsFs {
    return this.fs;
  }

  /** @internal */
  now(): number {
    return this.clock();
  }
}

/** A lease this process holds: renewed in the background until released or lost. */
export class HeldLease implements Lease {
  private readonly abort = new AbortController();
  private validUntil: number;
  private renewals = 0;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> = Promise.resolve();
  private done = false;

  constructor(
    private readonly manager: LeaseManager,
    readonly key: string,
    readonly file: string,
    readonly owner: string,
    started: number,
  ) {
    this.validUntil = started + manager.leaseMs * HOLDER_SHARE;
    this.timer = setInterval(() => {
      this.renewing = this.renew();
    }, manager.leaseMs / 4);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  assertHeld(): void {
    if (this.abort.signal.aborted || this.manager.now() >= this.validUntil) {
      this.lose();
      throw new LockLostError(this.file);
    }
  }

  private async renew(): Promise<void> {
    if (this.done) return;
    const started = this.manager.now();
    const mode = RENEW_MODES[++this.renewals % 2] ?? RENEW_MODES[0];
    try {
      await this.manager.fsForLease.chmod(this.file, mode);
      if (!this.done && started < this.validUntil)
        this.validUntil = started + this.manager.leaseMs * HOLDER_SHARE;
    } catch (err) {
      // Gone: someone judged it stale and moved on. Anything else: try again next time, and
      // lose the lease when it runs out unconfirmed.
      if (hasNfsStatus(err, 'NOENT') || hasNfsStatus(err, 'STALE')) this.lose();
    }
    if (this.manager.now() >= this.validUntil) this.lose();
  }

  private lose(): void {
    if (this.abort.signal.aborted) return;
    this.manager.trace('lost', this.key, this.owner);
    this.abort.abort(new LockLostError(this.file));
    this.stop();
  }

  private stop(): void {
    this.done = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Stops renewing without releasing: the lease goes stale after one lease length unless this
   * holder comes back and adopts it (`adoptFrom`). For a holder that stops while what the lease
   * protects is still in use (a plugin stopped with containers running).
   */
  abandon(): void {
    this.stop();
  }

  /**
   * Marks the generation released, only while the lease is still valid: then nobody can have
   * judged it stale, so the file is still the top generation and still ours.
   */
  async release(): Promise<void> {
    if (this.done) return;
    this.stop();
    await this.renewing;
    if (this.abort.signal.aborted || this.manager.now() >= this.validUntil) {
      this.lose();
      return;
    }
    this.manager.trace('releasing', this.key, this.owner);
    await this.manager.fsForLease.chmod(this.file, RELEASED_MODE).catch(() => undefined);
  }
}
