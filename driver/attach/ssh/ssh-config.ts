import { readdir, readFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import SSHConfig from 'ssh-config';
import { NfsvolError } from '../../common/errors.js';

/**
 * The local side of SSH: where this machine's OpenSSH settings live. Every path has OpenSSH's
 * default; tests point them at a scratch directory so the runner's own files never leak in.
 */
export interface SshLocalOptions {
  /** @default os.homedir() */
  readonly home?: string;
  /** `null` reads none. @default ~/.ssh/config */
  readonly userConfig?: string | null;
  /** `null` reads none. @default /etc/ssh/ssh_config */
  readonly systemConfig?: string | null;
  /**
   * The user's known_hosts file: read, and where new keys are added. Replaces
   * UserKnownHostsFile. @default UserKnownHostsFile, else ~/.ssh/known_hosts and known_hosts2
   */
  readonly knownHosts?: string;
  /** Read-only known_hosts files. @default GlobalKnownHostsFile, else /etc/ssh/ssh_known_hosts{,2} */
  readonly systemKnownHosts?: readonly string[];
  /** ssh-agent socket; `null` uses no agent. @default IdentityAgent, else $SSH_AUTH_SOCK */
  readonly agent?: string | null;
  /** User to log in as when neither the address nor the config names one. @default the local user */
  readonly localUser?: string;
  /**
   * Per registered host name, from the local nfsvol config: the private key file
   * (`host add --identity`) and the known_hosts file (`host add --known-hosts`).
   */
  readonly hosts?: Readonly<Record<string, { readonly identity?: string; readonly knownHosts?: string }>>;
}

/** What ~/.ssh/config and /etc/ssh/ssh_config say for one host alias (first value wins). */
export interface HostSettings {
  /** The name or address to connect to (`HostName`, else the alias). */
  readonly hostname: string;
  readonly port?: number;
  readonly user?: string;
  /** `IdentityFile` values, paths expanded, in order. */
  readonly identityFiles: readonly string[];
  readonly identitiesOnly: boolean;
  /** `IdentityAgent`: a socket path, or `none`. */
  readonly identityAgent?: string;
  /** `ProxyJump`, unless `none`. */
  readonly proxyJump?: string;
  readonly proxyCommand?: string;
  /** `HostKeyAlias`: the name looked up in known_hosts instead of the host name. */
  readonly hostKeyAlias?: string;
  readonly hashKnownHosts: boolean;
  readonly userKnownHostsFiles?: readonly string[];
  readonly globalKnownHostsFiles?: readonly string[];
}

const DEFAULT_SYSTEM_CONFIG = '/etc/ssh/ssh_config';
export const DEFAULT_SYSTEM_KNOWN_HOSTS: readonly string[] = [
  '/etc/ssh/ssh_known_hosts',
  '/etc/ssh/ssh_known_hosts2',
];
const MAX_CONFIG_BYTES = 1024 * 1024;
const MAX_INCLUDE_DEPTH = 16;

export class SshConfigError extends NfsvolError {
  constructor(file: string, message: string, cause?: unknown) {
    super('SSH_CONFIG_INVALID', `${file}: ${message}`, cause === undefined ? {} : { cause });
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    const text = await readFile(file, 'utf8');
    if (text.length > MAX_CONFIG_BYTES) throw new SshConfigError(file, 'larger than 1 MiB');
    return text;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (err instanceof SshConfigError) throw err;
    throw new SshConfigError(file, 'cannot be read', err);
  }
}

/** `*` and `?` in the last path component, as `Include` allows. */
async function expandGlob(pattern: string): Promise<string[]> {
  const name = basename(pattern);
  if (!/[*?]/.test(name)) return [pattern];
  const dir = dirname(pattern);
  const re = new RegExp(
    `^${name
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => re.test(n) && !n.startsWith('.'))
    .sort()
    .map((n) => join(dir, n));
}

/**
 * Reads a config file with its `Include`s spliced in where they stand (relative paths from
 * `base`, as OpenSSH resolves them). An Include inside a Host block then applies under that
 * block; a Host line inside an included file goes on past the file's end, where OpenSSH would
 * stop it: a difference only for included files that end inside a Host block.
 */
async function readWithIncludes(file: string, base: string, home: string, depth = 0): Promise<string> {
  if (depth > MAX_INCLUDE_DEPTH) throw new SshConfigError(file, 'Include nested too deeply');
  const text = await readOptional(file);
  if (text === undefined) return '';
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*include(?:\s*=\s*|\s+)(.+?)\s*$/i.exec(line);
    if (!m?.[1]) {
      out.push(line);
      continue;
    }
    for (const raw of m[1].split(/\s+/)) {
      const p = raw.replace(/^"(.*)"$/, '$1').replace(/^~(?=\/|$)/, home);
      for (const f of await expandGlob(isAbsolute(p) ? p : join(base, p))) {
        out.push(await readWithIncludes(f, base, home, depth + 1));
      }
    }
  }
  return out.join('\n');
}

type Computed = Record<string, string | string[]>;

function first(c: Computed, key: string): string | undefined {
  const v = c[key];
  return Array.isArray(v) ? v[0] : v;
}

function all(c: Computed, key: string): string[] {
  const v = c[key];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The user's and the system's ssh_config, parsed once, asked about any number of hosts. */
export class SshConfigView {
  private constructor(
    private readonly configs: readonly { readonly file: string; readonly config: SSHConfig }[],
    readonly home: string,
    readonly localUser: string,
  ) {}

  static async load(local: SshLocalOptions = {}): Promise<SshConfigView> {
    const home = local.home ?? homedir();
    const files: { file: string; base: string }[] = [];
    const user = local.userConfig === undefined ? join(home, '.ssh', 'config') : local.userConfig;
    if (user !== null) files.push({ file: user, base: join(home, '.ssh') });
    const system = local.systemConfig === undefined ? DEFAULT_SYSTEM_CONFIG : local.systemConfig;
    if (system !== null) files.push({ file: system, base: dirname(system) });
    const configs = await Promise.all(
      files.map(async ({ file, base }) => {
        const text = await readWithIncludes(file, base, home);
        try {
          return { file, config: SSHConfig.parse(text) };
        } catch (err) {
          throw new SshConfigError(file, 'cannot be parsed', err);
        }
      }),
    );
    return new SshConfigView(configs, home, local.localUser ?? safeUserName());
  }

  /** OpenSSH's answer for `ssh ALIAS`: the user's file first, then the system's; the first value wins. */
  resolve(alias: string): HostSettings {
    // Host patterns are matched against the lower-cased name, as ssh does.
    const host = alias.toLowerCase();
    const computed = this.configs.map(({ file, config }) => {
      try {
        // `Match exec` would run a shell command: nfsvol runs none, so such blocks do not match.
        return config.compute(host, { ignoreCase: true, matchExec: false });
      } catch (err) {
        throw new SshConfigError(file, `cannot be applied to ${alias}`, err);
      }
    });
    const get = (key: string): string | undefined => {
      for (const c of computed) {
        const v = first(c, key);
        if (v !== undefined) return v;
      }
      return undefined;
    };
    const hostname = get('hostname') ?? alias;
    const portText = get('port');
    let port: number | undefined;
    if (portText !== undefined) {
      port = Number(portText);
      if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) {
        throw new SshConfigError(
          'ssh config',
          `Port ${JSON.stringify(portText)} for ${alias} is not a TCP port`,
        );
      }
    }
    const user = get('user');
    const tokens = { alias, hostname, user, port: port ?? 22 };
    const expand = (p: string): string => this.expandPath(p, tokens);
    const identityFiles = computed.flatMap((c) => all(c, 'identityfile')).map(expand);
    const proxyJump = get('proxyjump');
    const proxyCommand = get('proxycommand');
    const identityAgent = get('identityagent');
    const hostKeyAlias = get('hostkeyalias');
    const userKh = computed.map((c) => all(c, 'userknownhostsfile')).find((v) => v.length > 0);
    const globalKh = computed.map((c) => all(c, 'globalknownhostsfile')).find((v) => v.length > 0);
    return {
      hostname: hostname.replace(/%h/g, alias).replace(/%%/g, '%'),
      ...(port === undefined ? {} : { port }),
      ...(user === undefined ? {} : { user }),
      identityFiles,
      identitiesOnly: get('identitiesonly')?.toLowerCase() === 'yes',
      ...(identityAgent === undefined
        ? {}
        : { identityAgent: identityAgent.toLowerCase() === 'none' ? 'none' : expand(identityAgent) }),
      ...(proxyJump === undefined || proxyJump.toLowerCase() === 'none' ? {} : { proxyJump }),
      ...(proxyCommand === undefined || proxyCommand.toLowerCase() === 'none' ? {} : { proxyCommand }),
      ...(hostKeyAlias === undefined ? {} : { hostKeyAlias }),
      hashKnownHosts: get('hashknownhosts')?.toLowerCase() === 'yes',
      ...(userKh === undefined || userKh[0]?.toLowerCase() === 'none'
        ? {}
        : { userKnownHostsFiles: userKh.map(expand) }),
      ...(globalKh === undefined || globalKh[0]?.toLowerCase() === 'none'
        ? {}
        : { globalKnownHostsFiles: globalKh.map(expand) }),
    };
  }

  /** `~` and the `%` tokens ssh_config paths may use (TOKENS in ssh_config(5)). */
  private expandPath(
    path: string,
    t: {
      readonly alias: string;
      readonly hostname: string;
      readonly user?: string | undefined;
      readonly port: number;
    },
  ): string {
    const unquoted = path.replace(/^"(.*)"$/, '$1');
    const withHome = unquoted.replace(/^~(?=\/|$)/, this.home);
    return withHome.replace(/%(.)/g, (all, c: string) => {
      switch (c) {
        case '%':
          return '%';
        case 'd':
          return this.home;
        case 'u':
          return this.localUser;
        case 'h':
          return t.hostname;
        case 'n':
          return t.alias;
        case 'p':
          return String(t.port);
        case 'r':
          return t.user ?? this.localUser;
        default:
          throw new SshConfigError('ssh config', `unsupported token ${all} in ${JSON.stringify(path)}`);
      }
    });
  }
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'root';
  }
}
