import { resolve } from 'node:path';
import { HostPool, mountTargetOf, type ClusterContext } from './cluster-context.js';
import { openDockerEngine } from './docker/engine.js';
import { exportMountArgv } from './mount-argv.js';
import { NfsvolError, ValidationError } from '../common/errors.js';
import { errorInfo, type ErrorInfo } from '../common/events.js';
import { IncompleteRecordError, RecordExistsError } from '../core/registry/errors.js';
import {
  SCHEMA_VERSION,
  isMountKeyOf,
  validateAddress,
  type HostKey,
  type HostRecord,
} from '../core/records.js';
import { fingerprint, keyTypeOf, knownHostsName } from './ssh/known-hosts.js';
import { knownHostsVerifier } from './ssh/host-key-policy.js';
import { certificatesOf, localVerdict } from './ssh/trust.js';
import type { RemoteHost } from './ssh/remote-host.js';
import { clearPending, settlePending } from './pending.js';
import { reconcileHost, undefineOnHost } from './reconcile.js';
import { type HostSyncResult } from './sync-result.js';
import { nfsMountTargets, unmountVolume } from './mounts.js';
import { validateName } from '../core/names.js';

export interface SshAddress {
  /** Absent: the User from ssh config, else the local user name. */
  readonly user?: string;
  /** A host name, an address, or a `Host` alias of ~/.ssh/config. */
  readonly address: string;
  /** Absent: the Port from ssh config, else 22. */
  readonly port?: number;
}

/** Parses `[USER@]ADDR[:PORT]`; ADDR is a host name or ssh_config alias, an IPv4 address or `[IPv6]`. */
export function parseSshAddress(value: string): SshAddress {
  const m =
    /^(?:([a-zA-Z_][a-zA-Z0-9_.-]{0,31})@)?(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9._-]{0,252}))(?::(\d{1,5}))?$/.exec(
      value,
    );
  if (!m?.[2]) {
    throw new ValidationError(
      'ssh',
      `${JSON.stringify(value.slice(0, 80))} must look like [USER@]ADDRESS[:PORT]`,
    );
  }
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535))
    throw new ValidationError('ssh', `${m[3]} is not a TCP port`);
  return {
    ...(m[1] === undefined ? {} : { user: m[1] }),
    address: m[2].replace(/^\[(.*)\]$/, '$1'),
    ...(port === undefined ? {} : { port }),
  };
}

export { validateAddress };

export interface AddHostOptions {
  readonly name: string;
  /** `[USER@]ADDR[:PORT]`; ADDR may be a Host alias of ~/.ssh/config. */
  readonly ssh: string;
  /**
   * Private key file, tried after the agent. It is not written to the registry: keep it in the
   * local config so later commands use it (the CLI does). @default ssh config, default identities
   */
  readonly identityFile?: string;
  /**
   * known_hosts file to check the key in and pin it to, instead of the user's. Like the identity,
   * keep it in the local config so later commands check the same file (the CLI does).
   */
  readonly knownHosts?: string;
  /** Pin the key the host presents if known_hosts does not list it. @default false */
  readonly acceptNewHostKey?: boolean;
  /** How this host reaches the NFS server. @default the server address of the cluster */
  readonly nfsAddress?: string;
  /**
   * The nfsvol Docker plugin serves this host's Docker: it gets no `local` definitions.
   * @default false
   */
  readonly plugin?: boolean;
  readonly signal?: AbortSignal;
}

export interface AddHostResult {
  readonly host: HostRecord;
  readonly dockerVersion: string;
  /** Every existing volume, defined on the new host. */
  readonly sync: HostSyncResult;
}

/** What `host trust` is asked to vouch for. */
export interface TrustQuestion {
  readonly host: string;
  /** Computed from the record's key. */
  readonly fingerprint: string;
  readonly keyType: string;
  /** The known_hosts name the key would be listed under, e.g. `[10.0.0.11]:2222`. */
  readonly knownHostsName: string;
  /** The file it would be added to. */
  readonly file: string;
}

export interface TrustHostResult extends TrustQuestion {
  /** `listed`: known_hosts already vouched for it; `added`: appended now; `declined`: left as it was. */
  readonly status: 'listed' | 'added' | 'declined';
}

/**
 * Lets this machine vouch for a registered host's key: shows what would be trusted, and on
 * `confirm` appends the key to the user's known_hosts (hashed if HashKnownHosts says so). A key
 * that known_hosts contradicts (another key listed, or revoked) is refused: that is for the user
 * to sort out with ssh-keygen -R, not for a record on the export to override.
 */
export async function trustHost(
  ctx: ClusterContext,
  name: string,
  confirm: (q: TrustQuestion) => Promise<boolean>,
): Promise<TrustHostResult> {
  const host = await ctx.registry.hosts.get(validateName(name, 'host name'));
  const plan = await ctx.hosts.planFor(host);
  const blob = Buffer.from(host.hostKey.key, 'base64');
  const q: TrustQuestion = {
    host: host.name,
    fingerprint: fingerprint(blob),
    keyType: keyTypeOf(blob),
    knownHostsName: knownHostsName(plan.keyHost, plan.keyPort),
    file: plan.knownHosts.path,
  };
  const verdict = await localVerdict(plan, host.hostKey);
  if (verdict.status === 'match') return { ...q, status: 'listed' };
  if (verdict.status === 'revoked') {
    throw new NfsvolError(
      'HOST_KEY_REVOKED',
      `${host.name}: key ${q.fingerprint} is marked @revoked in known_hosts`,
    );
  }
  if (verdict.status === 'mismatch') {
    throw new NfsvolError(
      'HOST_KEY_MISMATCH',
      `${host.name}: known_hosts lists another key for ${q.knownHostsName} (${verdict.expected.join(', ')}), not the registered ${q.fingerprint}; if the host was re-keyed, remove the old one first (ssh-keygen -R '${q.knownHostsName}' -f ${q.file})`,
    );
  }
  if (!(await confirm(q))) return { ...q, status: 'declined' };
  await plan.knownHosts.add(plan.keyHost, plan.keyPort, blob);
  await ctx.hosts.drop(host.name);
  return { ...q, status: 'added' };
}

/**
 * Registers a host: verifies its SSH key against known_hosts (or pins it when asked), checks
 * Docker answers, records the host with its pinned key, then defines every volume on it.
 */
export async function addHost(ctx: ClusterContext, o: AddHostOptions): Promise<AddHostResult> {
  const name = validateName(o.name, 'host name');
  const ssh = parseSshAddress(o.ssh);
  const nfsAddress = o.nfsAddress === undefined ? undefined : validateAddress(o.nfsAddress, 'nfs-address');
  const reg = ctx.registry;
  // An empty record is a `host add` that died between CREATE and WRITE: this add replaces it.
  const incomplete = await reg.hosts.tryGet(name).then(
    (h) => {
      if (h) throw new NfsvolError('HOST_EXISTS', `a host named ${name} is already registered`);
      return false;
    },
    (err: unknown) => {
      if (err instanceof IncompleteRecordError) return true;
      throw err;
    },
  );
  const identityFile = o.identityFile === undefined ? undefined : resolve(o.identityFile);
  const plan = await ctx.hosts.plan(name, ssh, {
    ...(identityFile === undefined ? {} : { identity: identityFile }),
    ...(o.knownHosts === undefined ? {} : { knownHosts: resolve(o.knownHosts) }),
  });
  const acceptNew = o.acceptNewHostKey ?? false;
  let seen: HostKey | undefined;
  const remote = ctx.hosts.adopt(
    name,
    HostPool.targetOf(plan, acceptNew),
    knownHostsVerifier({
      file: plan.knownHosts,
      host: plan.keyHost,
      port: plan.keyPort,
      acceptNew,
      onAccepted: (k) => {
        seen = k;
      },
      certificates: certificatesOf(plan),
    }),
  );
  let dockerVersion: string;
  try {
    const res = await remote.run(['docker', 'version', '--format', '{{.Server.Version}}'], {
      signal: o.signal,
      maxOutputBytes: 4096,
    });
    dockerVersion = res.stdout.trim().split('\n')[0]?.slice(0, 64) ?? '';
    // Output from a host is untrusted and this one is printed: a version, or HOST_BAD_OUTPUT
    // (never raw bytes, which could carry terminal control sequences, on the user's terminal).
    if (!/^[0-9A-Za-z][0-9A-Za-z.+~_-]*$/.test(dockerVersion)) {
      const shown = dockerVersion
        .slice(0, 40)
        .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      throw new NfsvolError('HOST_BAD_OUTPUT', `${name}: docker version printed "${shown}", not a version`);
    }
  } catch (err) {
    await ctx.hosts.drop(name);
    throw err;
  }
  if (!seen) throw new NfsvolError('HOST_KEY_UNKNOWN', `${name}: no host key was verified`);
  const host: HostRecord = {
    schema: SCHEMA_VERSION,
    kind: 'host',
    name,
    addedAt: reg.isoNow(),
    // The address as the user gave it (an alias stays an alias, resolved by each machine's own
    // ssh config); the user and port as resolved here, so every machine logs in the same way.
    ssh: { user: plan.target.user, address: ssh.address, port: plan.target.port ?? 22 },
    ...(nfsAddress === undefined ? {} : { nfsAddress }),
    hostKey: seen,
    ...(o.plugin ? { docker: 'plugin' as const } : {}),
  };
  try {
    if (incomplete) await reg.hosts.replace(name, host);
    else await reg.hosts.create(name, host);
  } catch (err) {
    await ctx.hosts.drop(name);
    if (err instanceof RecordExistsError) {
      throw new NfsvolError('HOST_EXISTS', `a host named ${name} is already registered`, { cause: err });
    }
    throw err;
  }
  ctx.progress({ host: name, message: `registered (key ${seen.fingerprint}, docker ${dockerVersion})` });
  const volumes = await reg.volumes.list();
  const sync = await reconcileHost(ctx, host, volumes, o.signal);
  await settlePending(ctx, name, sync, [{ op: 'sync' }]);
  return { host, dockerVersion, sync };
}

export interface HostCheck {
  readonly check: 'ssh' | 'docker' | 'nfs-kernel' | 'nfs-mount' | 'plugin';
  readonly ok: boolean;
  readonly detail: string;
  readonly error?: ErrorInfo;
}

export interface HostCheckResult {
  readonly host: string;
  readonly ok: boolean;
  readonly checks: readonly HostCheck[];
}

/**
 * Checks a host end to end, each step with a pass/fail line: SSH (with the pinned key), Docker,
 * the kernel's NFS support, and a real test mount of the export from that host.
 */
export async function checkHost(
  ctx: ClusterContext,
  name: string,
  signal?: AbortSignal,
): Promise<HostCheckResult> {
  const host = await ctx.registry.hosts.get(validateName(name, 'host name'));
  const remote = ctx.hosts.get(host);
  const checks: HostCheck[] = [];
  const step = async (check: HostCheck['check'], fn: () => Promise<string>): Promise<boolean> => {
    try {
      const detail = await fn();
      checks.push({ check, ok: true, detail });
      ctx.progress({ host: host.name, message: `${check}: ok (${detail})` });
      return true;
    } catch (err) {
      const error = errorInfo(err);
      checks.push({ check, ok: false, detail: error.message, error });
      ctx.progress({ host: host.name, message: `${check}: FAILED ${error.message}` });
      return false;
    }
  };
  const sshOk = await step('ssh', async () => {
    const r = await remote.run(['uname', '-sr'], { signal, maxOutputBytes: 1024 });
    return `${r.stdout.trim().slice(0, 80)}, key ${fingerprint(Buffer.from(host.hostKey.key, 'base64'))}`;
  });
  if (sshOk) {
    await step('docker', async () => {
      const r = await remote.run(['docker', 'info', '--format', '{{.ServerVersion}}'], {
        signal,
        maxOutputBytes: 4096,
      });
      const version = r.stdout.trim().slice(0, 40);
      // The same choice sync makes, so the line says which path volume work will take.
      let fallback = '';
      const engine = await openDockerEngine(remote, signal, (why) => {
        fallback = why;
      });
      const via =
        engine.via === 'api'
          ? 'via the Engine API over the forwarded socket /var/run/docker.sock'
          : `via the docker CLI (${fallback || 'socket forwarding not available'})`;
      return `server ${version}, ${via}`;
    });
    const fsType = ctx.registry.cluster.nfs.version === '3' ? 'nfs' : 'nfs4';
    const kernelOk = await step('nfs-kernel', async () => {
      const has = async (): Promise<boolean> => {
        const r = await remote.run(['cat', '/proc/filesystems'], { signal, maxOutputBytes: 64 * 1024 });
        return r.stdout.split('\n').some((l) => l.trim().split(/\s+/).pop() === fsType);
      };
      if (await has()) return `${fsType} supported`;
      await remote.run(['modprobe', fsType], { check: false, signal });
      if (await has()) return `${fsType} supported (module loaded)`;
      throw new NfsvolError('HOST_NO_NFS', `the kernel does not support ${fsType}`);
    });
    if (kernelOk) {
      await step('nfs-mount', async () => {
        const target = mountTargetOf(ctx, host);
        await removeLeftoverCheckMounts(remote, signal);
        const dir = (
          await remote.run(['mktemp', '-d', '/tmp/nfsvol-check.XXXXXX'], { signal })
        ).stdout.trim();
        if (!CHECK_DIR.test(dir)) {
          throw new NfsvolError('HOST_BAD_OUTPUT', `mktemp printed ${JSON.stringify(dir.slice(0, 80))}`);
        }
        try {
          await remote.run(exportMountArgv(target, dir), { signal, timeoutMs: 60_000 });
          await remote.run(['umount', dir], { signal });
        } finally {
          await remote.run(['rmdir', dir], { check: false, signal });
        }
        return `mounted ${target.address}:${target.nfs.exportPath}`;
      });
    }
  }
  if (sshOk && host.docker === 'plugin') {
    await step('plugin', async () => {
      // Where dockerd finds a plugin that runs beside it (`nfsvol plugin serve`).
      const r = await remote.run(['test', '-S', PLUGIN_SOCKET], { check: false, signal });
      if (r.exitCode !== 0) {
        throw new NfsvolError(
          'HOST_PLUGIN_MISSING',
          `no plugin socket ${PLUGIN_SOCKET}: start 'nfsvol plugin serve --host ${host.name}' there (docs/plugin.md)`,
        );
      }
      return `socket ${PLUGIN_SOCKET} is there; this host gets no local definitions`;
    });
  }
  const expected = host.docker === 'plugin' ? 5 : 4;
  return { host: host.name, ok: checks.every((c) => c.ok) && checks.length === expected, checks };
}

/** The socket of the nfsvol plugin as dockerd looks for it (`-d nfsvol`). */
const PLUGIN_SOCKET = '/run/docker/plugins/nfsvol.sock';

/** The test mounts `host check` makes, and nothing else. */
const CHECK_DIR = /^\/tmp\/nfsvol-check\.[A-Za-z0-9]+$/;

/**
 * A `host check` killed during its test mount leaves the export mounted under /tmp: the next
 * check unmounts and removes those (only paths of the shape it creates itself).
 */
async function removeLeftoverCheckMounts(remote: RemoteHost, signal: AbortSignal | undefined): Promise<void> {
  // A host whose mount table cannot be read has nothing this check can clean up.
  const targets = await nfsMountTargets(remote, signal).catch(() => []);
  for (const path of targets) {
    if (!CHECK_DIR.test(path)) continue;
    await remote.run(['umount', '--', path], { check: false, ...(signal ? { signal } : {}) });
    await remote.run(['rmdir', '--', path], { check: false, ...(signal ? { signal } : {}) });
  }
}

export interface HostSummary {
  readonly name: string;
  readonly ssh: string;
  readonly nfsAddress: string;
  readonly fingerprint: string;
  readonly addedAt: string;
  /** Pending work the host owes, if any (e.g. `define vol1`, `sync`). */
  readonly pending: readonly string[];
  /** How its Docker gets volumes: `local` definitions over SSH, or the nfsvol plugin. */
  readonly docker: 'local' | 'plugin';
}

export async function listHosts(ctx: ClusterContext): Promise<HostSummary[]> {
  const [hosts, pending] = await Promise.all([ctx.registry.hosts.list(), ctx.registry.pending.list()]);
  return hosts.map((h) => ({
    name: h.name,
    ssh: `${h.ssh.user}@${h.ssh.address.includes(':') ? `[${h.ssh.address}]` : h.ssh.address}:${h.ssh.port}`,
    nfsAddress: h.nfsAddress ?? ctx.registry.cluster.nfs.server,
    // Computed from the key: the record's own fingerprint field is only what someone wrote.
    fingerprint: fingerprint(Buffer.from(h.hostKey.key, 'base64')),
    addedAt: h.addedAt,
    docker: h.docker ?? 'local',
    pending: (pending.find((p) => p.host === h.name)?.operations ?? []).map((op) =>
      op.volume ? `${op.op} ${op.volume}` : op.op,
    ),
  }));
}

/** Unregisters a host (its Docker definitions stay; its pending work and mount records go). */
export interface RemoveHostOptions {
  /**
   * First take nfsvol off the host: unmount the host mounts `volume mount` made and remove this
   * cluster's Docker volume definitions. If any of that fails (host unreachable, a volume in use
   * by a container), the host stays registered and the error says what is left. @default false
   */
  readonly purge?: boolean;
  readonly signal?: AbortSignal;
}

export interface RemoveHostResult {
  readonly host: HostRecord;
  /** With purge: the definitions removed from the host, and the host mounts unmounted. */
  readonly purged?: { readonly definitions: readonly string[]; readonly unmounted: readonly string[] };
}

/**
 * Records how a host's Docker gets volumes. `plugin`: the nfsvol plugin serves them, so `sync`
 * gives the host no `local` definitions and removes those it has; `local`: definitions over SSH.
 */
export async function setHostDocker(
  ctx: ClusterContext,
  name: string,
  docker: 'local' | 'plugin',
): Promise<{ readonly host: HostRecord; readonly changed: boolean }> {
  const reg = ctx.registry;
  const hostName = validateName(name, 'host name');
  return reg.withLock(`host-${hostName}`, async (lease) => {
    const cur = await reg.hosts.get(hostName);
    if ((cur.docker ?? 'local') === docker) return { host: cur, changed: false };
    const { docker: _old, ...rest } = cur;
    const next: HostRecord = docker === 'plugin' ? { ...rest, docker } : rest;
    lease.assertHeld();
    await reg.hosts.replace(hostName, next);
    return { host: next, changed: true };
  });
}

/** Unregisters a host; its Docker definitions stay unless `purge`. */
export async function removeHost(
  ctx: ClusterContext,
  name: string,
  options: RemoveHostOptions = {},
): Promise<RemoveHostResult> {
  const reg = ctx.registry;
  const host = await reg.hosts.get(validateName(name, 'host name'));
  const mountKeys = (await reg.mounts.keys()).filter((k) => isMountKeyOf(k, { host: host.name }));
  const purged = options.purge ? await purgeHost(ctx, host, mountKeys, options.signal) : undefined;
  await ctx.hosts.drop(host.name);
  for (const k of mountKeys) await reg.mounts.remove(k);
  await clearPending(ctx, host.name);
  await reg.hosts.remove(host.name);
  return purged ? { host, purged } : { host };
}

async function purgeHost(
  ctx: ClusterContext,
  host: HostRecord,
  mountKeys: readonly string[],
  signal: AbortSignal | undefined,
): Promise<NonNullable<RemoveHostResult['purged']>> {
  const unmounted: string[] = [];
  for (const key of mountKeys) {
    const volume = key.slice(0, key.lastIndexOf('@'));
    await unmountVolume(ctx, { volume, host: host.name, ...(signal ? { signal } : {}) });
    unmounted.push(volume);
  }
  const res = await undefineOnHost(ctx, host, 'all', signal);
  if (!res.ok) {
    const why = res.error
      ? `${res.error.message} (${res.error.code})`
      : res.failed.map((f) => `${f.volume}: ${f.error.message}`).join('; ');
    throw new NfsvolError(
      'HOST_PURGE_INCOMPLETE',
      `${host.name} is still registered: could not remove all of its nfsvol volumes (${why}); removed ${res.removed.length} of ${res.removed.length + res.failed.length}`,
    );
  }
  return { definitions: res.removed, unmounted };
}
