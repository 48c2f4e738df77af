// Readiness probes for the lab's NFS server, on nfsvol's own RPC transport (driver/nfs/rpc):
// a NULL call answers once a service serves RPCs; rpcbind GETPORT says what is registered.
//
// This file alone imports driver internals instead of the package entry (driver/index.ts). The
// RPC transport and the portmap procedures are the protocol client's insides: nfsvol's users
// name a server by URL and never make an RPC of their own, so exporting these would make
// wire-level pieces public API to keep stable, for the sake of a test helper. Probing through
// them keeps the lab's readiness checks on the driver's own wire code.
import { LabError } from './errors.js';
import { RpcConnection, type Procedure } from '../../driver/nfs/rpc/index.js';
import { GETPORT, IPPROTO_TCP, PORTMAP_PROGRAM } from '../../driver/nfs/portmap/index.js';

export const RPC_PROGRAM = { rpcbind: 100000, nfs: 100003, mount: 100005 } as const;

const NULL_PROC: Procedure<void, void> = {
  name: 'NULL',
  proc: 0,
  idempotent: true,
  encode: () => undefined,
  decode: () => undefined,
};

/** One call on a connection of its own, with a short timeout, failing as a LabError. */
async function probe<A, R>(
  host: string,
  port: number,
  program: { name: string; prog: number; vers: number },
  procedure: Procedure<A, R>,
  args: A,
  timeoutMs: number,
): Promise<R> {
  await using conn = new RpcConnection({ host, port, timeoutMs, connectTimeoutMs: timeoutMs });
  try {
    return await conn.call(program, procedure, args);
  } catch (err) {
    throw new LabError(
      'RPC_ERROR',
      `${program.name} ${procedure.name} to ${host}:${port}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** NULL procedure (proc 0) of prog/vers: succeeds once the service answers RPCs. */
export async function rpcNull(
  host: string,
  port: number,
  prog: number,
  vers: number,
  timeoutMs = 2000,
): Promise<void> {
  await probe(host, port, { name: `program ${prog} v${vers}`, prog, vers }, NULL_PROC, undefined, timeoutMs);
}

/** rpcbind v2 GETPORT for prog/vers over TCP; 0 means not registered. */
export async function rpcbindGetPort(
  host: string,
  port: number,
  prog: number,
  vers: number,
  timeoutMs = 2000,
): Promise<number> {
  return probe(host, port, PORTMAP_PROGRAM, GETPORT, { prog, vers, prot: IPPROTO_TCP }, timeoutMs);
}
