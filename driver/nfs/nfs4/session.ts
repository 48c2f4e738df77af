import { randomBytes } from 'node:crypto';
import { NfsvolError, isRetriable, markRetriesSpent } from '../../common/errors.js';
import type { RpcConnection } from '../rpc/rpc-connection.js';
import { NfsError } from '../nfs-error.js';
import { COMPOUND, type CompoundRes } from './compound.js';
import { CREATE_SESSION, type ChannelAttrs4, type CreateSessionOk } from './create-session.js';
import { DESTROY_CLIENTID } from './destroy-clientid.js';
import { DESTROY_SESSION } from './destroy-session.js';
import { EXCHANGE_ID, EXCHGID4_FLAG_USE_NON_PNFS, type ExchangeIdOk } from './exchange-id.js';
import { type Op4, type OpCall, opCall } from './op.js';
import { NFS4_PROGRAM } from './program.js';
import { RECLAIM_COMPLETE } from './reclaim-complete.js';
import {
  SEQ4_STATUS_ADMIN_STATE_REVOKED,
  SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED,
  SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED,
  SEQ4_STATUS_RECALLABLE_STATE_REVOKED,
  SEQ4_STATUS_RESTART_RECLAIM_NEEDED,
  SEQUENCE,
  type SequenceOk,
} from './sequence.js';
import { Nfs4Status, nfs4StatusName, nfs4StatusRetriable } from './status.js';

/** A typed handle on one operation's result in a COMPOUND being built. */
export interface OpRef<T> {
  readonly index: number;
  /** Never set: carries the result type. */
  readonly type?: T;
}

/** Operations for one COMPOUND (SEQUENCE is added by the session), each with the path it concerns. */
export class OpList {
  readonly calls: OpCall[] = [];
  readonly paths: (string | undefined)[] = [];

  add<A, Ok>(op: Op4<A, Ok>, args: A, path?: string): OpRef<Ok> {
    this.calls.push(opCall(op, args));
    this.paths.push(path);
    return { index: this.calls.length - 1 };
  }

  get length(): number {
    return this.calls.length;
  }
}

/** The results of a COMPOUND that succeeded, read by the refs `OpList.add` returned. */
export class OpResults {
  constructor(private readonly values: readonly unknown[]) {}

  get<T>(ref: OpRef<T>): T {
    return this.values[ref.index] as T;
  }
}

export interface Nfs4SessionOptions {
  /**
   * Identifies this client to the server (EXCHANGE_ID co_ownerid): unique per client instance,
   * so two nfsvol processes on one machine never share state. @default nfsvol/<random>
   */
  readonly ownerId?: Uint8Array;
  /** Slots asked for (calls in flight); the server may grant fewer. @default 64 */
  readonly slots?: number;
  /** Attempts for one COMPOUND that meets DELAY, GRACE or a lost connection. @default 10 */
  readonly retries?: number;
  /** Longest pause between attempts. @default 5000 */
  readonly maxBackoffMs?: number;
  /** Time in ms (tests inject a clock). @default Date.now */
  readonly now?: () => number;
  /** Pauses between attempts (tests skip them). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Sees each SEQUENCE result whose status flags are not zero. */
  readonly onStatusFlags?: (flags: number) => void;
}

interface Slot {
  readonly id: number;
  /** Sequence id of the last request sent on this slot that the server saw. */
  seqid: number;
  busy: boolean;
}

export interface RunOptions {
  /** Path named in errors when the failing operation has none of its own. */
  readonly path?: string;
  /** Safe to run again from scratch after the session was lost mid-call. @default false */
  readonly idempotent?: boolean;
}

/** Fore channel limits asked for: room for a 1 MiB READ or WRITE with its COMPOUND around it. */
const FORE_CHANNEL: ChannelAttrs4 = {
  headerPadSize: 0,
  maxRequestSize: 1024 * 1024 + 64 * 1024,
  maxResponseSize: 1024 * 1024 + 64 * 1024,
  maxResponseSizeCached: 64 * 1024,
  maxOperations: 64,
  maxRequests: 64,
};
/** No callbacks are served, but CREATE_SESSION still describes a back channel. */
const BACK_CHANNEL: ChannelAttrs4 = {
  headerPadSize: 0,
  maxRequestSize: 4096,
  maxResponseSize: 4096,
  maxResponseSizeCached: 0,
  maxOperations: 2,
  maxRequests: 1,
};
/** The callback program number is unused without a back channel; 0x40000000 is the start of the transient range. */
const CB_PROGRAM = 0x40000000;

/** The session could not be (re-)established, or the server broke the protocol. */
export class Nfs4SessionError extends NfsvolError {}

class SessionLost extends Error {
  constructor(readonly status: number) {
    super(nfs4StatusName(status));
  }
}

/**
 * One NFSv4.1 client id and session on one connection (RFC 8881 section 2.10): EXCHANGE_ID,
 * CREATE_SESSION, then every COMPOUND starts with SEQUENCE on a free slot of the table the
 * server granted, so many COMPOUNDs are in flight at once and each is executed at most once.
 *
 * Recovery, all inside `run`: a lost connection resends the same request on the same slot and
 * sequence id (the server answers a replay from its cache); BADSESSION, DEADSESSION and slot
 * errors make a new session; STALE_CLIENTID and EXPIRED a new client id and session; DELAY and
 * GRACE wait (bounded exponential backoff) and try again. When SEQUENCE itself failed nothing
 * else ran, so the COMPOUND is sent again whatever it holds.
 */
export class Nfs4Session {
  private readonly ownerId: Uint8Array;
  /** Changes with every instance: the server drops state a previous incarnation left. */
  private readonly verifier = randomBytes(8);
  private clientid: bigint | undefined;
  private csaSequence = 0;
  private sessionid: Uint8Array | undefined;
  private fore: ChannelAttrs4 | undefined;
  private slots: Slot[] = [];
  /** Highest slot id the server wants used (sr_target_highest_slotid). */
  private targetHighest = 0;
  private readonly waiters: (() => void)[] = [];
  private recovering: Promise<void> | undefined;
  /** Bumped by each new session, so concurrent failures recover once. */
  private generation = 0;
  private lastReply = 0;
  private closed = false;
  /** Set when the server reported revoked state: open stateids may no longer be valid. */
  stateRevoked = false;
  private readonly opts: Required<Omit<Nfs4SessionOptions, 'onStatusFlags' | 'ownerId'>> &
    Pick<Nfs4SessionOptions, 'onStatusFlags'>;

  constructor(
    private readonly conn: RpcConnection,
    options: Nfs4SessionOptions = {},
  ) {
    this.ownerId = options.ownerId ?? Buffer.from(`nfsvol/${randomBytes(12).toString('hex')}`);
    this.opts = {
      slots: 64,
      retries: 10,
      maxBackoffMs: 5000,
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      ...options,
    };
  }

  /** The client id while one is held (for OPEN's open_owner4). */
  get clientId(): bigint {
    if (this.clientid === undefined)
      throw new Nfs4SessionError('NFS4_NO_SESSION', 'no NFSv4.1 client id yet');
    return this.clientid;
  }

  /** Fore channel limits the server granted. */
  get channel(): ChannelAttrs4 {
    if (this.fore === undefined) throw new Nfs4SessionError('NFS4_NO_SESSION', 'no NFSv4.1 session yet');
    return this.fore;
  }

  /** Slots in use at most (what the server granted and currently wants). */
  get slotCount(): number {
    return Math.min(this.slots.length, this.targetHighest + 1);
  }

  /** Milliseconds since the last reply on this session. */
  idleMs(): number {
    return this.opts.now() - this.lastReply;
  }

  /** EXCHANGE_ID, CREATE_SESSION and RECLAIM_COMPLETE. */
  async establish(): Promise<void> {
    await this.exchangeId();
    await this.createSession();
    await this.reclaimComplete();
  }

  private async sessionless(ops: OpList, what: string): Promise<OpResults> {
    let res: CompoundRes | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await this.conn.callOnce(NFS4_PROGRAM, COMPOUND, { tag: what, ops: ops.calls });
      } catch (err) {
        if (!isRetriable(err) || this.closed) throw err;
        if (attempt >= this.opts.retries) {
          // Given up on here: no loop above retries it again (common/retry.ts).
          markRetriesSpent(err);
          throw err;
        }
        await this.backoff(attempt);
        continue;
      }
      if (nfs4StatusRetriable(res.status) && attempt < this.opts.retries) {
        await this.backoff(attempt);
        continue;
      }
      break;
    }
    this.lastReply = this.opts.now();
    return this.checkResults(res, ops, { path: '/' }, 0);
  }

  private async exchangeId(): Promise<void> {
    const ops = new OpList();
    const ref = ops.add(EXCHANGE_ID, {
      verifier: this.verifier,
      ownerId: this.ownerId,
      flags: EXCHGID4_FLAG_USE_NON_PNFS,
      implId: { domain: 'nfsvol', name: 'nfsvol', date: { seconds: 0n, nseconds: 0 } },
    });
    const ok: ExchangeIdOk = (await this.sessionless(ops, 'exchange_id')).get(ref);
    this.clientid = ok.clientid;
    this.csaSequence = ok.sequenceid;
  }

  private async createSession(): Promise<void> {
    const ops = new OpList();
    const ref = ops.add(CREATE_SESSION, {
      clientid: this.clientId,
      sequence: this.csaSequence,
      flags: 0,
      fore: { ...FORE_CHANNEL, maxRequests: this.opts.slots },
      back: BACK_CHANNEL,
      cbProgram: CB_PROGRAM,
    });
    const ok: CreateSessionOk = (await this.sessionless(ops, 'create_session')).get(ref);
    this.csaSequence = (this.csaSequence + 1) >>> 0;
    if (ok.fore.maxRequests < 1) {
      throw new Nfs4SessionError('NFS4_PROTOCOL', 'server granted a session with no slots');
    }
    this.sessionid = Uint8Array.from(ok.sessionid);
    this.fore = ok.fore;
    const count = Math.min(ok.fore.maxRequests, this.opts.slots);
    this.slots = Array.from({ length: count }, (_, id) => ({ id, seqid: 0, busy: false }));
    this.targetHighest = count - 1;
    this.generation++;
    this.lastReply = this.opts.now();
    // Calls waiting for a slot of the old table take one of the new.
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async reclaimComplete(): Promise<void> {
    const ops = new OpList();
    ops.add(RECLAIM_COMPLETE, false);
    try {
      await this.runLoop(ops, { idempotent: true }, true);
    } catch (err) {
      // Already sent on this client id: what we wanted.
      if (!(err instanceof NfsError && err.status === 'NFS4ERR_COMPLETE_ALREADY')) throw err;
    }
  }

  /** A new session after BADSESSION/DEADSESSION, or a new client id too after STALE_CLIENTID. */
  private recover(fromGeneration: number, status: number): Promise<void> {
    if (this.generation !== fromGeneration) return Promise.resolve(); // someone already did
    this.recovering ??= (async () => {
      try {
        const staleClient =
          status === Nfs4Status.NFS4ERR_STALE_CLIENTID || status === Nfs4Status.NFS4ERR_EXPIRED;
        if (!staleClient) {
          try {
            await this.createSession();
          } catch (err) {
            if (
              !(err instanceof NfsError) ||
              !['NFS4ERR_STALE_CLIENTID', 'NFS4ERR_EXPIRED'].includes(err.status)
            ) {
              throw err;
            }
            await this.exchangeId();
            await this.createSession();
          }
        } else {
          await this.exchangeId();
          await this.createSession();
        }
        await this.reclaimComplete();
      } finally {
        this.recovering = undefined;
      }
    })();
    return this.recovering;
  }

  private async acquireSlot(): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new Nfs4SessionError('NFS4_CLOSED', 'NFSv4.1 session is closed');
      const limit = this.slotCount;
      for (let i = 0; i < limit; i++) {
        const s = this.slots[i]!;
        if (!s.busy) {
          s.busy = true;
          return s;
        }
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private releaseSlot(slot: Slot): void {
    slot.busy = false;
    this.waiters.shift()?.();
  }

  private highestBusy(): number {
    let h = 0;
    for (const s of this.slots) if (s.busy && s.id > h) h = s.id;
    return h;
  }

  private async backoff(attempt: number): Promise<void> {
    const base = Math.min(this.opts.maxBackoffMs, 100 * 2 ** attempt);
    await this.opts.sleep(base / 2 + Math.random() * (base / 2));
  }

  /**
   * Runs `ops` in one COMPOUND after SEQUENCE and returns their results; a failed operation
   * becomes an NfsError with its status (NFS4ERR_NOENT ...) and the path it concerned.
   */
  run(ops: OpList, options: RunOptions = {}): Promise<OpResults> {
    return this.runLoop(ops, options, false);
  }

  /** `internal`: a step of recovery itself, which must neither wait for nor start recovery. */
  private async runLoop(ops: OpList, options: RunOptions, internal: boolean): Promise<OpResults> {
    let attempt = 0;
    for (;;) {
      if (this.recovering && !internal) await this.recovering;
      const generation = this.generation;
      const slot = await this.acquireSlot();
      if (generation !== this.generation) {
        // The table was replaced while waiting: this slot belongs to the old one.
        this.releaseSlot(slot);
        continue;
      }
      let res: CompoundRes;
      try {
        res = await this.send(slot, ops, options);
      } catch (err) {
        this.releaseSlot(slot);
        if (err instanceof SessionLost) {
          if (internal || ++attempt > this.opts.retries) {
            throw new Nfs4SessionError(
              'NFS4_SESSION_LOST',
              `NFSv4.1 session kept failing (${err.message}) after ${attempt} attempts`,
            );
          }
          await this.recover(generation, err.status);
          continue;
        }
        throw err;
      }
      this.releaseSlot(slot);
      const failed = res.results.find((r) => r.status !== Nfs4Status.NFS4_OK);
      if (failed && nfs4StatusRetriable(failed.status) && attempt < this.opts.retries) {
        // DELAY or GRACE from an operation: it was not done; come back later on a fresh sequence id.
        await this.backoff(attempt++);
        continue;
      }
      return this.checkResults(res, ops, options, 1);
    }
  }

  /** Sends on `slot`, resending the same request while the transport fails; applies SEQUENCE's outcome. */
  private async send(slot: Slot, ops: OpList, options: RunOptions): Promise<CompoundRes> {
    const sessionid = this.sessionid!;
    const seqid = (slot.seqid + 1) >>> 0;
    const sequence = opCall(SEQUENCE, {
      sessionid,
      sequenceid: seqid,
      slotid: slot.id,
      highestSlotid: this.highestBusy(),
      // Non-idempotent requests ask for their whole reply to be cached, so a resend after a
      // lost reply gets the original answer instead of running again.
      cachethis: !options.idempotent,
    });
    const args = { tag: '', ops: [sequence, ...ops.calls] };
    let res: CompoundRes;
    for (let attempt = 0; ; attempt++) {
      try {
        res = await this.conn.callOnce(NFS4_PROGRAM, COMPOUND, args);
      } catch (err) {
        if (!isRetriable(err) || attempt >= this.opts.retries || this.closed) {
          // The server may or may not have seen this sequence id: the slot can no longer be
          // trusted, so the session is replaced before the next call.
          void this.recover(this.generation, Nfs4Status.NFS4ERR_BADSESSION).catch(() => undefined);
          if (attempt >= this.opts.retries) markRetriesSpent(err);
          throw err;
        }
        await this.backoff(attempt);
        continue;
      }
      const seq = res.results[0];
      if (seq === undefined || seq.op !== SEQUENCE.op) {
        if (res.status === Nfs4Status.NFS4ERR_MINOR_VERS_MISMATCH) {
          throw new Nfs4SessionError('NFS4_MINOR_VERSION', 'server does not speak NFSv4.1');
        }
        throw new Nfs4SessionError(
          'NFS4_PROTOCOL',
          `COMPOUND reply does not start with SEQUENCE (status ${nfs4StatusName(res.status)})`,
        );
      }
      if (seq.status === Nfs4Status.NFS4ERR_DELAY && attempt < this.opts.retries) {
        // The server is still working on this very request: ask again, same slot and id.
        await this.backoff(attempt);
        continue;
      }
      break;
    }
    const seq = res.results[0]!;
    if (seq.status !== Nfs4Status.NFS4_OK) {
      switch (seq.status) {
        case Nfs4Status.NFS4ERR_BADSESSION:
        case Nfs4Status.NFS4ERR_DEADSESSION:
        case Nfs4Status.NFS4ERR_BADSLOT:
        case Nfs4Status.NFS4ERR_BAD_HIGH_SLOT:
        case Nfs4Status.NFS4ERR_SEQ_MISORDERED:
        case Nfs4Status.NFS4ERR_STALE_CLIENTID:
        case Nfs4Status.NFS4ERR_EXPIRED:
        case Nfs4Status.NFS4ERR_CONN_NOT_BOUND_TO_SESSION:
          throw new SessionLost(seq.status);
        default:
          // SEQUENCE refused the request (e.g. RETRY_UNCACHED_REP): the slot id was not used up.
          throw new NfsError(nfs4StatusName(seq.status), 'SEQUENCE', options.path ?? '/', {
            retriable: nfs4StatusRetriable(seq.status),
          });
      }
    }
    slot.seqid = seqid;
    this.lastReply = this.opts.now();
    this.onSequence(seq.value as SequenceOk);
    return res;
  }

  /** Acts on sr_target_highest_slotid and sr_status_flags. */
  private onSequence(ok: SequenceOk): void {
    if (ok.targetHighestSlotid < this.slots.length) this.targetHighest = ok.targetHighestSlotid;
    else this.targetHighest = this.slots.length - 1;
    const flags = ok.statusFlags;
    if (flags === 0) return;
    this.opts.onStatusFlags?.(flags);
    if (
      flags &
      (SEQ4_STATUS_EXPIRED_ALL_STATE_REVOKED |
        SEQ4_STATUS_EXPIRED_SOME_STATE_REVOKED |
        SEQ4_STATUS_ADMIN_STATE_REVOKED |
        SEQ4_STATUS_RECALLABLE_STATE_REVOKED)
    ) {
      // Opens in progress fail on their next READ/WRITE with a stateid error; new opens are
      // unaffected. Nothing long-lived is held, so there is nothing to reclaim.
      this.stateRevoked = true;
    }
    if (flags & SEQ4_STATUS_RESTART_RECLAIM_NEEDED) {
      void this.reclaimComplete().catch(() => undefined);
    }
    // CB_PATH_DOWN and BACKCHANNEL_FAULT: this client asked for no back channel and holds no
    // delegations, so the missing callback path costs nothing. LEASE_MOVED: no migration support.
  }

  private checkResults(res: CompoundRes, ops: OpList, options: RunOptions, skip: number): OpResults {
    const values = res.results.slice(skip);
    const failedAt = values.findIndex((r) => r.status !== Nfs4Status.NFS4_OK);
    if (failedAt >= 0) {
      const r = values[failedAt]!;
      const op = ops.calls[failedAt]?.op.name ?? `op ${r.op}`;
      throw new NfsError(nfs4StatusName(r.status), op, ops.paths[failedAt] ?? options.path ?? '/', {
        retriable: nfs4StatusRetriable(r.status),
      });
    }
    if (values.length !== ops.length || res.status !== Nfs4Status.NFS4_OK) {
      throw new Nfs4SessionError(
        'NFS4_PROTOCOL',
        `COMPOUND reply has ${values.length} results for ${ops.length} operations (status ${nfs4StatusName(res.status)})`,
      );
    }
    values.forEach((v, i) => {
      if (v.op !== ops.calls[i]!.op.op) {
        throw new Nfs4SessionError('NFS4_PROTOCOL', `COMPOUND reply result ${i} is for operation ${v.op}`);
      }
    });
    return new OpResults(values.map((v) => v.value));
  }

  /** A SEQUENCE on its own: renews the lease when nothing else has. */
  async ping(): Promise<void> {
    await this.run(new OpList(), { idempotent: true });
  }

  /** DESTROY_SESSION and DESTROY_CLIENTID (best effort: the lease ends them anyway). */
  async destroy(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.sessionid !== undefined) {
        const a = new OpList();
        a.add(DESTROY_SESSION, this.sessionid);
        await this.conn.callOnce(
          NFS4_PROGRAM,
          COMPOUND,
          { tag: 'destroy_session', ops: a.calls },
          { timeoutMs: 2000 },
        );
      }
      if (this.clientid !== undefined) {
        const b = new OpList();
        b.add(DESTROY_CLIENTID, this.clientid);
        await this.conn.callOnce(
          NFS4_PROGRAM,
          COMPOUND,
          { tag: 'destroy_clientid', ops: b.calls },
          { timeoutMs: 2000 },
        );
      }
    } finally {
      this.closed = true;
      for (const wake of this.waiters.splice(0)) wake();
    }
  }
}
