import net from 'node:net';
import { RecordDecoder, encodeRecord, writeAcceptedReplyHeader } from '../../driver/nfs/rpc/index.js';
import { XdrReader, XdrWriter } from '../../driver/nfs/xdr/index.js';

export interface ReceivedCall {
  readonly xid: number;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  /** The argument bytes after the call header. */
  readonly args: XdrReader;
  readonly socket: net.Socket;
}

/** What the handler does with a call: reply with result bytes, send raw bytes, stay silent, or hang up. */
export type Action =
  | { readonly reply: (w: XdrWriter) => void }
  | { readonly raw: Uint8Array }
  | { readonly silent: true }
  | { readonly hangUp: true };

/** A tiny in-process ONC RPC server over TCP on loopback, for transport tests. */
export class FakeRpcServer implements AsyncDisposable {
  readonly sockets = new Set<net.Socket>();
  readonly remotePorts: number[] = [];
  private constructor(
    readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(handler: (call: ReceivedCall) => Action | Promise<Action>): Promise<FakeRpcServer> {
    const sockets = new Set<net.Socket>();
    const remotePorts: number[] = [];
    const server = net.createServer((socket) => {
      sockets.add(socket);
      remotePorts.push(socket.remotePort ?? 0);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      const decoder = new RecordDecoder(1 << 24);
      socket.on('data', (chunk) => {
        for (const record of decoder.push(chunk)) {
          const r = new XdrReader(record);
          const xid = r.u32();
          r.u32(); // CALL
          r.u32(); // rpcvers
          const prog = r.u32();
          const vers = r.u32();
          const proc = r.u32();
          r.u32();
          r.opaque(400);
          r.u32();
          r.opaque(400);
          void Promise.resolve(handler({ xid, prog, vers, proc, args: r, socket })).then((action) => {
            if ('hangUp' in action) socket.destroy();
            else if ('raw' in action) socket.write(action.raw);
            else if ('reply' in action) {
              const w = new XdrWriter();
              writeAcceptedReplyHeader(w, xid);
              action.reply(w);
              for (const c of encodeRecord(w.finishChunks())) socket.write(c);
            }
          });
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const s = new FakeRpcServer(server, port);
    (s as { sockets: Set<net.Socket> }).sockets = sockets;
    (s as { remotePorts: number[] }).remotePorts = remotePorts;
    return s;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
