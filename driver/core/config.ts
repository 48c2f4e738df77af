import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { NfsvolError } from '../common/errors.js';
import { readJsonObject } from './json-fields.js';
import { CorruptRecordError, NewerSchemaError } from './registry/errors.js';

export const CONFIG_SCHEMA_VERSION = 1;

/** The local config: which export holds this machine's cluster, and local SSH defaults. */
export interface LocalConfig {
  readonly schema: number;
  /** `nfs://SERVER[:PORT]/EXPORT[?...]`, as given to init. */
  readonly url: string;
  readonly clusterId: string;
  /** The user's known_hosts file: where host keys are vouched for and added. @default ssh's */
  readonly knownHosts?: string;
  /**
   * Per host name, what `host add` was told about logging in from this machine. Kept here, never
   * in the registry on the export: which key logs in and which known_hosts vouches for a host
   * are not for a shared file to choose.
   */
  readonly hosts?: Readonly<Record<string, LocalHostSettings>>;
}

export interface LocalHostSettings {
  /** Private key file (`host add --identity`). */
  readonly identity?: string;
  /** known_hosts file the host's key was checked in (`host add --known-hosts`). */
  readonly knownHosts?: string;
}

export class ConfigNotFoundError extends NfsvolError {
  readonly file: string;
  constructor(file: string) {
    super(
      'NOT_INITIALIZED',
      `no config at ${file}; run 'nfsvol init nfs://SERVER/EXPORT' first (or pass --config)`,
    );
    this.file = file;
  }
}

export interface ConfigPathOptions {
  /** `--config` flag. */
  readonly flag?: string;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default os.homedir() */
  readonly home?: string;
}

/** `--config`, else $NFSVOL_CONFIG, else $XDG_CONFIG_HOME/nfsvol/config.json, else ~/.config/nfsvol/config.json. */
export function resolveConfigPath(options: ConfigPathOptions = {}): string {
  const env = options.env ?? process.env;
  if (options.flag) return resolve(options.flag);
  const fromEnv = env['NFSVOL_CONFIG'];
  if (fromEnv) return resolve(fromEnv);
  const xdg = env['XDG_CONFIG_HOME'];
  return join(xdg ? resolve(xdg) : join(options.home ?? homedir(), '.config'), 'nfsvol', 'config.json');
}

/** A config file is a few hundred bytes; a bigger file is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** The same reader and rules as the registry's records: a config file is untrusted input too. */
function parseConfig(file: string, text: string): LocalConfig {
  const f = readJsonObject(file, text, MAX_CONFIG_BYTES);
  const schema = f.int('schema');
  if (schema < 1) throw new CorruptRecordError(file, "field 'schema' must be a positive integer");
  if (schema > CONFIG_SCHEMA_VERSION) throw new NewerSchemaError(file, schema, CONFIG_SCHEMA_VERSION);
  const url = f.str('url');
  if (!url.startsWith('nfs://')) throw new CorruptRecordError(file, "field 'url' must be an nfs:// URL");
  const clusterId = f.str('clusterId');
  const knownHosts = f.optStr('knownHosts');
  let hosts: Record<string, LocalHostSettings> | undefined;
  if (f.obj['hosts'] !== undefined) {
    const all = f.sub('hosts');
    hosts = {};
    for (const name of Object.keys(all.obj)) {
      const h = all.sub(name);
      const settings: { identity?: string; knownHosts?: string } = {};
      for (const key of ['identity', 'knownHosts'] as const) {
        const path = h.optStr(key);
        if (path === undefined) continue;
        if (!isAbsolute(path)) {
          throw new CorruptRecordError(file, `hosts.${name}.${key} must be an absolute path`);
        }
        settings[key] = path;
      }
      hosts[name] = settings;
    }
  }
  return {
    schema,
    url,
    clusterId,
    ...(knownHosts === undefined ? {} : { knownHosts }),
    ...(hosts === undefined ? {} : { hosts }),
  };
}

/** Reads the config; NOT_INITIALIZED if absent, REGISTRY_CORRUPT / REGISTRY_SCHEMA_NEWER naming the file otherwise. */
export async function loadConfig(file: string): Promise<LocalConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigNotFoundError(file);
    throw new NfsvolError('CONFIG_UNREADABLE', `cannot read config ${file}`, { cause: err });
  }
  return parseConfig(file, text);
}

/**
 * Writes the config atomically (temporary file + rename). An existing file that is corrupt or
 * from a newer nfsvol is refused, never overwritten.
 */
export async function saveConfig(file: string, config: LocalConfig): Promise<void> {
  try {
    await loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigNotFoundError)) throw err;
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
