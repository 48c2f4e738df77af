import { ValidationError } from '../common/errors.js';

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
