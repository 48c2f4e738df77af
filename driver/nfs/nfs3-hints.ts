import { Nfs3Status } from './nfs3/index.js';
import { MountError } from './nfs-error.js';
import type { NfsTarget } from './nfs-url.js';
import { RpcError } from './rpc/rpc-error.js';

/*
 * What to tell a user whose NFSv3 server refused them. The status alone ("ACCES") does not say
 * what to change; most refusals of a client that is not root come from a server that wants a
 * privileged source port, so the hints name the settings on both sides.
 */

const PRIVILEGED_PORT_FIX =
  'run nfsvol as root (it then binds one; reserved=1 in the URL), or allow other ports on the server: "insecure" in /etc/exports (kernel nfsd), "PrivilegedPort = false" (nfs-ganesha)';
export const PRIVILEGED_PORT_HINT = `if the export requires a privileged source port (below 1024): ${PRIVILEGED_PORT_FIX}`;

/**
 * What to tell a user whose call was refused for want of permission: an NFS3ERR_PERM or
 * NFS3ERR_ACCES (MOUNT uses the same two codes for MNT3ERR_PERM and MNT3ERR_ACCES).
 */
export function accessHint(status: number, target: NfsTarget): string | undefined {
  if (status !== Nfs3Status.NFS3ERR_PERM && status !== Nfs3Status.NFS3ERR_ACCES) return undefined;
  return target.reservedPort
    ? `server refused uid ${target.uid}: check root squashing and the export's client list`
    : `server refused the call; ${PRIVILEGED_PORT_HINT}`;
}

/**
 * A server that insists on a privileged source port answers AUTH_TOOWEAK (nfs-ganesha's
 * PrivilegedPort) or MNT3ERR_ACCES / NFS3ERR_PERM (kernel nfsd without `insecure`): say so.
 */
export function explainRefusal(err: unknown, target: NfsTarget): unknown {
  if (!(err instanceof RpcError) || err.authStat !== 'AUTH_TOOWEAK') return err;
  const how = target.reservedPort
    ? 'nfsvol already used a reserved source port, so the server wants a stronger flavor than AUTH_SYS'
    : `the export requires a privileged source port (below 1024): ${PRIVILEGED_PORT_FIX}`;
  return new MountError(
    'MOUNT_PRIVILEGED_PORT',
    target.exportPath,
    `${target.host} refused ${target.exportPath} (AUTH_TOOWEAK): ${how}`,
    {
      cause: err,
    },
  );
}
