/**
 * Typed errors and their one catalogue. Every error nfsvol raises carries a `code` from
 * `ERRORS` (or a protocol status name, `NFS3ERR_*`, `NFS4ERR_*`, `MNT3ERR_*`), the `category`
 * that code belongs to, whether retrying can help (`retriable`), and the underlying error as
 * `cause`. Front ends translate categories, never messages: the CLI maps them to exit statuses,
 * a Docker plugin or an RPC front end can map them to its own status codes the same way.
 */

/**
 * - `usage`: the input is wrong (a name, a path, an option); fix it and retry.
 * - `unsupported`: asks for something this nfsvol, server or host does not do.
 * - `not-found`: what the input names does not exist.
 * - `conflict`: the state forbids it now (exists, in use, being removed, held by another).
 * - `unavailable`: a peer could not be reached or did not answer in time.
 * - `permission`: refused for want of rights or trust (host keys, server permissions).
 * - `corrupt`: what was read is malformed or unexpected (records, config files, replies,
 *   command output).
 * - `interrupted`: the user asked to stop.
 * - `internal`: a bug in nfsvol.
 */
export type ErrorCategory =
  | 'usage'
  | 'unsupported'
  | 'not-found'
  | 'conflict'
  | 'unavailable'
  | 'permission'
  | 'corrupt'
  | 'interrupted'
  | 'internal';

interface ErrorSpec {
  readonly category: ErrorCategory;
  /**
   * Whether the same call may succeed if made again unchanged, when the throw site does not
   * say: most sites decide it from what failed (a refused connection is retriable, a refused
   * login is not), so the default is the conservative one.
   */
  readonly retriable: boolean;
}

const spec = (category: ErrorCategory, retriable = false): ErrorSpec => ({ category, retriable });

/** nfsvol's own codes. Protocol statuses are classified by `protocolStatusSpec`. */
export const ERRORS = {
  // Input.
  VALIDATION: spec('usage'),
  USAGE: spec('usage'),
  // Not supported here.
  SSH_CONFIG_UNSUPPORTED: spec('unsupported'),
  NFS_VERSION_UNSUPPORTED: spec('unsupported'),
  NFS4_UNSUPPORTED: spec('unsupported'),
  ACCESS_MODE_UNSUPPORTED: spec('unsupported'),
  NFS4_MINOR_VERSION: spec('unsupported'),
  // Missing.
  NFS_BAD_PATH: spec('not-found'),
  NOT_FOUND: spec('not-found'),
  NOT_INITIALIZED: spec('not-found'),
  NOT_MOUNTED: spec('not-found'),
  MOUNT_NO_EXPORT: spec('not-found'),
  RPCBIND_NOT_REGISTERED: spec('not-found'),
  HOST_NO_NFS: spec('not-found'),
  HOST_PLUGIN_MISSING: spec('not-found'),
  // State.
  REGISTRY_EXISTS: spec('conflict'),
  HOST_EXISTS: spec('conflict'),
  ALREADY_MOUNTED: spec('conflict'),
  VOLUME_IN_USE: spec('conflict'),
  VOLUME_OPTIONS_DIFFER: spec('conflict'),
  VOLUME_BEING_REMOVED: spec('conflict'),
  VOLUME_USE_UNKNOWN: spec('conflict'),
  VOLUME_PATH_TAKEN: spec('conflict'),
  HOST_VOLUME_CONFLICT: spec('conflict'),
  MOUNT_MISMATCH: spec('conflict'),
  LOCK_TIMEOUT: spec('conflict'),
  LOCK_LOST: spec('conflict'),
  VOLUME_HELD: spec('conflict'),
  LOCAL_FILE_CHANGED: spec('conflict'),
  HOST_PURGE_INCOMPLETE: spec('conflict'),
  CLUSTER_MISMATCH: spec('conflict'),
  // Peers.
  HOST_UNREACHABLE: spec('unavailable', true),
  SSH_CONNECT_FAILED: spec('unavailable'),
  SSH_TIMEOUT: spec('unavailable'),
  SSH_CHANNEL_REFUSED: spec('unavailable'),
  SSH_CHANNEL_TIMEOUT: spec('unavailable'),
  SSH_COMMAND_FAILED: spec('unavailable'),
  LOCAL_COMMAND_FAILED: spec('unavailable'),
  LOCAL_COMMAND_TIMEOUT: spec('unavailable'),
  DOCKER_API_ERROR: spec('unavailable'),
  NFS_CONNECT: spec('unavailable'),
  RPCBIND_UNREACHABLE: spec('unavailable'),
  MOUNT_REFUSED: spec('unavailable'),
  RPC_CONNECT: spec('unavailable'),
  RPC_CONNECTION_LOST: spec('unavailable'),
  RPC_TIMEOUT: spec('unavailable', true),
  RPC_CLOSED: spec('unavailable'),
  RPC_PROG_UNAVAIL: spec('unavailable'),
  RPC_PROG_MISMATCH: spec('unavailable'),
  RPC_PROC_UNAVAIL: spec('unavailable'),
  RPC_SYSTEM_ERR: spec('unavailable'),
  RPC_MISMATCH: spec('unavailable'),
  NFS4_SESSION_LOST: spec('unavailable'),
  NFS4_NO_SESSION: spec('unavailable'),
  NFS4_CLOSED: spec('unavailable'),
  // Trust.
  HOST_KEY_UNKNOWN: spec('permission'),
  HOST_KEY_MISMATCH: spec('permission'),
  HOST_KEY_REVOKED: spec('permission'),
  HOST_UNTRUSTED: spec('permission'),
  RPC_AUTH_ERROR: spec('permission'),
  MOUNT_AUTH_UNSUPPORTED: spec('permission'),
  MOUNT_PRIVILEGED_PORT: spec('permission'),
  SSH_IDENTITY_UNUSABLE: spec('permission'),
  // Malformed.
  CONFIG_UNREADABLE: spec('corrupt'),
  SSH_CONFIG_INVALID: spec('corrupt'),
  REGISTRY_CORRUPT: spec('corrupt'),
  REGISTRY_INCOMPLETE: spec('corrupt'),
  REGISTRY_SCHEMA_NEWER: spec('corrupt'),
  HOST_BAD_OUTPUT: spec('corrupt'),
  NFS_PROTOCOL: spec('corrupt'),
  NFS_TOO_LARGE: spec('corrupt'),
  NFS4_PROTOCOL: spec('corrupt'),
  RPC_PROTOCOL: spec('corrupt'),
  RPC_RECORD_TOO_LARGE: spec('corrupt'),
  RPC_GARBAGE_ARGS: spec('corrupt'),
  XDR_TRUNCATED: spec('corrupt'),
  XDR_TOO_LONG: spec('corrupt'),
  XDR_BAD_VALUE: spec('corrupt'),
  // Other.
  INTERRUPTED: spec('interrupted'),
  RPC_ABORTED: spec('interrupted'),
  INTERNAL: spec('internal'),
} as const satisfies Record<string, ErrorSpec>;

/** A status name of the NFS and MOUNT protocols, as their status tables name them. */
export type ProtocolStatus = `NFS3ERR_${string}` | `NFS4ERR_${string}` | `MNT3ERR_${string}`;

export type ErrorCode = keyof typeof ERRORS | ProtocolStatus;

const PROTOCOL_STATUS = /^(NFS3ERR|NFS4ERR|MNT3ERR)_(.+)$/;

/** The part of a protocol status name after the prefix, by what it means to a caller. */
const STATUS_CATEGORY: Readonly<Record<string, ErrorCategory>> = {
  NOENT: 'not-found',
  STALE: 'not-found',
  BADHANDLE: 'not-found',
  FHEXPIRED: 'not-found',
  EXIST: 'conflict',
  NOTEMPTY: 'conflict',
  NOTDIR: 'conflict',
  ISDIR: 'conflict',
  NOT_SYNC: 'conflict',
  BAD_COOKIE: 'conflict',
  JUKEBOX: 'unavailable',
  DELAY: 'unavailable',
  GRACE: 'unavailable',
  SERVERFAULT: 'unavailable',
  IO: 'unavailable',
  NOSPC: 'unavailable',
  DQUOT: 'unavailable',
  PERM: 'permission',
  ACCES: 'permission',
  ACCESS: 'permission',
  ROFS: 'permission',
  WRONGSEC: 'permission',
  BADOWNER: 'permission',
  INVAL: 'usage',
  NAMETOOLONG: 'usage',
  BADNAME: 'usage',
  BADCHAR: 'usage',
  FBIG: 'usage',
};

/** Whether a name read from elsewhere (a status table, a peer) is a code of the catalogue. */
export function isErrorCode(name: string): name is ErrorCode {
  return Object.hasOwn(ERRORS, name) || PROTOCOL_STATUS.test(name);
}

/** Category and retriability of a code; unknown codes are internal (a missing catalogue entry). */
export function errorSpec(code: string): ErrorSpec {
  const own = (ERRORS as Readonly<Record<string, ErrorSpec>>)[code];
  if (own) return own;
  const m = PROTOCOL_STATUS.exec(code);
  if (m) {
    // Retriability of a status is the protocol's, from its status table, given at the throw site.
    return spec(STATUS_CATEGORY[m[2] ?? ''] ?? 'corrupt');
  }
  return spec('internal');
}

export interface NfsvolErrorOptions {
  /** Overrides the catalogue's answer for this one occurrence. */
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

export class NfsvolError extends Error {
  readonly code: ErrorCode;
  readonly category: ErrorCategory;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: NfsvolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    const s = errorSpec(code);
    this.category = s.category;
    this.retriable = options.retriable ?? s.retriable;
  }
}

/** Bad input from a user or caller: a name, a path, an option. Never retriable. */
export class ValidationError extends NfsvolError {
  readonly field: string;
  constructor(field: string, message: string, options: { readonly cause?: unknown } = {}) {
    super('VALIDATION', `${field}: ${message}`, options);
    this.field = field;
  }
}

/** The user asked to stop (Ctrl-C): work in flight finished, nothing further was started. */
export class InterruptedError extends NfsvolError {
  constructor() {
    super('INTERRUPTED', 'interrupted: steps in flight were finished, nothing further was started');
  }
}

const RETRIES_SPENT = Symbol('nfsvol.retriesSpent');

/**
 * Whether an error is worth another attempt: retriable, and not already given up on by a retry
 * loop below (common/retry.ts marks what it gives up on, so loops never multiply attempts).
 */
export function isRetriable(err: unknown): boolean {
  return err instanceof NfsvolError && err.retriable && !(err as { [RETRIES_SPENT]?: true })[RETRIES_SPENT];
}

/** Marks an error a retry loop gave up on: no loop above retries it again. */
export function markRetriesSpent(err: unknown): void {
  if (err instanceof NfsvolError && err.retriable && !Object.hasOwn(err, RETRIES_SPENT)) {
    Object.defineProperty(err, RETRIES_SPENT, { value: true, enumerable: false });
  }
}

/** The category of anything thrown: errors that are not nfsvol's are internal. */
export function categoryOf(err: unknown): ErrorCategory {
  return err instanceof NfsvolError ? err.category : 'internal';
}
