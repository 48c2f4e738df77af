/**
 * The endpoints of the Docker volume plugin protocol over a backend that does the work. Docker
 * shows `Err` to its user, so every failure becomes one line with the error's code; which
 * errors are the caller's and which are the plugin's is the error's category, never its text.
 */
import { categoryOf, isErrorCode, type ErrorCategory } from '../../driver/index.js';
import {
  parseCreate,
  parseMount,
  parseName,
  type DockerVolume,
  type Endpoint,
  type VolumeSpec,
} from './protocol.js';

/** What the plugin does for Docker; docs/plugin.md says what each must guarantee. */
export interface VolumeDriverBackend {
  /** Idempotent: the same volume with the same options again is success, other options an error. */
  create(name: string, spec: VolumeSpec): Promise<void>;
  remove(name: string): Promise<void>;
  /** Mounts the volume on this host (once however many IDs) and returns where. */
  mount(name: string, id: string): Promise<string>;
  /** Forgets `id`; the last ID of a volume unmounts it. */
  unmount(name: string, id: string): Promise<void>;
  /** Where the volume is mounted on this host, or undefined. */
  path(name: string): Promise<string | undefined>;
  /** Throws a `not-found` error when there is no such volume. */
  get(name: string): Promise<DockerVolume>;
  list(): Promise<readonly DockerVolume[]>;
}

/** An answer: the JSON body Docker reads (always with HTTP 200; failures carry `Err`). */
export type Answer = Readonly<Record<string, unknown>>;

export interface Handled {
  readonly answer: Answer;
  /** On a failure: whose it is (a front end logs what is not its caller's). */
  readonly category?: ErrorCategory;
}

/** Where a failure belongs: Docker's user (bad input, state) or the plugin and its peers. */
export function failure(err: unknown): { readonly Err: string; readonly category: ErrorCategory } {
  const e = err instanceof Error ? err : new Error(String(err));
  const rawCode = (e as { code?: unknown }).code;
  const code = typeof rawCode === 'string' && isErrorCode(rawCode) ? rawCode : 'INTERNAL';
  const category = categoryOf(e);
  // One line: Docker prints it after "Error response from daemon:".
  const message = e.message.replace(/\s*\n\s*/g, ' ').trim();
  return { Err: `${code}: ${message}`, category };
}

/** Runs one request; never throws (a failure is an answer with `Err`). */
export async function handle(
  backend: VolumeDriverBackend,
  endpoint: Endpoint,
  body: unknown,
): Promise<Handled> {
  try {
    return { answer: await answer(backend, endpoint, body) };
  } catch (err) {
    const f = failure(err);
    return { answer: { Err: f.Err }, category: f.category };
  }
}

async function answer(backend: VolumeDriverBackend, endpoint: Endpoint, body: unknown): Promise<Answer> {
  switch (endpoint) {
    case '/Plugin.Activate':
      return { Implements: ['VolumeDriver'] };
    case '/VolumeDriver.Capabilities':
      // The same volume on every host: Swarm may create it on each node and move tasks.
      return { Capabilities: { Scope: 'global' } };
    case '/VolumeDriver.Create': {
      const req = parseCreate(body);
      await backend.create(req.name, req.spec);
      return { Err: '' };
    }
    case '/VolumeDriver.Remove':
      await backend.remove(parseName(body, 'Remove').name);
      return { Err: '' };
    case '/VolumeDriver.Mount': {
      const req = parseMount(body, 'Mount');
      return { Mountpoint: await backend.mount(req.name, req.id), Err: '' };
    }
    case '/VolumeDriver.Unmount': {
      const req = parseMount(body, 'Unmount');
      await backend.unmount(req.name, req.id);
      return { Err: '' };
    }
    case '/VolumeDriver.Path':
      return { Mountpoint: (await backend.path(parseName(body, 'Path').name)) ?? '', Err: '' };
    case '/VolumeDriver.Get':
      return { Volume: await backend.get(parseName(body, 'Get').name), Err: '' };
    case '/VolumeDriver.List':
      return { Volumes: await backend.list(), Err: '' };
  }
}
