import { join } from 'node:path';
import { NfsvolError } from '../../common/errors.js';
import { KnownHostsStore } from './known-hosts.js';
import { DEFAULT_SYSTEM_KNOWN_HOSTS, type SshConfigView, type SshLocalOptions } from './ssh-config.js';
import type { SshTarget } from './ssh-host.js';

/** Where a host is, as a user names it: an ssh_config alias or an address, maybe a user and port. */
export interface SshEndpoint {
  readonly user?: string | undefined;
  readonly address: string;
  readonly port?: number | undefined;
}

/** How this machine reaches one host, with its own ssh settings applied. */
export interface SshPlan {
  /** The connection to open (without `jump`: the caller picks how the bastion is verified). */
  readonly target: SshTarget;
  /** The name and port the host's key is looked up under in known_hosts. */
  readonly keyHost: string;
  readonly keyPort: number;
  readonly knownHosts: KnownHostsStore;
  /** The bastion (ProxyJump) the host is reached through. */
  readonly jump?: SshPlan;
}

export interface PlanOptions {
  /** A private key file that must be used (`--identity`). */
  readonly identity?: string | undefined;
  /** The known_hosts file to check and add to, instead of the user's. */
  readonly knownHosts?: string | undefined;
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export class SshConfigUnsupportedError extends NfsvolError {
  constructor(host: string, message: string) {
    super('SSH_CONFIG_UNSUPPORTED', `${host}: ${message}`);
  }
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`, as ProxyJump takes it. */
function parseJump(name: string, value: string): SshEndpoint {
  const m = /^(?:ssh:\/\/)?(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m?.[2]) throw new SshConfigUnsupportedError(name, `cannot read ProxyJump ${JSON.stringify(value)}`);
  return {
    ...(m[1] === undefined ? {} : { user: m[1] }),
    address: m[2].replace(/^\[(.*)\]$/, '$1'),
    ...(m[3] === undefined ? {} : { port: Number(m[3]) }),
  };
}

/**
 * Applies this machine's ssh settings to an endpoint, as `ssh ENDPOINT` would: HostName, Port,
 * User, IdentityFile (else the default identities), IdentityAgent, ProxyJump through one bastion,
 * HostKeyAlias, and the known_hosts files (HashKnownHosts decides how new keys are written).
 * What the endpoint says itself (a user, a port) wins over the config.
 */
export function planSsh(
  view: SshConfigView,
  local: SshLocalOptions,
  name: string,
  endpoint: SshEndpoint,
  options: PlanOptions = {},
  depth = 0,
): SshPlan {
  const s = view.resolve(endpoint.address);
  if (s.proxyCommand !== undefined) {
    throw new SshConfigUnsupportedError(
      name,
      `ssh config sets ProxyCommand for ${endpoint.address}; nfsvol runs no local commands: use ProxyJump`,
    );
  }
  const port = endpoint.port ?? s.port ?? 22;
  const user = endpoint.user ?? s.user ?? view.localUser;
  const ssh = join(view.home, '.ssh');
  const optional =
    s.identityFiles.length > 0 || options.identity !== undefined
      ? s.identityFiles
      : DEFAULT_IDENTITIES.map((f) => join(ssh, f));
  const agent =
    local.agent === null || s.identityAgent === 'none'
      ? null
      : (s.identityAgent ?? local.agent ?? process.env['SSH_AUTH_SOCK'] ?? null);
  const userFiles = s.userKnownHostsFiles ?? [join(ssh, 'known_hosts'), join(ssh, 'known_hosts2')];
  const chosen = options.knownHosts ?? local.knownHosts;
  const knownHosts = new KnownHostsStore(
    chosen ?? userFiles[0] ?? join(ssh, 'known_hosts'),
    chosen === undefined ? userFiles.slice(1) : [],
    local.systemKnownHosts ?? s.globalKnownHostsFiles ?? DEFAULT_SYSTEM_KNOWN_HOSTS,
    { hash: s.hashKnownHosts },
  );
  let jump: SshPlan | undefined;
  if (s.proxyJump !== undefined) {
    if (depth > 0) {
      throw new SshConfigUnsupportedError(
        name,
        `the bastion ${endpoint.address} has a ProxyJump of its own: nfsvol goes through one bastion`,
      );
    }
    if (s.proxyJump.includes(',')) {
      throw new SshConfigUnsupportedError(
        name,
        `ProxyJump ${s.proxyJump} names several bastions: nfsvol goes through one`,
      );
    }
    jump = planSsh(
      view,
      local,
      `${name} (bastion ${s.proxyJump})`,
      parseJump(name, s.proxyJump),
      {},
      depth + 1,
    );
  }
  return {
    target: {
      name,
      host: s.hostname,
      port,
      user,
      ...(options.identity === undefined ? {} : { identityFiles: [options.identity] }),
      optionalIdentityFiles: optional,
      agent,
    },
    // With HostKeyAlias ssh looks the alias up as it is, without the port.
    keyHost: s.hostKeyAlias ?? s.hostname,
    keyPort: s.hostKeyAlias === undefined ? port : 22,
    knownHosts,
    ...(jump === undefined ? {} : { jump }),
  };
}
