import { CorruptRecordError, NewerSchemaError } from './registry/errors.js';
import { readJsonObject, type Fields } from './json-fields.js';
import { ValidationError } from '../common/errors.js';
import { parseMountOptions, validateMountPath } from './mount-options.js';
import { parseId, parseLabels, parseMode } from './volume-fields.js';
import { validateName } from './names.js';

/** Schema version this nfsvol writes. Records with a higher number are refused, never overwritten. */
export const SCHEMA_VERSION = 1;

export type NfsVersion = '3' | '4.1';
export type DeletePolicy = 'retain' | 'delete' | 'archive';

/** How hosts mount the export: written once by `init`, read by every command. */
export interface NfsSettings {
  readonly version: NfsVersion;
  /** NFS server address as the CLI reaches it; hosts use it unless they have their own `nfsAddress`. */
  readonly server: string;
  /** NFS port; absent = the default (2049, or rpcbind for v3). */
  readonly port?: number;
  /** MOUNT protocol port (NFSv3 only); absent = hosts ask rpcbind. */
  readonly mountPort?: number;
  /** Export path, e.g. `/export`. */
  readonly exportPath: string;
  /** Extra mount options added to every mount, e.g. `['hard', 'timeo=600']`. */
  readonly mountOptions: readonly string[];
}

export interface ClusterRecord {
  readonly schema: number;
  readonly kind: 'cluster';
  readonly id: string;
  readonly createdAt: string;
  readonly nfs: NfsSettings;
  /**
   * Length of a single-writer volume's writer lease, the same for every host (a holder renews
   * every quarter of it; another host takes over after a whole one without a renewal).
   * Absent: DEFAULT_WRITER_LEASE_MS.
   */
  readonly writerLeaseMs?: number;
}

/** Default length of a single-writer volume's writer lease. */
export const DEFAULT_WRITER_LEASE_MS = 15_000;
/** Bounds of the writer lease: long enough to renew over a slow link, short enough to fail over. */
export const WRITER_LEASE_BOUNDS_MS = [3_000, 600_000] as const;

/** Who may write a volume: any number of hosts, or one host at a time (the plugin's writer lease). */
export type AccessMode = 'multi-writer' | 'single-writer';

export interface VolumeRecord {
  readonly schema: number;
  readonly kind: 'volume';
  readonly name: string;
  readonly createdAt: string;
  /** Random id of the operation that created the record: lets a retried create recognise its own record. */
  readonly createdBy: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly onDelete: DeletePolicy;
  /** Mount options of this volume, after the cluster's (absent: none). */
  readonly mountOptions?: readonly string[];
  /**
   * `single-writer`: mounted only by the Docker plugin, on one host at a time (docs/plugin.md);
   * no host gets a `local` definition of it. Absent: multi-writer.
   */
  readonly access?: 'single-writer';
  /**
   * Absent while the volume is in use. `removing`: a `volume rm` wrote this tombstone before it
   * touched hosts or data; the next `volume rm` completes it, and nothing new may attach it.
   */
  readonly state?: 'removing';
  /** With `state: 'removing'`: the id of the removal that wrote the tombstone. */
  readonly removingBy?: string;
}

export interface HostKey {
  /** e.g. `ssh-ed25519`. */
  readonly type: string;
  /** Base64 of the public key blob, as in known_hosts. */
  readonly key: string;
  /** `SHA256:...` as OpenSSH prints it. */
  readonly fingerprint: string;
}

export interface HostRecord {
  readonly schema: number;
  readonly kind: 'host';
  readonly name: string;
  readonly addedAt: string;
  readonly ssh: { readonly user: string; readonly address: string; readonly port: number };
  /** How this host reaches the NFS server, when it differs from the cluster's `nfs.server`. */
  readonly nfsAddress?: string;
  /** Pinned when the host was added; every later connection must present the same key. */
  readonly hostKey: HostKey;
  /**
   * How this host's Docker gets volumes. `plugin`: the nfsvol volume plugin serves them, so
   * `sync` gives it no `local` definitions (and removes those it had). Absent: `local`
   * definitions made over SSH.
   */
  readonly docker?: 'plugin';
}

export interface MountRecord {
  readonly schema: number;
  readonly kind: 'mount';
  readonly volume: string;
  readonly host: string;
  readonly path: string;
  readonly mountedAt: string;
  /**
   * The Docker mount IDs using this mount (the volume plugin's count): the last one to go
   * unmounts. Absent for a mount made with `volume mount`.
   */
  readonly users?: readonly string[];
}

/** A Docker mount ID as the volume plugin records it. */
export const MOUNT_USER_PATTERN = /^[\w.-]{1,128}$/;
/** More containers than any host runs on one volume: a bound on what a record may hold. */
export const MAX_MOUNT_USERS = 10_000;

export interface PendingOperation {
  readonly op: 'define' | 'remove' | 'sync';
  readonly volume?: string;
}

/** Work a host still owes because it could not be reached; cleared by a successful sync. */
export interface PendingRecord {
  readonly schema: number;
  readonly kind: 'pending';
  readonly host: string;
  readonly since: string;
  readonly updatedAt: string;
  readonly reason: string;
  readonly operations: readonly PendingOperation[];
}

export type AnyRecord = ClusterRecord | VolumeRecord | HostRecord | MountRecord | PendingRecord;

/** Largest record nfsvol reads: a record is a few hundred bytes; a bigger file is not one. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * Parses a record's bytes. Checks, in order: valid UTF-8 JSON object, a schema version this
 * nfsvol understands, the expected kind, the fields of that kind with the rules input from the
 * command line is held to, and (when `key` is given) that the record names the key it is filed
 * under, so a record copied or forged under another name is refused.
 */
export function parseRecord<K extends AnyRecord['kind']>(
  file: string,
  bytes: Uint8Array | string,
  kind: K,
  key?: string,
): Extract<AnyRecord, { kind: K }> {
  const f = readJsonObject(file, bytes, MAX_RECORD_BYTES);
  const json = f.obj;
  const schema = f.int('schema');
  if (schema > SCHEMA_VERSION) throw new NewerSchemaError(file, schema, SCHEMA_VERSION);
  if (schema < 1) throw new CorruptRecordError(file, `schema version ${schema} is not valid`);
  if (json['kind'] !== kind) throw new CorruptRecordError(file, `expected a ${kind} record`);
  try {
    const rec = checkValues(decode(f, kind));
    if (key !== undefined && keyOf(rec) !== key) {
      throw new ValidationError(
        'name',
        `the record names ${JSON.stringify(keyOf(rec))}, not its key ${JSON.stringify(key)}`,
      );
    }
    return rec as Extract<AnyRecord, { kind: K }>;
  } catch (err) {
    // Anyone who can write the export can write a record: hold its values to the rules
    // input from the command line is held to before they reach a host.
    if (err instanceof ValidationError) throw new CorruptRecordError(file, err.message, err);
    throw err;
  }
}

/** The key of the record of `volume` mounted on `host`. */
export function mountKey(volume: string, host: string): string {
  return `${volume}@${host}`;
}

/** Keys of mount records: which volume, which host. */
export function isMountKeyOf(key: string, of: { readonly volume?: string; readonly host?: string }): boolean {
  const at = key.lastIndexOf('@');
  if (at < 0) return false;
  return (
    (of.volume === undefined || key.slice(0, at) === of.volume) &&
    (of.host === undefined || key.slice(at + 1) === of.host)
  );
}

/**
 * The lease a single-writer volume's holder keeps while it has the volume mounted: apart from
 * the volume's own lease, which is held only for the length of one change.
 */
export function writerLeaseKey(name: string): string {
  return `writer-${name}`;
}

/** The lease that orders a volume's removal against its mounts and changes. */
export function volumeLeaseKey(name: string): string {
  return `volume-${name}`;
}

/** The file name (without `.json`) a record must be stored under. */
export function keyOf(rec: AnyRecord): string {
  switch (rec.kind) {
    case 'cluster':
      return 'cluster';
    case 'volume':
    case 'host':
      return rec.name;
    case 'mount':
      return mountKey(rec.volume, rec.host);
    case 'pending':
      return rec.host;
  }
}

/** A host name or an IP address: what can follow `addr=` in mount options and `@` in SSH. */
const ADDRESS = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9.-]{0,252})|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$/;

export function validateAddress(value: string, field: string): string {
  if (!ADDRESS.test(value)) {
    throw new ValidationError(
      field,
      `${JSON.stringify(value.slice(0, 80))} is not a host name or IP address`,
    );
  }
  return value;
}

/** An absolute export path that is safe inside mount options (`device=:PATH`) and argv. */
export function validateExportPath(value: string, field = 'export path'): string {
  if (
    !/^\/[A-Za-z0-9_./@+-]*$/.test(value) ||
    value.split('/').some((p) => p === '..') ||
    value.length > 1024
  ) {
    throw new ValidationError(
      field,
      `${JSON.stringify(value.slice(0, 80))} must be an absolute path of letters, digits and _ . / @ + -`,
    );
  }
  return value;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;
const HEX_ID = /^[0-9a-f]{1,64}$/;
const OPAQUE_ID = /^[A-Za-z0-9_-]{1,64}$/;

function check(ok: boolean, field: string, what: string): void {
  if (!ok) throw new ValidationError(field, `must be ${what}`);
}

function checkPort(port: number | undefined, field: string): void {
  if (port !== undefined) check(port >= 1 && port <= 65535, field, 'a TCP port');
}

function checkValues(rec: AnyRecord): AnyRecord {
  switch (rec.kind) {
    case 'cluster':
      check(HEX_ID.test(rec.id), 'id', 'a hex id');
      check(ISO_TIME.test(rec.createdAt), 'createdAt', 'a UTC time');
      validateAddress(rec.nfs.server, 'nfs.server');
      validateExportPath(rec.nfs.exportPath, 'nfs.exportPath');
      checkPort(rec.nfs.port, 'nfs.port');
      checkPort(rec.nfs.mountPort, 'nfs.mountPort');
      parseMountOptions(rec.nfs.mountOptions);
      if (rec.writerLeaseMs !== undefined) {
        const [lo, hi] = WRITER_LEASE_BOUNDS_MS;
        check(rec.writerLeaseMs >= lo && rec.writerLeaseMs <= hi, 'writerLeaseMs', `${lo} to ${hi} ms`);
      }
      break;
    case 'volume':
      validateName(rec.name);
      check(ISO_TIME.test(rec.createdAt), 'createdAt', 'a UTC time');
      check(OPAQUE_ID.test(rec.createdBy), 'createdBy', 'an id of letters, digits, _ and -');
      parseId(rec.uid, 'uid');
      parseId(rec.gid, 'gid');
      parseMode(rec.mode);
      parseLabels(Object.entries(rec.labels).map(([k, v]) => `${k}=${v}`));
      if (rec.mountOptions !== undefined) parseMountOptions(rec.mountOptions);
      if (rec.removingBy !== undefined)
        check(OPAQUE_ID.test(rec.removingBy), 'removingBy', 'an id of letters, digits, _ and -');
      break;
    case 'host': {
      validateName(rec.name, 'host name');
      check(ISO_TIME.test(rec.addedAt), 'addedAt', 'a UTC time');
      check(/^[a-zA-Z_][a-zA-Z0-9_.-]{0,31}$/.test(rec.ssh.user), 'ssh.user', 'a user name');
      validateAddress(rec.ssh.address, 'ssh.address');
      checkPort(rec.ssh.port, 'ssh.port');
      if (rec.nfsAddress !== undefined) validateAddress(rec.nfsAddress, 'nfsAddress');
      const k = rec.hostKey;
      check(/^(?:ssh|ecdsa|sk)-[a-z0-9@.-]{1,64}$/.test(k.type), 'hostKey.type', 'an SSH key type');
      check(/^[A-Za-z0-9+/]{16,4096}={0,2}$/.test(k.key), 'hostKey.key', 'base64');
      check(/^SHA256:[A-Za-z0-9+/]{43}$/.test(k.fingerprint), 'hostKey.fingerprint', 'a SHA256 fingerprint');
      break;
    }
    case 'mount':
      validateName(rec.volume);
      validateName(rec.host, 'host name');
      validateMountPath(rec.path);
      check(ISO_TIME.test(rec.mountedAt), 'mountedAt', 'a UTC time');
      if (rec.users !== undefined) {
        check(rec.users.length <= MAX_MOUNT_USERS, 'users', `at most ${MAX_MOUNT_USERS} entries`);
        for (const u of rec.users) check(MOUNT_USER_PATTERN.test(u), 'users', 'Docker mount IDs');
      }
      break;
    case 'pending':
      validateName(rec.host, 'host name');
      for (const op of rec.operations) if (op.volume !== undefined) validateName(op.volume);
      check(rec.operations.length <= 100_000, 'operations', 'at most 100,000 entries');
      check(rec.reason.length <= 4096, 'reason', 'at most 4096 characters');
      break;
  }
  return rec;
}

function decode(f: Fields, kind: AnyRecord['kind']): AnyRecord {
  const schema = f.int('schema');
  switch (kind) {
    case 'cluster': {
      const n = f.sub('nfs');
      const mountPort = n.optInt('mountPort');
      const port = n.optInt('port');
      return {
        schema,
        kind,
        id: f.str('id'),
        createdAt: f.str('createdAt'),
        nfs: {
          version: n.oneOf('version', ['3', '4.1'] as const),
          server: n.str('server'),
          ...(port === undefined ? {} : { port }),
          ...(mountPort === undefined ? {} : { mountPort }),
          exportPath: n.str('exportPath'),
          mountOptions: n.strArray('mountOptions'),
        },
        ...(f.obj['writerLeaseMs'] === undefined ? {} : { writerLeaseMs: f.int('writerLeaseMs') }),
      };
    }
    case 'volume':
      return {
        schema,
        kind,
        name: f.str('name'),
        createdAt: f.str('createdAt'),
        createdBy: f.str('createdBy'),
        uid: f.int('uid'),
        gid: f.int('gid'),
        mode: f.int('mode'),
        labels: f.strMap('labels'),
        onDelete: f.oneOf('onDelete', ['retain', 'delete', 'archive'] as const),
        ...(f.obj['mountOptions'] === undefined ? {} : { mountOptions: f.strArray('mountOptions') }),
        ...(f.obj['access'] === undefined ? {} : { access: f.oneOf('access', ['single-writer'] as const) }),
        ...(f.obj['state'] === undefined ? {} : { state: f.oneOf('state', ['removing'] as const) }),
        ...(f.obj['removingBy'] === undefined ? {} : { removingBy: f.str('removingBy') }),
      };
    case 'host': {
      const ssh = f.sub('ssh');
      const key = f.sub('hostKey');
      // An `identityFile` field, if a record has one, is ignored: which key logs in is
      // this machine's business, never something a file on the shared export can choose.
      const nfsAddress = f.optStr('nfsAddress');
      return {
        schema,
        kind,
        name: f.str('name'),
        addedAt: f.str('addedAt'),
        ssh: { user: ssh.str('user'), address: ssh.str('address'), port: ssh.int('port') },
        ...(nfsAddress === undefined ? {} : { nfsAddress }),
        hostKey: { type: key.str('type'), key: key.str('key'), fingerprint: key.str('fingerprint') },
        ...(f.obj['docker'] === undefined ? {} : { docker: f.oneOf('docker', ['plugin'] as const) }),
      };
    }
    case 'mount':
      return {
        schema,
        kind,
        volume: f.str('volume'),
        host: f.str('host'),
        path: f.str('path'),
        mountedAt: f.str('mountedAt'),
        ...(f.obj['users'] === undefined ? {} : { users: f.strArray('users') }),
      };
    case 'pending':
      return {
        schema,
        kind,
        host: f.str('host'),
        since: f.str('since'),
        updatedAt: f.str('updatedAt'),
        reason: f.str('reason'),
        operations: f.array('operations').map((o) => {
          const volume = o.optStr('volume');
          return {
            op: o.oneOf('op', ['define', 'remove', 'sync'] as const),
            ...(volume === undefined ? {} : { volume }),
          };
        }),
      };
  }
}

export function encodeRecord(record: AnyRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}
