/*
 * A small in-process NFSv4.1 server for session tests: client ids, sessions with a slot table
 * and a reply cache, and just enough of a file system (a root directory and the names created
 * in it) for connect and mkdir. Arguments are decoded here straight from the RFC 7863 grammar,
 * independently of the client's codec. Tests script faults through `faults`.
 */
import { FakeRpcServer, type ReceivedCall } from '../../../support/fake-rpc-server.js';
import type { XdrReader } from '../../../../driver/nfs/xdr/index.js';
import { XdrWriter } from '../../../../driver/nfs/xdr/index.js';

export interface SequenceSeen {
  readonly slot: number;
  readonly seqid: number;
  readonly highest: number;
  readonly cachethis: boolean;
  readonly ops: number[];
}

export interface Faults {
  /** Statuses for the next SEQUENCEs (BADSESSION ...), consumed one per SEQUENCE. */
  sequence: number[];
  /** Statuses for the next CREATE_SESSIONs (STALE_CLIENTID ...). */
  createSession: number[];
  /** Statuses for the next operations after SEQUENCE (DELAY, GRACE ...), one per COMPOUND. */
  op: number[];
  /** Process the next COMPOUND with SEQUENCE, then hang up instead of replying. */
  dropReplies: number;
  /** sr_status_flags of the next SEQUENCE replies. */
  statusFlags: number[];
  /** Hold replies until this many COMPOUNDs are outstanding (shows the client's slot limit). */
  holdUntil: number;
  /** sr_target_highest_slotid sent back. @default slots - 1 */
  targetHighest: number | undefined;
  /** Refuse owners on CREATE/SETATTR with BADOWNER. */
  badOwner: boolean;
}

const BADSESSION = 10052;
const STALE_CLIENTID = 10022;
const SEQ_MISORDERED = 10063;
const OP_NAMES: Record<number, string> = {};

export class FakeNfs41Server implements AsyncDisposable {
  readonly faults: Faults = {
    sequence: [],
    createSession: [],
    op: [],
    dropReplies: 0,
    statusFlags: [],
    holdUntil: 0,
    targetHighest: undefined,
    badOwner: false,
  };
  /** Every SEQUENCE received, in order. */
  readonly sequences: SequenceSeen[] = [];
  /** Opcodes of every COMPOUND received. */
  readonly compounds: number[][] = [];
  /** Names CREATEd, with how many times each CREATE ran (not answered from the cache). */
  readonly created = new Map<string, number>();
  outstanding = 0;
  maxOutstanding = 0;
  private clientSeq = 0;
  private clientid = 0n;
  private session: Uint8Array | undefined;
  private slots: { seqid: number; reply: Uint8Array | undefined }[] = [];
  private held: (() => void)[] = [];
  private rpc!: FakeRpcServer;

  private constructor(readonly slotCount: number) {}

  static async start(slots = 8): Promise<FakeNfs41Server> {
    const s = new FakeNfs41Server(slots);
    s.rpc = await FakeRpcServer.start((call) => s.handle(call));
    return s;
  }

  get port(): number {
    return this.rpc.port;
  }

  /** Forgets every client and session, as a restarted server does. */
  restart(): void {
    this.session = undefined;
    this.clientid = 0n;
  }

  /** The client's slot table state on the server, for checks. */
  slotSeqids(): number[] {
    return this.slots.map((s) => s.seqid);
  }

  private async handle(call: ReceivedCall): Promise<{ reply: (w: XdrWriter) => void } | { hangUp: true }> {
    if (call.proc === 0) return { reply: () => undefined };
    this.outstanding++;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    if (this.faults.holdUntil > 0) {
      if (this.outstanding >= this.faults.holdUntil) {
        this.faults.holdUntil = 0;
        for (const release of this.held.splice(0)) release();
      } else {
        await new Promise<void>((resolve) => this.held.push(resolve));
      }
    }
    try {
      const out = this.compound(call.args);
      if (out === 'drop') return { hangUp: true };
      return { reply: (w) => void w.fixedOpaque(out) };
    } finally {
      this.outstanding--;
    }
  }

  /** Runs a COMPOUND; returns its COMPOUND4res bytes (4-byte aligned), or 'drop'. */
  private compound(r: XdrReader): Uint8Array | 'drop' {
    r.opaque(1024); // tag
    const minor = r.u32();
    const n = r.u32();
    const w = new XdrWriter();
    const results: XdrWriter[] = [];
    const ops: number[] = [];
    let status = 0;
    let slotIndex: number | undefined;
    if (minor !== 1) {
      w.u32(10021).string('').u32(0);
      return w.finish();
    }
    for (let i = 0; i < n && status === 0; i++) {
      const op = r.u32();
      ops.push(op);
      const res = new XdrWriter();
      res.u32(op);
      const st = this.op(op, r, res, i, ops, (slot) => (slotIndex = slot));
      if (st === 'replay') return this.slots[slotIndex!]!.reply!;
      if (st === 'drop') return 'drop';
      status = st.status;
      results.push(st.w);
    }
    this.compounds.push(ops);
    w.u32(status).string('').u32(results.length);
    const body = [w.finish(), ...results.map((x) => x.finish())];
    const bytes = new Uint8Array(Buffer.concat(body));
    if (slotIndex !== undefined) {
      this.slots[slotIndex]!.reply = bytes;
      if (this.faults.dropReplies > 0) {
        this.faults.dropReplies--;
        return 'drop';
      }
    }
    return bytes;
  }

  private op(
    op: number,
    r: XdrReader,
    res: XdrWriter,
    index: number,
    ops: number[],
    setSlot: (slot: number) => void,
  ): { status: number; w: XdrWriter } | 'replay' | 'drop' {
    const ok = (body?: (w: XdrWriter) => void): { status: number; w: XdrWriter } => {
      res.u32(0);
      body?.(res);
      return { status: 0, w: res };
    };
    const fail = (status: number): { status: number; w: XdrWriter } => {
      res.u32(status);
      if (op === 34) res.u32(0); // SETATTR4res carries a bitmap either way
      return { status, w: res };
    };
    if (index > 0 && op !== 53 && this.faults.op.length > 0 && ops[0] === 53) {
      // Read the arguments away so the stream stays in step, then fail.
      this.skipArgs(op, r);
      return fail(this.faults.op.shift()!);
    }
    switch (op) {
      case 42: {
        // EXCHANGE_ID
        r.fixedOpaque(8);
        r.opaque(1024);
        r.u32();
        r.u32();
        if (r.u32() === 1) {
          r.opaque(1024);
          r.opaque(1024);
          r.u64();
          r.u32();
        }
        if (this.clientid === 0n) this.clientid = BigInt(Date.now()) * 1000n + BigInt(++this.clientSeq);
        return ok((w) => {
          w.u64(this.clientid).u32(1).u32(0x00010000).u32(0);
          w.u64(0n)
            .opaque(new Uint8Array([1]))
            .opaque(new Uint8Array([2]))
            .u32(0);
        });
      }
      case 43: {
        // CREATE_SESSION
        const clientid = r.u64();
        r.u32();
        r.u32();
        for (let c = 0; c < 2; c++) {
          for (let k = 0; k < 6; k++) r.u32();
          r.array(1, 4, (x) => x.u32());
        }
        r.u32();
        const nsec = r.u32();
        for (let k = 0; k < nsec; k++)
          if (r.u32() !== 0) throw new Error('only AUTH_NONE callbacks expected');
        const injected = this.faults.createSession.shift();
        if (injected !== undefined) return fail(injected);
        if (clientid !== this.clientid || this.clientid === 0n) return fail(STALE_CLIENTID);
        this.session = new Uint8Array(16).map(() => Math.floor(Math.random() * 256));
        this.slots = Array.from({ length: this.slotCount }, () => ({ seqid: 0, reply: undefined }));
        const channel = (w: XdrWriter, slots: number): void =>
          void w
            .u32(0)
            .u32(1 << 20)
            .u32(1 << 20)
            .u32(65536)
            .u32(16)
            .u32(slots)
            .u32(0);
        return ok((w) => {
          w.fixedOpaque(this.session!, 16).u32(1).u32(0);
          channel(w, this.slotCount);
          channel(w, 1);
        });
      }
      case 53: {
        // SEQUENCE
        const sid = r.fixedOpaque(16);
        const seqid = r.u32();
        const slot = r.u32();
        const highest = r.u32();
        const cachethis = r.bool();
        this.sequences.push({ slot, seqid, highest, cachethis, ops });
        const injected = this.faults.sequence.shift();
        if (injected !== undefined) {
          if (injected === BADSESSION) this.session = undefined;
          return fail(injected);
        }
        if (!this.session || Buffer.compare(sid, this.session) !== 0) return fail(BADSESSION);
        const s = this.slots[slot];
        if (s === undefined) return fail(10053);
        if (seqid === s.seqid && s.reply) {
          setSlot(slot);
          return 'replay';
        }
        if (seqid !== (s.seqid + 1) >>> 0) return fail(SEQ_MISORDERED);
        s.seqid = seqid;
        s.reply = undefined;
        setSlot(slot);
        return ok((w) => {
          w.fixedOpaque(this.session!, 16)
            .u32(seqid)
            .u32(slot)
            .u32(this.slotCount - 1);
          w.u32(this.faults.targetHighest ?? this.slotCount - 1).u32(this.faults.statusFlags.shift() ?? 0);
        });
      }
      case 58:
        r.bool();
        return ok();
      case 44:
        r.fixedOpaque(16);
        this.session = undefined;
        return ok();
      case 57:
        r.u64();
        this.clientid = 0n;
        return ok();
      case 24: // PUTROOTFH
        return ok();
      case 22: // PUTFH
        r.opaque(128);
        return ok();
      case 15: // LOOKUP
        r.opaque(1024);
        return ok();
      case 10: // GETFH
        return ok((w) => w.opaque(new Uint8Array([1, 2, 3, 4])));
      case 52: // SECINFO_NO_NAME
        r.u32();
        return ok((w) => w.u32(1).u32(1));
      case 9: {
        // GETATTR: type directory, lease 90 s, maxread/maxwrite 64 KiB, mode 0755, numlinks 2; the rest asked for are left out
        const bits = this.bitmap(r);
        const known = bits.filter((b) => [1, 10, 30, 31, 33, 35].includes(b));
        const vals = new XdrWriter();
        for (const b of known) {
          if (b === 1) vals.u32(2);
          else if (b === 10 || b === 33 || b === 35) vals.u32(b === 10 ? 90 : b === 33 ? 0o755 : 2);
          else vals.u64(65536);
        }
        return ok((w) => {
          this.writeBitmap(w, known);
          w.opaque(vals.finish());
        });
      }
      case 6: {
        // CREATE
        const type = r.u32();
        if (type === 5) r.opaque(4096);
        const name = Buffer.from(r.opaque(1024)).toString();
        const attrBits = this.bitmap(r);
        r.opaque(65536);
        if (this.faults.badOwner && (attrBits.includes(36) || attrBits.includes(37))) return fail(10039);
        if (this.created.has(name)) return fail(17);
        this.created.set(name, 1);
        return ok((w) => {
          w.bool(true).u64(1n).u64(2n);
          this.writeBitmap(w, attrBits);
        });
      }
      case 34: {
        // SETATTR
        r.u32();
        r.fixedOpaque(12);
        const attrBits = this.bitmap(r);
        r.opaque(65536);
        if (this.faults.badOwner && (attrBits.includes(36) || attrBits.includes(37))) return fail(10039);
        return ok((w) => this.writeBitmap(w, attrBits));
      }
      default:
        throw new Error(`fake server: operation ${op} ${OP_NAMES[op] ?? ''} not implemented`);
    }
  }

  private skipArgs(op: number, r: XdrReader): void {
    switch (op) {
      case 22:
        r.opaque(128);
        return;
      case 15:
        r.opaque(1024);
        return;
      case 9:
        this.bitmap(r);
        return;
      case 6: {
        if (r.u32() === 5) r.opaque(4096);
        r.opaque(1024);
        this.bitmap(r);
        r.opaque(65536);
        return;
      }
      case 24:
      case 10:
        return;
      default:
        throw new Error(`fake server: cannot skip arguments of ${op}`);
    }
  }

  private bitmap(r: XdrReader): number[] {
    const words = r.array(8, 4, (x) => x.u32());
    const bits: number[] = [];
    words.forEach((word, i) => {
      for (let b = 0; b < 32; b++) if ((word >>> b) & 1) bits.push(i * 32 + b);
    });
    return bits;
  }

  private writeBitmap(w: XdrWriter, bits: readonly number[]): void {
    const words = [0, 0];
    for (const b of bits) words[b >> 5] = (words[b >> 5]! | (1 << (b & 31))) >>> 0;
    w.u32(2).u32(words[0]!).u32(words[1]!);
  }

  async close(): Promise<void> {
    for (const release of this.held.splice(0)) release();
    await this.rpc.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
