// The lab's Docker hosts: qemu microVMs (KVM where /dev/kvm opens, else TCG) booting Debian's cloud
// kernel with a kernel NFS client, sshd and dockerd, built by deploy/lab/build.sh. The pieces are
// in vm/: the image and each VM's disks, keys, qemu's command line and process, the boot wait,
// SSH, QMP and the faults; this file puts them together as a LabHost.
//
// Each VM has its own qcow2 overlay over the shared base disk and a tiny read-only config disk
// with its hostname, its sshd host key and the client's authorized key. The host key is
// generated here before boot, so it is known in advance and checked on every SSH connection
// (nothing here disables host-key checking).
//
// Networking is qemu user mode: sshd is forwarded to 127.0.0.1:<sshPort>, and the VM reaches this
// machine's loopback as 10.0.2.2 (where the NFS server's published ports are). The VM has no
// default route, no nameserver and no IPv6, so it can reach nothing else.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { LabSession } from './session.js';
import { buildImages, freePort, pollUntil } from './util.js';
import { waitForBoot } from './vm/boot.js';
import { configDir, hostKeyPath, writeConfigDisk } from './vm/config-disk.js';
import { replaceHostKey, setLinkState } from './vm/faults.js';
import { createOverlay, currentVmImage, type VmImage } from './vm/image.js';
import { newKeyPair, readPublicKey, sessionClientKey } from './vm/keys.js';
import { labAccel, qemuArgv } from './vm/qemu-argv.js';
import { QemuProcess } from './vm/qemu-process.js';
import { qmpSocketName } from './vm/qmp.js';
import { LabSsh, type ExecOptions, type ExecResult } from './vm/ssh.js';

export interface LabHost extends AsyncDisposable {
  readonly name: string;
  readonly sshHost: '127.0.0.1';
  readonly sshPort: number;
  readonly user: 'root';
  /** The generated client key (ed25519, OpenSSH format), authorized for root on every lab host. */
  readonly privateKeyPath: string;
  readonly privateKey: string;
  /** The VM's sshd host key, "ssh-ed25519 AAAA...", known before it boots. */
  readonly hostPublicKey: string;
  /** A known_hosts line for it: "[127.0.0.1]:<sshPort> ssh-ed25519 AAAA...". */
  readonly knownHostsLine: string;
  /** The address by which this host reaches the lab NFS server: '10.0.2.2'. */
  readonly nfsAddress: string;
  /** True while the VM's qemu process runs. */
  readonly running: boolean;
  /** How long the last boot took, from starting qemu to sshd + dockerd ready (ms). */
  readonly lastBootMs: number;
  /** Runs argv on the host over SSH (each word shell-quoted for the remote shell). A non-zero exit is a result; failing to run it is a LabError('SSH_ERROR'). */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Like exec, but rejects with LabError('SSH_ERROR') when the exit code is not 0. */
  check(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Hard power off: SIGKILL to qemu (unwritten guest caches are lost, as on a real power cut). */
  powerOff(): Promise<void>;
  /** Boots again on the same overlay and ports; resolves when sshd and dockerd answer. */
  powerOn(): Promise<void>;
  /** qemu monitor `set_link n0 on|off`: cuts or restores the host's only network link. */
  setLink(up: boolean): Promise<void>;
  /**
   * Gives the host a new sshd host key: written to its config disk (used at every boot) and, when
   * it runs, installed live (sshd re-reads it on SIGHUP). hostPublicKey/knownHostsLine change;
   * a client that pinned the old key must now refuse the host.
   */
  regenerateHostKey(): Promise<void>;
  /** The VM's serial console output so far (boot messages, init's "nfsvol-lab:" lines). */
  consoleLog(): Promise<string>;
  /** Closes the SSH connection exec uses (the next exec opens a new one). */
  disconnect(): void;
  /** Powers off for good. Idempotent. */
  stop(): Promise<void>;
}

export interface StartHostsOptions {
  /** Host names are `${namePrefix}${n}`, numbered within the session. @default 'lab' */
  readonly namePrefix?: string;
  /** Guest memory. @default 1024 */
  readonly memoryMiB?: number;
  /** Fixed SSH ports on 127.0.0.1, one per host. @default free ports */
  readonly sshPorts?: readonly number[];
  /** How long one boot (to sshd + dockerd ready) may take. @default 180000 */
  readonly bootTimeoutMs?: number;
  /** Image build progress (@default stderr) and, when given, each host's boot progress. */
  readonly onProgress?: (line: string) => void;
  /** @internal Session to own the VMs; lab:up passes its persistent one. */
  readonly session?: LabSession;
}

class LabVm implements LabHost {
  readonly sshHost = '127.0.0.1' as const;
  readonly user = 'root' as const;
  readonly nfsAddress = '10.0.2.2';
  readonly privateKey: string;
  lastBootMs = 0;
  private hostKey: string;
  private qemu: QemuProcess | undefined;
  private stopped = false;
  private readonly ssh: LabSsh;

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly sshPort: number,
    readonly privateKeyPath: string,
    private readonly image: VmImage,
    private readonly session: LabSession,
    private readonly memoryMiB: number,
    private readonly bootTimeoutMs: number,
  ) {
    this.privateKey = readFileSync(privateKeyPath, 'utf8');
    this.hostKey = readPublicKey(hostKeyPath(dir));
    this.ssh = new LabSsh({
      name,
      host: this.sshHost,
      port: sshPort,
      user: this.user,
      privateKey: this.privateKey,
      hostKey: () => this.hostKey,
    });
  }

  private get qmpSocket(): string {
    return qmpSocketName(this.session.id, this.name);
  }

  get hostPublicKey(): string {
    return this.hostKey;
  }
  get knownHostsLine(): string {
    return `[${this.sshHost}]:${this.sshPort} ${this.hostKey}`;
  }
  get running(): boolean {
    return this.qemu !== undefined && this.qemu.exitInfo === undefined;
  }

  writeConfigDisk(): Promise<void> {
    return writeConfigDisk(this.dir, this.name, this.privateKeyPath);
  }

  async powerOn(): Promise<void> {
    if (this.stopped) throw new LabError('STOPPED', `${this.name} was stopped`);
    if (this.running) return;
    const argv = qemuArgv({
      name: this.name,
      dir: this.dir,
      image: this.image,
      memoryMiB: this.memoryMiB,
      sshPort: this.sshPort,
      qmpSocket: this.qmpSocket,
      accel: labAccel(),
    });
    const qemu = QemuProcess.start(argv, this.dir, this.session);
    this.qemu = qemu;
    // A connection to a VM that is gone would hang, not fail.
    void qemu.exited.then(() => this.ssh.drop('qemu exited'));
    const started = Date.now();
    await waitForBoot(
      {
        name: this.name,
        dir: this.dir,
        exec: (argv, opts) => this.exec(argv, opts),
        exitInfo: () => qemu.exitInfo,
      },
      this.bootTimeoutMs,
    );
    this.lastBootMs = Date.now() - started;
  }

  disconnect(): void {
    this.ssh.drop();
  }

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.ssh.exec(argv, opts);
  }

  async check(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.exec(argv, opts);
    if (result.code !== 0) {
      throw new LabError(
        'SSH_ERROR',
        `${this.name}: ${argv.join(' ')} exited with ${result.code}: ${result.stderr.trim().slice(-500)}`,
      );
    }
    return result;
  }

  async powerOff(): Promise<void> {
    this.ssh.drop('powered off');
    await this.qemu?.kill();
  }

  async setLink(up: boolean): Promise<void> {
    if (!this.running) throw new LabError('STOPPED', `${this.name} is powered off`);
    await setLinkState(this.qmpSocket, up);
    // A cut link leaves the SSH connection hanging: start a new one next time.
    if (!up) this.ssh.drop('link cut');
  }

  async regenerateHostKey(): Promise<void> {
    const path = hostKeyPath(this.dir);
    await replaceHostKey(path, `nfsvol-lab-${this.name}`, this.running ? this : null);
    this.hostKey = readPublicKey(path);
    await this.writeConfigDisk();
    // The open connection was accepted under the old key.
    this.ssh.drop('host key replaced');
    if (this.running) {
      await pollUntil(
        `${this.name} sshd with its new host key`,
        async () => (await this.check(['true'])) && true,
        { timeoutMs: 30_000 },
      );
    }
  }

  async consoleLog(): Promise<string> {
    const path = join(this.dir, 'console.log');
    return existsSync(path) ? readFile(path, 'utf8') : '';
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.powerOff();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

async function createHost(
  session: LabSession,
  name: string,
  sshPort: number,
  image: VmImage,
  opts: StartHostsOptions,
): Promise<LabVm> {
  const dir = join(session.dir, 'hosts', name);
  await mkdir(configDir(dir), { recursive: true });
  await createOverlay(image, join(dir, 'disk.qcow2'));
  await newKeyPair(hostKeyPath(dir), `nfsvol-lab-${name}`);
  const vm = new LabVm(
    name,
    dir,
    sshPort,
    await sessionClientKey(session),
    image,
    session,
    opts.memoryMiB ?? 1024,
    opts.bootTimeoutMs ?? 180_000,
  );
  await vm.writeConfigDisk();
  return vm;
}

/** Builds the VM image if needed, then boots n Docker hosts in parallel. */
export async function startHosts(n: number, opts: StartHostsOptions = {}): Promise<LabHost[]> {
  if (!Number.isInteger(n) || n < 1 || n > 16) {
    throw new LabError('INVALID_OPTION', `startHosts: n must be an integer from 1 to 16, got ${n}`);
  }
  if (opts.sshPorts !== undefined && opts.sshPorts.length !== n) {
    throw new LabError('INVALID_OPTION', `startHosts: sshPorts must list ${n} ports`);
  }
  await buildImages('vm', opts.onProgress === undefined ? {} : { onProgress: opts.onProgress });
  const image = currentVmImage();
  const session = opts.session ?? (await LabSession.current());
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    let port = opts.sshPorts?.[i];
    while (port === undefined || (opts.sshPorts === undefined && ports.includes(port)))
      port = await freePort();
    ports.push(port);
  }
  const prefix = opts.namePrefix ?? 'lab';
  const hosts = await Promise.all(
    ports.map((port) => createHost(session, session.nextName(prefix), port, image, opts)),
  );
  const boots = await Promise.allSettled(
    hosts.map(async (host) => {
      opts.onProgress?.(`[lab] ${host.name}: booting (ssh 127.0.0.1:${host.sshPort})`);
      await host.powerOn();
      opts.onProgress?.(
        `[lab] ${host.name}: sshd and dockerd ready after ${(host.lastBootMs / 1000).toFixed(1)} s`,
      );
    }),
  );
  const failed = boots.find((b): b is PromiseRejectedResult => b.status === 'rejected');
  if (failed !== undefined) {
    await Promise.allSettled(hosts.map((host) => host.stop()));
    throw failed.reason instanceof Error ? failed.reason : new LabError('NOT_READY', String(failed.reason));
  }
  return hosts;
}
