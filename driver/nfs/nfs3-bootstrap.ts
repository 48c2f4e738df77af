import { hostname } from 'node:os';
import { NfsvolError, isRetriable } from '../common/errors.js';
import { AUTH_SYS, authSys } from './rpc/auth.js';
import { RpcConnection, type RpcConnectionOptions, type SocketFactory } from './rpc/rpc-connection.js';
import { RpcError } from './rpc/rpc-error.js';
import { GETPORT, IPPROTO_TCP, PORTMAP_PROGRAM } from './portmap/index.js';
import { EXPORT, MNT, MOUNT3_PROGRAM, Mount3Status, mount3StatusName } from './mount3/index.js';
import { FSINFO, NFS3_PROGRAM, nfs3StatusName, type Fh, type FsinfoOk } from './nfs3/index.js';
import { MountError, NfsError } from './nfs-error.js';
import type { NfsTarget } from './nfs-url.js';
import { PRIVILEGED_PORT_HINT, accessHint, explainRefusal } from './nfs3-hints.js';

/*
 * Everything an NFSv3 client does before its first file operation: ask rpcbind where MOUNT and
 * NFS listen, MOUNT the export for its root handle (refusing an export that does not take
 * AUTH_SYS), and ask FSINFO for the server's transfer sizes.
 */

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

/** A mounted NFSv3 export: its two connections, its root handle and the server's FSINFO. */
export interface Nfs3Mount {
  readonly nfs: RpcConnection;
  readonly mount: RpcConnection;
  readonly root: Fh;
  readonly fsinfo: FsinfoOk;
}

/** The MOUNT and NFS protocol version this client speaks. */
const VERSION_3 = 3;

/** Connects to and mounts an NFSv3 export; closes what it opened if any step fails. */
export async function mountNfs3(target: NfsTarget, options: NfsClientOptions): Promise<Nfs3Mount> {
  if (target.version !== VERSION_3) {
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
    return { nfs, mount, root, fsinfo: info.value };
  } catch (err) {
    await Promise.all([mount.close(), nfs.close()]);
    throw explainRefusal(err, target);
  }
}

type ConnOptions = Omit<RpcConnectionOptions, 'port'>;

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
    // rpcbind answers port 0 for a program it has no registration for (RFC 1833).
    if (port === 0) {
      throw new MountError(
        'RPCBIND_NOT_REGISTERED',
        target.exportPath,
        `${name} v${vers} over TCP is not registered with rpcbind on ${target.host}: is the NFS server running with NFSv3 enabled?`,
      );
    }
    return port;
  };
  const mountPort = target.mountPort ?? (await ask(MOUNT3_PROGRAM.prog, VERSION_3, 'MOUNT'));
  const nfsPort = target.port ?? (await ask(NFS3_PROGRAM.prog, VERSION_3, 'NFS'));
  return [mountPort, nfsPort];
}

/** MNT: the export's root handle, or a MountError that says why the server would not give it. */
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
    // A server that lists no flavors is taken to accept AUTH_SYS.
    const flavors = res.value.authFlavors;
    if (flavors.length > 0 && !flavors.includes(AUTH_SYS)) {
      throw new MountError(
        'MOUNT_AUTH_UNSUPPORTED',
        target.exportPath,
        `export ${target.exportPath} on ${target.host} does not accept AUTH_SYS (it offers flavors ${flavors.join(', ')}); nfsvol needs sec=sys`,
      );
    }
    return res.value.fhandle;
  }
  const status = mount3StatusName(res.status);
  const noEntry = res.status === Mount3Status.MNT3ERR_NOENT;
  if (noEntry || res.status === Mount3Status.MNT3ERR_ACCES || res.status === Mount3Status.MNT3ERR_PERM) {
    // Servers answer NOENT or ACCES for a path they do not export (ganesha says ACCES), so
    // look at the export list to tell "no such export" from "not allowed".
    let exported: string[] | undefined;
    try {
      exported = (await mount.call(MOUNT3_PROGRAM, EXPORT, undefined)).map((e) => e.dir);
    } catch {
      // the listing only improves the message
    }
    if (noEntry || (exported !== undefined && !exported.includes(target.exportPath))) {
      const list = exported?.length
        ? `; exports this client may mount: ${exported.join(', ')}`
        : exported
          ? '; the server lists no export for this client'
          : '';
      const what = noEntry
        ? `export ${target.exportPath} does not exist on ${target.host}`
        : `export ${target.exportPath} does not exist on ${target.host}, or this client may not mount it (${status})`;
      const port = !noEntry && !target.reservedPort ? `; ${PRIVILEGED_PORT_HINT}` : '';
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
