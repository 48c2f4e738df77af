import net from 'node:net';
import { randomInt } from 'node:crypto';
import { XdrWriter } from '../xdr/xdr-writer.js';
import type { XdrReader } from '../xdr/xdr-reader.js';
import { XdrError } from '../xdr/xdr-error.js';
import { debug, debugEnabled } from '../../common/debug.js';
import { withRetry } from '../../common/retry.js';
import { NO_AUTH, type OpaqueAuth } from './auth.js';
import { encodeRecord, RecordDecoder } from './record-marking.js';
import { decodeRpcReply, peekXid, writeCallHeader } from './rpc-message.js';
import { RpcError, RpcTimeoutError } from './rpc-error.js';
import type { Procedure, Program } from './procedure.js';

/** Milliseconds left in a call's budget (all of it before the first send). */
function left(b: Budget): number {
  return b.deadline === undefined ? b.ms : b.deadline - performance.now();
}

/** Smaller remainders are read through the shared buffer (one syscall saved is not worth it). */
const IN_PLACE_READ_MIN = 16 * 1024;

export type SocketFactory = (options: net.NetConnectOpts) => net.Socket;

export interface RpcConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** Credential sent with every call. @default AUTH_NONE */
  readonly credential?: OpaqueAuth;
  /**
   * Bind a reserved source port (512-1023), as kernel nfsd requires unless the export says
   * `insecure`. Needs root (CAP_NET_BIND_SERVICE). @default false
   */
  readonly reservedPort?: boolean;
  /** Calls sent and awaiting a reply at once; further calls queue. @default 64 */
  readonly maxInFlight?: number;
  /**
   * Time one call may take in total, from when it is first sent: connecting, waiting for the
   * reply, and every retry and reconnect. Then it fails with RPC_TIMEOUT (retriable), so a
   * silent server costs one call this long, however many retries are allowed. A call waiting
   * for a free slot (more than `maxInFlight` issued at once) starts its clock when it leaves
   * the queue: the calls ahead of it are bounded the same way. @default 30000
   */
  readonly timeoutMs?: number;
  /** @default 10000 */
  readonly connectTimeoutMs?: number;
  /** Largest reply record accepted; a larger length field fails the connection. @default 4 MiB + 64 KiB */
  readonly maxRecordSize?: number;
  /**
   * Retries of idempotent calls that failed with a retriable error (connection lost, timeout,
   * server restarting). Non-idempotent calls are never resent. @default 0
   */
  readonly retries?: number;
  /** @default net.connect */
  readonly socketFactory?: SocketFactory;
  /** Called with every reply record (golden-byte capture in tests); copy it to keep it. */
  readonly onReply?: (record: Uint8Array, call: { prog: number; proc: number }) => void;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Time this call may take in total, retries included (see RpcConnectionOptions.timeoutMs). */
  readonly timeoutMs?: number;
  /**
   * Memory lent for the reply: a large reply (a READ's) is assembled in it when it fits, and
   * the result then views it. The caller may reuse it once the call has settled; until then the
   * connection writes into it. If the call fails while its reply is arriving in it, the
   * connection is dropped first, so nothing writes into it after the failure.
   */
  readonly replyBuffer?: Uint8Array;
  /**
   * Resend this call after a retriable failure even though its procedure is not idempotent:
   * the caller made it safe (an EXCLUSIVE CREATE's verifier makes a resent create succeed).
   */
  readonly resend?: boolean;
}

/** The time one call may take, shared by its attempts. */
interface Budget {
  readonly ms: number;
  /** performance.now() at which the call fails; set when it is first sent. */
  deadline: number | undefined;
  attempts: number;
}

/** `OK`, or the name of the status a result union carries (`NFS3ERR_NOENT`). */
function resultStatus(result: unknown, statusName: ((code: number) => string) | undefined): string {
  const r = result as { ok?: unknown; status?: unknown } | null;
  if (typeof r === 'object' && r !== null && r.ok === false && typeof r.status === 'number') {
    return statusName ? statusName(r.status) : `status ${r.status}`;
  }
  return 'OK';
}

interface Pending {
  readonly xid: number;
  readonly prog: number;
  readonly proc: number;
  readonly what: string;
  readonly statusName: ((code: number) => string) | undefined;
  /** performance.now() when the call was sent, for traces. */
  sentAt?: number;
  readonly record: Uint8Array[];
  readonly budget: Budget;
  readonly signal: AbortSignal | undefined;
  readonly decode: (results: XdrReader) => unknown;
  /** Largest reply this call can bring, when the procedure says (see RecordDecoder). */
  readonly replyBound: number | undefined;
  readonly replyBuffer: Uint8Array | undefined;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  timer?: NodeJS.Timeout;
  onAbort?: () => void;
}

/**
 * One TCP connection to one RPC server port, carrying many calls at once: each call gets an xid
 * and the reply is matched on it, with at most `maxInFlight` outstanding. The connection is
 * opened on the first call and again on the next call after the server drops it.
 */
export class RpcConnection implements AsyncDisposable {
  private readonly opts: Required<Omit<RpcConnectionOptions, 'onReply'>> &
    Pick<RpcConnectionOptions, 'onReply'>;
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private decoder: RecordDecoder;
  private readonly readBuffer = Buffer.allocUnsafe(256 * 1024);
  private readonly inFlight = new Map<number, Pending>();
  private readonly queue: Pending[] = [];
  private nextXid = randomInt(1, 0x7fffffff);
  private closed = false;

  constructor(options: RpcConnectionOptions) {
    this.opts = {
      credential: NO_AUTH,
      reservedPort: false,
      maxInFlight: 64,
      timeoutMs: 30_000,
      connectTimeoutMs: 10_000,
      maxRecordSize: 4 * 1024 * 1024 + 65536,
      retries: 0,
      socketFactory: (o) => net.connect(o),
      ...options,
    };
    if (!Number.isInteger(this.opts.maxInFlight) || this.opts.maxInFlight < 1) {
      throw new RangeError(`maxInFlight must be a positive integer, got ${this.opts.maxInFlight}`);
    }
    this.decoder = this.newDecoder();
  }

  get address(): string {
    return `${this.opts.host}:${this.opts.port}`;
  }

  /**
   * Calls `procedure` of `program`, retrying idempotent calls on retriable failures, all within
   * the call's time budget (`timeoutMs`).
   */
  call<A, R>(program: Program, procedure: Procedure<A, R>, args: A, options: CallOptions = {}): Promise<R> {
    const budget = this.budget(options);
    const attempt = (): Promise<R> => this.attempt(program, procedure, args, options, budget);
    if (this.opts.retries === 0 || !(procedure.idempotent || options.resend)) return attempt();
    return withRetry(attempt, {
      retries: this.opts.retries,
      minTimeoutMs: 100,
      maxTimeoutMs: 5000,
      randomize: true,
      // Keeps a backoff delay from running past the budget. The count starts here, queue wait
      // included, so a call that waited for a slot may stop retrying early, never late.
      maxRetryTimeMs: budget.ms,
      signal: options.signal,
      shouldRetry: () => !this.closed && left(budget) > 0,
    });
  }

  /** One attempt, never resent: encode, queue, send, await the matching reply. */
  callOnce<A, R>(
    program: Program,
    procedure: Procedure<A, R>,
    args: A,
    options: CallOptions = {},
  ): Promise<R> {
    return this.attempt(program, procedure, args, options, this.budget(options));
  }

  private budget(options: CallOptions): Budget {
    return { ms: options.timeoutMs ?? this.opts.timeoutMs, deadline: undefined, attempts: 0 };
  }

  private attempt<A, R>(
    program: Program,
    procedure: Procedure<A, R>,
    args: A,
    options: CallOptions,
    budget: Budget,
  ): Promise<R> {
    if (this.closed)
      return Promise.reject(new RpcError('RPC_CLOSED', `connection to ${this.address} is closed`));
    if (options.signal?.aborted) {
      return Promise.reject(new RpcError('RPC_ABORTED', `${program.name} ${procedure.name} aborted`));
    }
    const xid = this.nextXid;
    this.nextXid = this.nextXid >= 0xffffffff ? 1 : this.nextXid + 1;
    const w = new XdrWriter(512);
    writeCallHeader(w, {
      xid,
      prog: program.prog,
      vers: program.vers,
      proc: procedure.proc,
      cred: this.opts.credential,
      verf: NO_AUTH,
    });
    procedure.encode(w, args);
    const record = encodeRecord(w.finishChunks());
    return new Promise<R>((resolve, reject) => {
      const p: Pending = {
        xid,
        prog: program.prog,
        proc: procedure.proc,
        what: `${program.name} ${procedure.name}`,
        statusName: program.statusName,
        record,
        budget,
        signal: options.signal,
        decode: procedure.decode,
        replyBound: procedure.replyBound?.(args),
        replyBuffer: options.replyBuffer,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      if (options.signal) {
        p.onAbort = () =>
          this.fail(p, new RpcError('RPC_ABORTED', `${p.what} aborted`, { cause: options.signal?.reason }));
        options.signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.queue.push(p);
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight.size < this.opts.maxInFlight) {
      const p = this.queue.shift()!;
      this.inFlight.set(p.xid, p);
      this.send(p);
    }
  }

  private send(p: Pending): void {
    // The clock runs from the first send and covers connecting, so a server that accepts no
    // connection, or one that takes calls and never answers, costs at most the budget.
    const b = p.budget;
    b.attempts++;
    // Whole milliseconds: Node keeps one list per distinct timer duration, and the first attempt
    // of every call then shares the list of its budget.
    const wait = b.deadline === undefined ? b.ms : Math.max(0, Math.ceil(left(b)));
    b.deadline ??= performance.now() + b.ms;
    p.timer = setTimeout(() => this.fail(p, this.timeoutError(p)), wait);
    const write = (socket: net.Socket): void => {
      if (!this.inFlight.has(p.xid)) return; // aborted or failed while connecting
      if (debugEnabled()) p.sentAt = performance.now();
      socket.cork();
      for (const chunk of p.record) socket.write(chunk);
      socket.uncork();
    };
    if (this.socket) {
      write(this.socket);
      return;
    }
    this.connect().then(write, (err: unknown) => this.fail(p, err));
  }

  private timeoutError(p: Pending): RpcTimeoutError {
    const { ms, attempts } = p.budget;
    const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
    const what = this.socket ? 'no reply' : 'not connected';
    return new RpcTimeoutError(`${p.what} to ${this.address}: ${what} within ${ms} ms${tries}`);
  }

  /** One line per call with NODE_DEBUG=nfsvol: procedure, xid, status, time since sent. */
  private trace(p: Pending, status: string): void {
    debug(() => {
      const ms = p.sentAt === undefined ? 'not sent' : `${(performance.now() - p.sentAt).toFixed(1)} ms`;
      return `rpc ${this.address} ${p.what} xid=0x${p.xid.toString(16).padStart(8, '0')} ${status} (${ms})`;
    });
  }

  /** Removes a call from the books and rejects it. */
  private fail(p: Pending, err: unknown): void {
    const wasInFlight = this.inFlight.delete(p.xid);
    const qi = this.queue.indexOf(p);
    if (qi >= 0) this.queue.splice(qi, 1);
    if (!wasInFlight && qi < 0) return;
    this.settle(p);
    this.trace(p, `failed: ${err instanceof Error ? err.message : String(err)}`);
    if (p.replyBuffer && this.socket && this.decoder.writesInto(p.replyBuffer)) {
      // Its reply is arriving in the caller's memory, which the caller may reuse once it sees
      // this failure: stop the socket from writing there. The other calls are retriable.
      this.dropConnection(
        this.socket,
        new RpcError(
          'RPC_CONNECTION_LOST',
          `connection to ${this.address} dropped: ${p.what} failed mid-reply`,
          {
            retriable: true,
          },
        ),
      );
    }
    p.reject(err);
    this.pump();
  }

  private settle(p: Pending): void {
    if (p.timer) clearTimeout(p.timer);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
  }

  private connect(): Promise<net.Socket> {
    this.connecting ??= this.openSocket().then(
      (socket) => {
        this.connecting = undefined;
        if (this.closed) {
          socket.destroy();
          throw new RpcError('RPC_CLOSED', `connection to ${this.address} is closed`);
        }
        this.attach(socket);
        return socket;
      },
      (err: unknown) => {
        this.connecting = undefined;
        throw err;
      },
    );
    return this.connecting;
  }

  private async openSocket(): Promise<net.Socket> {
    if (!this.opts.reservedPort) return this.tryConnect(undefined);
    // Walk the reserved range from a random start: ports in TIME_WAIT or used by others fail
    // with EADDRINUSE/EADDRNOTAVAIL and we move on.
    const start = randomInt(512, 1024);
    let last: unknown;
    for (let i = 0; i < 512; i++) {
      const localPort = 512 + ((start - 512 + i) % 512);
      try {
        return await this.tryConnect(localPort);
      } catch (err) {
        const code =
          (err as RpcError).cause instanceof Error
            ? ((err as RpcError).cause as NodeJS.ErrnoException).code
            : '';
        if (code === 'EACCES' || code === 'EPERM') {
          throw new RpcError(
            'RPC_CONNECT',
            `cannot bind a reserved source port (512-1023) to reach ${this.address}: that needs root or CAP_NET_BIND_SERVICE`,
            { cause: (err as RpcError).cause },
          );
        }
        if (code !== 'EADDRINUSE' && code !== 'EADDRNOTAVAIL') throw err;
        last = err;
      }
    }
    throw new RpcError('RPC_CONNECT', `no free reserved source port to reach ${this.address}`, {
      retriable: true,
      cause: last,
    });
  }

  private tryConnect(localPort: number | undefined): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      // Node asks for the first read buffer while constructing the socket, before `socket` is set.
      let constructed = false;
      const socket: net.Socket = this.opts.socketFactory({
        host: this.opts.host,
        port: this.opts.port,
        ...(localPort === undefined ? {} : { localPort }),
        // Reads go into one buffer reused for every read (no allocation per chunk; the decoder
        // copies out what it keeps), except while a large READ reply is assembled in place: then
        // the kernel reads straight into it (the rest of its fragment, never further).
        onread: {
          buffer: (): Uint8Array =>
            (constructed && this.socket === socket
              ? this.decoder.inPlaceTarget(IN_PLACE_READ_MIN)
              : undefined) ?? this.readBuffer,
          callback: (n: number, buf: Uint8Array): boolean => {
            this.onData(socket, (decoder) =>
              buf.buffer === this.readBuffer.buffer
                ? decoder.push(buf.subarray(0, n), true)
                : decoder.filledInPlace(buf, n),
            );
            return true;
          },
        },
      });
      constructed = true;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new RpcError(
            'RPC_CONNECT',
            `connecting to ${this.address} timed out after ${this.opts.connectTimeoutMs} ms`,
            {
              retriable: true,
            },
          ),
        );
      }, this.opts.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        socket.destroy();
        reject(
          new RpcError('RPC_CONNECT', `cannot connect to ${this.address}: ${err.code ?? err.message}`, {
            retriable: err.code !== 'EACCES' && err.code !== 'EPERM',
            cause: err,
          }),
        );
      });
    });
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    this.decoder = this.newDecoder();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    // Sockets from net.connect read into this.readBuffer (the onread option in connect());
    // others (tests' fakes) emit 'data'.
    socket.on('data', (chunk: Buffer) => this.onData(socket, (decoder) => decoder.push(chunk)));
    socket.on('error', () => {
      // 'close' follows and fails the calls in flight.
    });
    socket.on('close', () => this.onClose(socket));
  }

  private newDecoder(): RecordDecoder {
    return new RecordDecoder(
      this.opts.maxRecordSize,
      (xid) => this.inFlight.get(xid)?.replyBound,
      (xid) => this.inFlight.get(xid)?.replyBuffer,
    );
  }

  /** Bytes arrived on `socket`; `decode` hands them to the decoder and returns the records completed. */
  private onData(socket: net.Socket, decode: (decoder: RecordDecoder) => Uint8Array[]): void {
    if (this.socket !== socket) return;
    let records: Uint8Array[];
    try {
      records = decode(this.decoder);
    } catch (err) {
      this.dropConnection(socket, err);
      return;
    }
    for (const record of records) this.onRecord(socket, record);
  }

  private onRecord(socket: net.Socket, record: Uint8Array): void {
    const xid = peekXid(record);
    const p = xid === undefined ? undefined : this.inFlight.get(xid);
    if (!p) return; // a late reply to a call that timed out or was aborted
    this.opts.onReply?.(record, { prog: p.prog, proc: p.proc });
    let reply;
    try {
      reply = decodeRpcReply(record);
    } catch (err) {
      // The framing is intact but the message is not RPC: the stream can't be trusted.
      this.dropConnection(socket, err);
      return;
    }
    this.inFlight.delete(p.xid);
    this.settle(p);
    if (!reply.ok) {
      this.trace(p, reply.error.code);
      p.reject(reply.error);
    } else {
      try {
        const result = p.decode(reply.results);
        this.trace(p, resultStatus(result, p.statusName));
        p.resolve(result);
      } catch (err) {
        this.trace(p, 'malformed reply');
        p.reject(
          err instanceof XdrError
            ? new RpcError('RPC_PROTOCOL', `malformed ${p.what} reply from ${this.address}: ${err.message}`, {
                cause: err,
              })
            : err,
        );
      }
    }
    this.pump();
  }

  private dropConnection(socket: net.Socket, err: unknown): void {
    if (this.socket === socket) this.socket = undefined;
    this.failInFlight(err);
    socket.destroy();
    this.pump();
  }

  private onClose(socket: net.Socket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.failInFlight(
      new RpcError('RPC_CONNECTION_LOST', `connection to ${this.address} was lost`, {
        retriable: !this.closed,
      }),
    );
    this.pump(); // queued calls reconnect
  }

  private failInFlight(err: unknown): void {
    const calls = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const p of calls) {
      this.settle(p);
      p.reject(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new RpcError('RPC_CLOSED', `connection to ${this.address} was closed`);
    for (const p of this.queue.splice(0)) {
      this.settle(p);
      p.reject(err);
    }
    this.failInFlight(err);
    const socket = this.socket;
    this.socket = undefined;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      });
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
