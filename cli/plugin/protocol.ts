/**
 * The Docker volume plugin protocol as data: what each request body must hold, checked before
 * anything acts on it, and the shape of each answer. No sockets here (server.ts) and no
 * behaviour (handlers.ts). docs/plugin.md says what each endpoint does.
 */
import {
  ValidationError,
  parseId,
  parseLabels,
  parseMode,
  parseMountOptions,
  validateName,
  type DeletePolicy,
} from '../../driver/index.js';

/** The endpoints Docker calls, by URL path. */
export const ENDPOINTS = [
  '/Plugin.Activate',
  '/VolumeDriver.Create',
  '/VolumeDriver.Remove',
  '/VolumeDriver.Mount',
  '/VolumeDriver.Unmount',
  '/VolumeDriver.Path',
  '/VolumeDriver.Get',
  '/VolumeDriver.List',
  '/VolumeDriver.Capabilities',
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export const isEndpoint = (path: string): path is Endpoint => (ENDPOINTS as readonly string[]).includes(path);

/** How many writers a volume may have at once (docs/plugin.md, single-writer volumes). */
export type Access = 'multi-writer' | 'single-writer';

/** A `Create`'s options (`docker volume create -o`, Compose `driver_opts`), checked. */
export interface VolumeSpec {
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
  readonly onDelete?: DeletePolicy;
  readonly labels: Readonly<Record<string, string>>;
  readonly mountOptions?: readonly string[];
  readonly access: Access;
}

export interface CreateRequest {
  readonly name: string;
  readonly spec: VolumeSpec;
}
export interface NameRequest {
  readonly name: string;
}
export interface MountRequest {
  readonly name: string;
  /** Docker's ID for this use of the volume (one per container mount). */
  readonly id: string;
}

/** A volume as Docker's `Get` and `List` show it. */
export interface DockerVolume {
  readonly Name: string;
  /** Where it is mounted on this host; absent when it is not. */
  readonly Mountpoint?: string;
  readonly CreatedAt?: string;
  readonly Status?: Readonly<Record<string, unknown>>;
}

const POLICIES: readonly DeletePolicy[] = ['retain', 'delete', 'archive'];
const ACCESS: readonly Access[] = ['multi-writer', 'single-writer'];
const SIMPLE_OPTIONS = ['uid', 'gid', 'mode', 'on-delete', 'mount-options', 'access', 'label'];
/** Longer than any ID Docker makes (64 hex digits), short enough to keep in a record. */
const MAX_ID_LENGTH = 128;

function objectBody(body: unknown, endpoint: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('request', `${endpoint}: the body must be a JSON object`);
  }
  return body as Record<string, unknown>;
}

function nameOf(body: Record<string, unknown>, endpoint: string): string {
  const name = body['Name'];
  if (typeof name !== 'string') throw new ValidationError('Name', `${endpoint}: Name must be a string`);
  return validateName(name, 'volume');
}

function idOf(body: Record<string, unknown>, endpoint: string): string {
  const id = body['ID'];
  if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH || !/^[\w.-]+$/.test(id)) {
    throw new ValidationError('ID', `${endpoint}: ID must be a mount ID (letters, digits, '_', '.', '-')`);
  }
  return id;
}

/**
 * Options by name: `uid`, `gid`, `mode`, `on-delete`, `mount-options`, `access`, and labels as
 * `label=KEY=VALUE` (one) or `label.KEY=VALUE` (any number). An unknown name is refused, so a
 * typo never becomes a silent default.
 */
export function parseSpec(opts: unknown): VolumeSpec {
  if (opts === undefined || opts === null) return { labels: {}, access: 'multi-writer' };
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new ValidationError('Opts', 'Opts must be an object of option names to strings');
  }
  const entries = Object.entries(opts as Record<string, unknown>);
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw new ValidationError(key, `option ${key} must be a string`);
    if (!SIMPLE_OPTIONS.includes(key) && !key.startsWith('label.')) {
      throw new ValidationError(
        key,
        `unknown option ${JSON.stringify(key)}: use ${SIMPLE_OPTIONS.join(', ')} or label.KEY`,
      );
    }
  }
  const get = (key: string): string | undefined => (opts as Record<string, string>)[key];
  const labelItems = entries
    .filter(([k]) => k.startsWith('label.'))
    .map(([k, v]) => `${k.slice('label.'.length)}=${String(v)}`);
  const one = get('label');
  if (one !== undefined) labelItems.push(one);
  const onDelete = get('on-delete');
  if (onDelete !== undefined && !(POLICIES as readonly string[]).includes(onDelete)) {
    throw new ValidationError(
      'on-delete',
      `${JSON.stringify(onDelete)} is not one of ${POLICIES.join(', ')}`,
    );
  }
  const access = get('access') ?? 'multi-writer';
  if (!(ACCESS as readonly string[]).includes(access)) {
    throw new ValidationError('access', `${JSON.stringify(access)} is not one of ${ACCESS.join(', ')}`);
  }
  const uid = get('uid');
  const gid = get('gid');
  const mode = get('mode');
  const mountOptions = get('mount-options');
  return {
    ...(uid === undefined ? {} : { uid: parseId(uid, 'uid') }),
    ...(gid === undefined ? {} : { gid: parseId(gid, 'gid') }),
    ...(mode === undefined ? {} : { mode: parseMode(mode) }),
    ...(onDelete === undefined ? {} : { onDelete: onDelete as DeletePolicy }),
    labels: parseLabels(labelItems),
    ...(mountOptions === undefined ? {} : { mountOptions: parseMountOptions(mountOptions) }),
    access: access as Access,
  };
}

export function parseCreate(body: unknown): CreateRequest {
  const b = objectBody(body, 'Create');
  return { name: nameOf(b, 'Create'), spec: parseSpec(b['Opts']) };
}

export function parseName(body: unknown, endpoint: string): NameRequest {
  return { name: nameOf(objectBody(body, endpoint), endpoint) };
}

export function parseMount(body: unknown, endpoint: string): MountRequest {
  const b = objectBody(body, endpoint);
  return { name: nameOf(b, endpoint), id: idOf(b, endpoint) };
}
