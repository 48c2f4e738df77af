/**
 * Counts the ONC RPC calls a process sends, without touching it: a TCP relay on 127.0.0.1 in front
 * of one server port that reads the record marking (RFC 5531 section 11) of the client's stream
 * and the call header at the start of each record. Only for counting runs: the relay adds a hop,
 * so nothing timed goes through it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import * as mount3 from '../driver/nfs/mount3/index.js';
import * as nfs3 from '../driver/nfs/nfs3/index.js';

/** Procedure number to name, from the driver's own procedure definitions (one file each). */
function procNames(module: Record<string, unknown>, rename: (name: string) => string = (n) => n): string[] {
  const names: string[] = [];
  for (const v of Object.values(module)) {
    const p = v as { proc?: unknown; name?: unknown; decode?: unknown };
    if (typeof p?.proc === 'number' && typeof p.name === 'string' && typeof p.decode === 'function') {
      names[p.proc] = rename(p.name);
    }
  }
  return names;
}
const NFS3_PROCS = procNames(nfs3);
const MOUNT3_PROCS = procNames(mount3, (n) => (n === 'NULL' ? 'MOUNT NULL' : n));
const PROGRAMS: Record<number, string> = { 100000: 'PORTMAP', 100003: 'NFS', 100005: 'MOUNT' };

/** `NFS3 MKDIR`, `MOUNT 1`, ...: a name for a call's program, version and procedure. */
export function callName(prog: number, vers: number, proc: number): string {
  if (prog === 100003 && vers === 3) return NFS3_PROCS[proc] ?? `NFS3 proc ${proc}`;
  if (prog === 100005 && vers === 3) return MOUNT3_PROCS[proc] ?? `MOUNT3 proc ${proc}`;
  return `${PROGRAMS[prog] ?? `prog ${prog}`}${vers} proc ${proc}`;
}

/**
 * Parses a client's byte stream split anywhere: each record's first fragment starts with xid,
 * msg_type (0 = CALL), rpcvers, prog, vers, proc (six 32-bit words). Only the fragment headers
 * and the first 24 bytes of each record are kept; the rest is skipped by length.
 */
export class CallCounter {
  readonly calls = new Map<string, number>();
  private readonly header = Buffer.alloc(4);
  private headerHave = 0;
  private readonly prefix = Buffer.alloc(24);
  private prefixHave = 0;
  private fragmentLeft = 0;
  private lastFragment = false;
  private inFragment = false;
  private recordStart = true;

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (!this.inFragment) {
        const n = Math.min(4 - this.headerHave, chunk.length - at);
        chunk.copy(this.header, this.headerHave, at, at + n);
        this.headerHave += n;
        at += n;
        if (this.headerHave < 4) return;
        const word = this.header.readUInt32BE(0);
        this.headerHave = 0;
        this.fragmentLeft = word & 0x7fffffff;
        this.lastFragment = word >>> 31 === 1;
        this.inFragment = true;
        if (this.fragmentLeft === 0) this.endFragment();
        continue;
      }
      const n = Math.min(this.fragmentLeft, chunk.length - at);
      if (this.recordStart && this.prefixHave < 24) {
        const k = Math.min(24 - this.prefixHave, n);
        chunk.copy(this.prefix, this.prefixHave, at, at + k);
        this.prefixHave += k;
        if (this.prefixHave === 24) this.count();
      }
      at += n;
      this.fragmentLeft -= n;
      if (this.fragmentLeft === 0) this.endFragment();
    }
  }

  private count(): void {
    if (this.prefix.readUInt32BE(4) !== 0) return; // not a CALL
    const p = this.prefix;
    const name = callName(p.readUInt32BE(12), p.readUInt32BE(16), p.readUInt32BE(20));
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  private endFragment(): void {
    this.inFragment = false;
    if (this.lastFragment) {
      this.recordStart = true;
      this.prefixHave = 0;
    } else if (this.prefixHave > 0) {
      // A record's first 24 bytes may span fragments: keep collecting in the next one.
      this.recordStart = this.prefixHave < 24;
    }
  }

  total(): number {
    let n = 0;
    for (const v of this.calls.values()) n += v;
    return n;
  }
}

export interface CountingRelay extends AsyncDisposable {
  /** The relay's port on 127.0.0.1. */
  readonly port: number;
  readonly counter: CallCounter;
}

/** A relay on 127.0.0.1 to 127.0.0.1:`target`, counting the calls of every connection through it. */
export async function countingRelay(target: number, counter = new CallCounter()): Promise<CountingRelay> {
  const sockets = new Set<Socket>();
  // Half-open both ways, so a client that ends its side still gets every reply.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    // Each connection has its own stream: its own parser, one shared tally.
    const own = new CallCounter();
    const upstream = connect({ port: target, host: '127.0.0.1', allowHalfOpen: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (b: Buffer) => {
      own.push(b);
      upstream.write(b);
    });
    upstream.on('data', (b: Buffer) => client.write(b));
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => {
      for (const [k, v] of own.calls) counter.calls.set(k, (counter.calls.get(k) ?? 0) + v);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (typeof addr !== 'object' || !addr) throw new Error('relay has no address');
  return {
    port: addr.port,
    counter,
    async [Symbol.asyncDispose]() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
