import type { NfsSettings } from '../core/records.js';

/** Where a host finds the server, and what it mounts. */
export interface MountTarget {
  readonly nfs: NfsSettings;
  /** Address the host uses for the server (its `nfsAddress`, else the cluster's server). */
  readonly address: string;
}

export function fsType(nfs: NfsSettings): 'nfs' | 'nfs4' {
  return nfs.version === '3' ? 'nfs' : 'nfs4';
}

/**
 * The comma-separated options for a kernel NFS mount. NFSv3 needs the MOUNT port (when it is
 * not behind the server's rpcbind) and `nolock` (nfsvol does not run lockd/statd on hosts).
 * `withAddr` adds `addr=`, which Docker's local driver needs because its device is `:/path`.
 */
export function mountOptionString(
  target: MountTarget,
  withAddr: boolean,
  /** The volume's own options (`--mount-options` of `volume create/update`), after the cluster's. */
  volumeOptions: readonly string[] = [],
): string {
  const { nfs } = target;
  const opts: string[] = [];
  if (withAddr) opts.push(`addr=${target.address}`);
  if (nfs.port !== undefined) opts.push(`port=${nfs.port}`);
  opts.push(`vers=${nfs.version}`);
  if (nfs.version === '3') {
    // With a port *and* a protocol given, mount.nfs skips its rpcbind probes (nfs-utils
    // nfs_probe_bothports); without them it asks the server's port 111, which may not be
    // reachable (the lab publishes rpcbind elsewhere) and the mount hangs.
    opts.push('proto=tcp');
    if (nfs.mountPort !== undefined) opts.push(`mountport=${nfs.mountPort}`, 'mountproto=tcp');
    if (![...nfs.mountOptions, ...volumeOptions].some((o) => o === 'lock' || o === 'nolock'))
      opts.push('nolock');
  }
  // The kernel takes the last of two contradicting options: the volume's win over the cluster's.
  opts.push(...nfs.mountOptions, ...volumeOptions);
  return opts.join(',');
}

/** Path of a volume on the server, e.g. `/export/vol1`. */
export function exportPathOf(nfs: NfsSettings, volume: string): string {
  const base = nfs.exportPath.replace(/\/+$/, '');
  return `${base}/${volume}`;
}

/** `mount -t nfs -o ... addr:/export/NAME PATH`, for `volume mount`. */
export function hostMountArgv(
  target: MountTarget,
  volume: string,
  path: string,
  volumeOptions: readonly string[] = [],
): string[] {
  return [
    'mount',
    '-t',
    fsType(target.nfs),
    '-o',
    mountOptionString(target, false, volumeOptions),
    `${formatAddress(target.address)}:${exportPathOf(target.nfs, volume)}`,
    path,
  ];
}

/** Mounts the export root, for `host check`'s real test mount. */
export function exportMountArgv(target: MountTarget, path: string): string[] {
  return [
    'mount',
    '-t',
    fsType(target.nfs),
    '-o',
    mountOptionString(target, false),
    `${formatAddress(target.address)}:${target.nfs.exportPath}`,
    path,
  ];
}

function formatAddress(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
