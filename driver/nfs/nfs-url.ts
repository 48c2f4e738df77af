import { ValidationError } from '../common/errors.js';
import { PORTMAP_PORT } from './portmap/program.js';

/** Where an export is and how to talk to it, parsed from `nfs://host[:port]/export?...`. */
export interface NfsTarget {
  readonly host: string;
  /** NFS port; when absent it is asked of rpcbind. */
  readonly port: number | undefined;
  /** MOUNT port (NFSv3); when absent it is asked of rpcbind. */
  readonly mountPort: number | undefined;
  /** @default 111 */
  readonly rpcbindPort: number;
  /** Export path as the server names it, e.g. `/export`. */
  readonly exportPath: string;
  /** `auto`: NFSv4.1 when the server speaks it, else NFSv3. */
  readonly version: 3 | 4.1 | 'auto';
  readonly uid: number;
  readonly gid: number;
  readonly gids: readonly number[];
  /** Bind a source port below 1024 (kernel nfsd's `secure` exports). @default true when root */
  readonly reservedPort: boolean;
  /**
   * Time in ms one call may take in total, retries and reconnects included (`timeout=MS`).
   * @default 30000
   */
  readonly timeoutMs: number;
}

// `nfsport` and `mountport` are libnfs's names, so libnfs URLs work as they are.
/** rpcbind's well-known port (RFC 1833). */

const PARAMS = new Set([
  'version',
  'uid',
  'gid',
  'gids',
  'nfsport',
  'mountport',
  'rpcbindport',
  'reserved',
  'timeout',
]);

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch (err) {
    throw new ValidationError('url', `bad percent-encoding in "${part}"`, { cause: err });
  }
}

function int(field: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new ValidationError(field, `must be a whole number, got "${raw}"`);
  const v = Number(raw);
  if (v < min || v > max) throw new ValidationError(field, `must be from ${min} to ${max}, got ${v}`);
  return v;
}

/**
 * Parses `nfs://host[:port]/export[?version=3|4.1|auto&uid=0&gid=0&gids=1,2&nfsport=N&mountport=N&rpcbindport=N&reserved=0|1&timeout=MS]`.
 * Unknown parameters are refused rather than ignored, so a typo cannot silently change behaviour.
 */
export function parseNfsUrl(input: string): NfsTarget {
  let url: URL;
  try {
    url = new URL(input);
  } catch (err) {
    throw new ValidationError('url', `not a URL: "${input}" (expected nfs://SERVER[:PORT]/EXPORT)`, {
      cause: err,
    });
  }
  if (url.protocol !== 'nfs:') {
    throw new ValidationError('url', `expected an nfs:// URL, got "${url.protocol}//" in "${input}"`);
  }
  if (url.username || url.password) throw new ValidationError('url', 'must not carry a user or password');
  if (!url.hostname) throw new ValidationError('url', `no server in "${input}"`);
  // Check the path as typed: URL parsing would quietly resolve "a/../b" to "/b".
  const typedPath = input.replace(/^[a-z]+:\/\/[^/?#]*/i, '').split(/[?#]/)[0] ?? '';
  if (typedPath.split('/').some((seg) => ['.', '..'].includes(decode(seg)))) {
    throw new ValidationError('url', `export path must not contain "." or ".." segments: "${typedPath}"`);
  }
  const exportPath = decode(url.pathname).replace(/\/+$/, '');
  if (!exportPath.startsWith('/') || exportPath.length < 2) {
    throw new ValidationError('url', `no export path in "${input}" (expected nfs://SERVER/EXPORT)`);
  }
  if (exportPath.split('/').some((seg) => seg === '..' || seg === '.')) {
    throw new ValidationError('url', `export path must not contain "." or ".." segments: "${exportPath}"`);
  }
  for (const key of url.searchParams.keys()) {
    if (!PARAMS.has(key)) {
      throw new ValidationError('url', `unknown parameter "${key}" (known: ${[...PARAMS].join(', ')})`);
    }
  }
  const q = url.searchParams;
  const versionRaw = q.get('version') ?? '3';
  if (versionRaw !== '3' && versionRaw !== '4.1' && versionRaw !== 'auto') {
    throw new ValidationError(
      'version',
      `must be 3 or 4.1, or auto (4.1 if served, else 3), got "${versionRaw}"`,
    );
  }
  const gids = (q.get('gids') ?? '')
    .split(',')
    .filter((s) => s !== '')
    .map((s) => int('gids', s, 0, 0xffffffff));
  if (gids.length > 16)
    throw new ValidationError('gids', `AUTH_SYS carries at most 16 groups, got ${gids.length}`);
  const reservedRaw = q.get('reserved');
  if (reservedRaw !== null && reservedRaw !== '0' && reservedRaw !== '1') {
    throw new ValidationError('reserved', `must be 0 or 1, got "${reservedRaw}"`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? int('port', url.port, 1, 65535) : undefined;
  const nfsport = q.has('nfsport') ? int('nfsport', q.get('nfsport')!, 1, 65535) : undefined;
  if (port !== undefined && nfsport !== undefined && port !== nfsport) {
    throw new ValidationError('nfsport', `disagrees with the port in the URL (${nfsport} vs ${port})`);
  }
  return {
    host,
    port: port ?? nfsport,
    mountPort: q.has('mountport') ? int('mountport', q.get('mountport')!, 1, 65535) : undefined,
    rpcbindPort: q.has('rpcbindport') ? int('rpcbindport', q.get('rpcbindport')!, 1, 65535) : PORTMAP_PORT,
    exportPath,
    version: versionRaw === '3' ? 3 : versionRaw === '4.1' ? 4.1 : 'auto',
    uid: int('uid', q.get('uid') ?? '0', 0, 0xffffffff),
    gid: int('gid', q.get('gid') ?? '0', 0, 0xffffffff),
    gids,
    reservedPort: reservedRaw === null ? process.getuid?.() === 0 : reservedRaw === '1',
    timeoutMs: q.has('timeout') ? int('timeout', q.get('timeout')!, 1, 3_600_000) : 30_000,
  };
}

/** The canonical URL of a target (round-trips through parseNfsUrl). */
export function formatNfsUrl(t: NfsTarget): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  const q = new URLSearchParams();
  q.set('version', String(t.version));
  if (t.mountPort !== undefined) q.set('mountport', String(t.mountPort));
  if (t.rpcbindPort !== PORTMAP_PORT) q.set('rpcbindport', String(t.rpcbindPort));
  if (t.uid !== 0) q.set('uid', String(t.uid));
  if (t.gid !== 0) q.set('gid', String(t.gid));
  if (t.gids.length) q.set('gids', t.gids.join(','));
  return `nfs://${host}${t.port === undefined ? '' : `:${t.port}`}${t.exportPath}?${q.toString()}`;
}
