// Real Docker hosts for a user's tests: the lab's qemu microVMs (a real kernel NFS client, sshd
// and dockerd), with the few verbs a failover test needs. The VMs belong to the lab session of
// this process, so they die with it however it ends (see deploy/lab/session.ts).
import { readFile } from 'node:fs/promises';
import { LabError, startHosts, type ExecOptions, type ExecResult, type LabHost } from '../lab/index.js';

export interface StartDockerHostsOptions {
  /**
   * `docker save` tarballs loaded into every host's dockerd before startDockerHosts resolves: the
   * hosts reach no registry, so a test's own images come in this way. `busybox:latest` is already
   * there. @default none
   */
  readonly images?: readonly string[];
  /** Guest memory per host. @default 1024 */
  readonly memoryMiB?: number;
  /** How long one boot (to sshd and dockerd answering) may take. @default 180000 */
  readonly bootTimeoutMs?: number;
  /** Host names are `${namePrefix}${n}`, numbered within this process. @default 'lab' */
  readonly namePrefix?: string;
  /** Image build and boot progress lines. @default build progress to stderr, no boot lines */
  readonly onProgress?: (line: string) => void;
}

/** How to reach a host over SSH: what `nfsvol host add` or an OpenSSH client needs. */
export interface DockerHostSsh {
  /** '127.0.0.1': sshd is forwarded to this machine's loopback. */
  readonly host: string;
  readonly port: number;
  /** 'root'. */
  readonly user: string;
  /** `root@127.0.0.1:PORT`, the form `nfsvol host add --ssh` takes. */
  readonly target: string;
  /** The client key authorized on the host (ed25519, OpenSSH format), as a file and as text. */
  readonly identityFile: string;
  readonly identity: string;
  /** The host's sshd key, `ssh-ed25519 AAAA...`, known before it booted. */
  readonly hostKey: string;
  /** `[127.0.0.1]:PORT ssh-ed25519 AAAA...`: a known_hosts line for it. */
  readonly knownHostsLine: string;
}

/** One Docker host. Hold it (or the list startDockerHosts returns) with `await using`. */
export class DockerHost implements AsyncDisposable {
  constructor(
    /** The lab's own handle, for what this class does not wrap (consoleLog, regenerateHostKey). */
    readonly lab: LabHost,
  ) {}

  get name(): string {
    return this.lab.name;
  }

  /** The address at which this host reaches an NfsServerContainer: '10.0.2.2'. */
  get nfsAddress(): string {
    return this.lab.nfsAddress;
  }

  /** True while the VM runs (false after powerOff). */
  get running(): boolean {
    return this.lab.running;
  }

  get ssh(): DockerHostSsh {
    const h = this.lab;
    return {
      host: h.sshHost,
      port: h.sshPort,
      user: h.user,
      target: `${h.user}@${h.sshHost}:${h.sshPort}`,
      identityFile: h.privateKeyPath,
      identity: h.privateKey,
      hostKey: h.hostPublicKey,
      knownHostsLine: h.knownHostsLine,
    };
  }

  /** Runs argv on the host (every word quoted for the remote shell). A non-zero exit is a result, not an error. */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return this.lab.exec(argv, options);
  }

  /** Like exec, but rejects with LabError('SSH_ERROR') when the command exits non-zero. */
  check(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return this.lab.check(argv, options);
  }

  /** `docker ARGV...` on the host. */
  docker(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return this.lab.exec(['docker', ...argv], options);
  }

  /** Loads `docker save` tarballs into the host's dockerd, and syncs so a power cut keeps them. */
  async loadImages(tarballs: readonly string[]): Promise<void> {
    for (const tarball of tarballs) {
      const input = await readFile(tarball);
      await this.lab.check(['docker', 'load', '--quiet'], { input, timeoutMs: 300_000 });
    }
    if (tarballs.length > 0) await this.lab.check(['sync']);
  }

  /** A power cut: qemu is killed; what the guest had not written out is lost. */
  powerOff(): Promise<void> {
    return this.lab.powerOff();
  }

  /** Boots again on the same disk and ports; resolves when sshd and dockerd answer. */
  powerOn(): Promise<void> {
    return this.lab.powerOn();
  }

  /** Takes the host's only network link down: NFS, SSH and everything else stop reaching it. */
  cutLink(): Promise<void> {
    return this.lab.setLink(false);
  }

  restoreLink(): Promise<void> {
    return this.lab.setLink(true);
  }

  /** Powers off for good. Idempotent. */
  stop(): Promise<void> {
    return this.lab.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** The hosts startDockerHosts booted; disposing the list stops them all. */
export type DockerHosts = DockerHost[] & AsyncDisposable;

/** Stops every host; the first failure is thrown after all were tried. */
export async function stopAll(hosts: readonly DockerHost[]): Promise<void> {
  const results = await Promise.allSettled(hosts.map((h) => h.stop()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/**
 * Boots n Docker hosts in parallel (building the VM image first if the cache has none) and loads
 * `options.images` into each. qemu uses KVM where /dev/kvm opens, else TCG (software emulation).
 */
export async function startDockerHosts(
  n: number,
  options: StartDockerHostsOptions = {},
): Promise<DockerHosts> {
  for (const image of options.images ?? []) {
    if (typeof image !== 'string' || image === '') {
      throw new LabError('INVALID_OPTION', 'startDockerHosts: images must be paths of docker save tarballs');
    }
  }
  const labHosts = await startHosts(n, {
    ...(options.memoryMiB === undefined ? {} : { memoryMiB: options.memoryMiB }),
    ...(options.bootTimeoutMs === undefined ? {} : { bootTimeoutMs: options.bootTimeoutMs }),
    ...(options.namePrefix === undefined ? {} : { namePrefix: options.namePrefix }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  });
  const hosts = labHosts.map((h) => new DockerHost(h));
  try {
    await Promise.all(hosts.map((h) => h.loadImages(options.images ?? [])));
  } catch (error) {
    await stopAll(hosts).catch(() => undefined);
    throw error;
  }
  return Object.assign(hosts, { [Symbol.asyncDispose]: () => stopAll(hosts) });
}
