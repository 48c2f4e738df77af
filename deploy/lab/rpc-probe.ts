// Minimal ONC RPC (RFC 5531) over TCP with record marking, for readiness probes only:
// NULL procedure calls and rpcbind v2 GETPORT (RFC 1833). One call per connection.
import { connect } from 'node:net';
import { randomInt } from 'node:crypto';
import { LabError } from './errors.js';

export const RPC_PROGRAM = { rpcbind: 100000, nfs: 100003, mount: 100005 } as const;
const IPPROTO_TCP = 6;

/** Encodes one RPC call with AUTH_NONE credentials, framed as a single last fragment. */
function encodeCall(xid: number, prog: number, vers: number, proc: number, args: Buffer): Buffer {
  const header = Buffer.alloc(4 + 40);
  let o = 4;
  for (const word of [
    xid,
    0 /* CALL */,
    2 /* rpcvers */,
    prog,
    vers,
    proc,
    0,
    0 /* cred */,
    0,
    0 /* verf */,
  ]) {
    header.writeUInt32BE(word, o);
    o += 4;
  }
  // Record mark: last-fragment bit + fragment length.
  header.writeUInt32BE((0x80000000 | (40 + args.length)) >>> 0, 0);
  return Buffer.concat([header, args]);
}

/** Decodes a reply record; returns the procedure's results or throws a LabError('RPC_ERROR'). */
function decodeReply(xid: number, record: Buffer): Buffer {
  const word = (offset: number): number => {
    if (offset + 4 > record.length) throw new LabError('RPC_ERROR', 'truncated RPC reply');
    return record.readUInt32BE(offset);
  };
  if (word(0) !== xid) throw new LabError('RPC_ERROR', 'RPC reply xid mismatch');
  if (word(4) !== 1) throw new LabError('RPC_ERROR', 'not an RPC reply');
  if (word(8) !== 0) throw new LabError('RPC_ERROR', `RPC call denied (reject_stat ${word(12)})`);
  const verfLength = word(16);
  if (verfLength > 400) throw new LabError('RPC_ERROR', 'RPC reply verifier too long');
  const acceptOffset = 20 + Math.ceil(verfLength / 4) * 4;
  const acceptStat = word(acceptOffset);
  if (acceptStat !== 0) throw new LabError('RPC_ERROR', `RPC call not accepted (accept_stat ${acceptStat})`);
  return record.subarray(acceptOffset + 4);
}

/** Makes one RPC call to host:port over TCP and returns the results. */
export function rpcCall(
  host: string,
  port: number,
  call: { readonly prog: number; readonly vers: number; readonly proc: number; readonly args?: Buffer },
  timeoutMs = 2000,
): Promise<Buffer> {
  const xid = randomInt(1, 0x7fffffff);
  return new Promise((resolvePromise, reject) => {
    const socket = connect({ host, port });
    const fragments: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error instanceof LabError ? error : new LabError('RPC_ERROR', error.message, { cause: error }));
    };
    socket.setTimeout(timeoutMs, () => fail(new LabError('RPC_ERROR', `RPC to ${host}:${port} timed out`)));
    socket.on('error', fail);
    socket.on('close', () => reject(new LabError('RPC_ERROR', `RPC connection to ${host}:${port} closed`)));
    socket.on('connect', () =>
      socket.write(encodeCall(xid, call.prog, call.vers, call.proc, call.args ?? Buffer.alloc(0))),
    );
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const mark = pending.readUInt32BE(0);
        const length = mark & 0x7fffffff;
        if (length > 1 << 20) return fail(new LabError('RPC_ERROR', 'RPC fragment too large'));
        if (pending.length < 4 + length) return;
        fragments.push(pending.subarray(4, 4 + length));
        pending = pending.subarray(4 + length);
        if ((mark & 0x80000000) !== 0) {
          try {
            const results = decodeReply(xid, Buffer.concat(fragments));
            socket.destroy();
            resolvePromise(results);
          } catch (error) {
            fail(error instanceof Error ? error : new Error(String(error)));
          }
          return;
        }
      }
    });
  });
}

/** NULL procedure (proc 0) of prog/vers: succeeds once the service answers RPCs. */
export async function rpcNull(host: string, port: number, prog: number, vers: number): Promise<void> {
  await rpcCall(host, port, { prog, vers, proc: 0 });
}

/** rpcbind v2 GETPORT for prog/vers over TCP; 0 means not registered. */
export async function rpcbindGetPort(
  host: string,
  port: number,
  prog: number,
  vers: number,
): Promise<number> {
  const args = Buffer.alloc(16);
  args.writeUInt32BE(prog, 0);
  args.writeUInt32BE(vers, 4);
  args.writeUInt32BE(IPPROTO_TCP, 8);
  const results = await rpcCall(host, port, { prog: RPC_PROGRAM.rpcbind, vers: 2, proc: 3, args });
  if (results.length < 4) throw new LabError('RPC_ERROR', 'truncated GETPORT reply');
  return results.readUInt32BE(0);
}
