import { ValidationError } from '../../common/errors.js';
import type { NfsSettings } from '../../core/records.js';

/** Label every definition nfsvol makes carries, so it never touches volumes it did not make. */
export const MANAGED_LABEL = 'nfsvol.managed';
export const CLUSTER_LABEL = 'nfsvol.cluster';

/** One mount option: `name` or `name=value`, no commas (they separate options), no spaces. */
const MOUNT_OPTION = /^[a-zA-Z0-9_][a-zA-Z0-9_.:-]*(=[a-zA-Z0-9_.:/-]+)?$/;

/** Options nfsvol sets itself from the cluster settings; a user may not override them. */
const RESERVED_OPTIONS = new Set([
  'addr',
  'port',
  'vers',
  'nfsvers',
  'mountport',
  'mountproto',
  'proto',
  'clientaddr',
]);

/** Parses `--mount-options hard,timeo=600` into a validated list. */
export function parseMountOptions(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const items = (typeof value === 'string' ? [value] : value).flatMap((v) => v.split(','));
  return items
    .map((o) => o.trim())
    .filter((o) => o !== '')
    .map((o) => {
      if (!MOUNT_OPTION.test(o)) {
        throw new ValidationError('mount-options', `${JSON.stringify(o)} is not a valid NFS mount option`);
      }
      const key = o.split('=')[0] ?? o;
      if (RESERVED_OPTIONS.has(key)) {
        throw new ValidationError('mount-options', `'${key}' is set by nfsvol from the cluster settings`);
      }
      return o;
    });
}

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

/** The `--opt` values of the Docker definition; also what drift is checked against. */
export function dockerVolumeOptions(
  target: MountTarget,
  volume: string,
  volumeOptions: readonly string[] = [],
): Record<string, string> {
  return {
    type: fsType(target.nfs),
    o: mountOptionString(target, true, volumeOptions),
    device: `:${exportPathOf(target.nfs, volume)}`,
  };
}

/** A Docker volume definition nfsvol makes. */
export interface VolumeDefinition {
  readonly name: string;
  /** The local driver's `--opt` values (type, o, device). */
  readonly options: Readonly<Record<string, string>>;
  readonly clusterId: string;
}

export function volumeDefinition(
  target: MountTarget,
  volume: string,
  clusterId: string,
  volumeOptions: readonly string[] = [],
): VolumeDefinition {
  return { name: volume, options: dockerVolumeOptions(target, volume, volumeOptions), clusterId };
}

/** `docker volume create` as an argument vector: the local driver, backed by NFS, labelled as ours. */
export function dockerVolumeCreateArgvOf(def: VolumeDefinition): string[] {
  const argv = ['docker', 'volume', 'create', '--driver', 'local'];
  for (const [k, v] of Object.entries(def.options)) argv.push('--opt', `${k}=${v}`);
  argv.push('--label', `${MANAGED_LABEL}=true`, '--label', `${CLUSTER_LABEL}=${def.clusterId}`, def.name);
  return argv;
}

export function dockerVolumeCreateArgv(target: MountTarget, volume: string, clusterId: string): string[] {
  return dockerVolumeCreateArgvOf(volumeDefinition(target, volume, clusterId));
}

export function dockerVolumeRmArgv(volumes: readonly string[]): string[] {
  return ['docker', 'volume', 'rm', ...volumes];
}

/** Names of every volume on the host (managed or not), one per line. */
export function dockerVolumeLsArgv(): string[] {
  return ['docker', 'volume', 'ls', '--quiet'];
}

export function dockerVolumeInspectArgv(volumes: readonly string[]): string[] {
  return ['docker', 'volume', 'inspect', ...volumes];
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

/** Validates a mount point path given by a user: absolute, normalised, not `/`. */
export function validateMountPath(path: string): string {
  if (!path.startsWith('/') || path === '/')
    throw new ValidationError('path', 'must be an absolute path other than /');
  if (/[\0\n\r]/.test(path)) throw new ValidationError('path', 'must not contain NUL or line breaks');
  const parts = path.split('/').slice(1);
  if (parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new ValidationError('path', `${JSON.stringify(path)} must be normalised (no '//', '.', '..')`);
  }
  if (Buffer.byteLength(path) > 1024) throw new ValidationError('path', 'is longer than 1024 bytes');
  const top = `/${parts[0] ?? ''}`;
  if (
    SYSTEM_DIRS.has(path) ||
    ['/proc', '/sys', '/dev', '/boot'].includes(top) ||
    path.startsWith('/var/lib/docker/')
  ) {
    throw new ValidationError(
      'path',
      `${JSON.stringify(path)} is a system directory; mount volumes elsewhere (e.g. /srv/NAME or /mnt/NAME)`,
    );
  }
  return path;
}

/** Directories a mount must never cover (or, read back from a record, be unmounted from). */
const SYSTEM_DIRS = new Set([
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/var',
  '/var/lib',
  '/var/lib/docker',
  '/var/log',
  '/var/run',
]);
