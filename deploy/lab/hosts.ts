// The lab's Docker hosts: qemu microVMs (TCG; nested KVM is broken here) booting Debian's cloud
// kernel with a kernel NFS client, sshd and dockerd, built by deploy/lab/build.sh.
//
// Each VM has its own qcow2 overlay over the shared base disk and a tiny read-only "config disk"
// (a tar file attached as /dev/vdb) with its hostname, its sshd host key and the client's
// authorized key. The host key is generated here before boot, so it is known in advance and
// checked on every SSH connection (nothing here disables host-key checking).
//
// Networking is qemu user mode: sshd is forwarded to 127.0.0.1:<sshPort>, and the VM reaches this
// machine's loopback as 10.0.2.2 (where the NFS server's published ports are). The VM has no
// default route, no nameserver and no IPv6, so it can reach nothing else.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client } from 'ssh2';
import { LabError, LabNotReadyError } from './errors.js';
import { LabSession } from './session.js';
import { buildImages, freePort, labCacheDir, pollUntil, run, shellQuote } from './util.js';

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit status; 128 + signal number style is not guessed: -1 when killed by a signal. */
  readonly code: number;
}

export interface ExecOptions {
  /** Written to the command's stdin, then stdin is closed. */
  readonly input?: string | Buffer;
  /** @default 120000 */
  readonly timeoutMs?: number;
}

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
  /** Runs argv on the host over SSH (each word shell-quoted for the remote shell). */
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

interface VmImage {
  readonly kernel: string;
  readonly initrd: string;
  readonly disk: string;
}

async function currentVmImage(): Promise<VmImage> {
  const dir = join(labCacheDir(), 'vm.current');
  if (!existsSync(join(dir, 'done'))) throw new LabError('BUILD_FAILED', `no VM image in ${dir}`);
  return { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.cpio'), disk: join(dir, 'disk.img') };
}

async function newKeyPair(path: string, comment: string): Promise<void> {
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

const clientKeys = new Map<string, Promise<string>>();

/** One client key per session, authorized on all its hosts. */
function sessionClientKey(session: LabSession): Promise<string> {
  let key = clientKeys.get(session.id);
  if (key === undefined) {
    const path = join(session.dir, 'client_ed25519');
    key = existsSync(path) ? Promise.resolve(path) : newKeyPair(path, 'nfsvol-lab-client').then(() => path);
    clientKeys.set(session.id, key);
  }
  return key;
}

/**
 * Sends one QMP command over qemu's monitor socket and returns its result. The socket is in the
 * abstract namespace (no path length limit, nothing to clean up) with tight=off: Node pads
 * abstract addresses to the full sun_path, as qemu then does.
 */
function qmp(socketName: string, execute: string, args?: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolvePromise, reject) => {
    const socket = connect({ path: `\0${socketName}` });
    let buffer = '';
    let stage: 'greeting' | 'capabilities' | 'command' = 'greeting';
    const fail = (message: string, cause?: unknown): void => {
      socket.destroy();
      reject(new LabError('QMP_ERROR', `QMP ${execute}: ${message}`, { cause }));
    };
    socket.setTimeout(10_000, () => fail('timed out'));
    socket.on('error', (error) => fail(error.message, error));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line === '') continue;
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(line) as Record<string, unknown>;
        } catch (error) {
          return fail(`bad reply ${line}`, error);
        }
        if ('event' in message) continue;
        if (stage === 'greeting') {
          stage = 'capabilities';
          socket.write(`${JSON.stringify({ execute: 'qmp_capabilities' })}\n`);
        } else if ('error' in message) {
          return fail(JSON.stringify(message['error']));
        } else if (stage === 'capabilities') {
          stage = 'command';
          socket.write(
            `${JSON.stringify(args === undefined ? { execute } : { execute, arguments: args })}\n`,
          );
        } else {
          socket.end();
          resolvePromise(message['return']);
        }
      }
    });
  });
}

/** Runs in the VM: wait up to 60 s for the Docker API socket, then `docker info`. */
const WAIT_FOR_DOCKERD =
  'i=0; while [ ! -S /var/run/docker.sock ] && [ $i -lt 600 ]; do i=$((i+1)); sleep 0.1; done; ' +
  'docker info --format "{{.ServerVersion}}"';

interface SshConnection {
  readonly client: Client;
  readonly ready: Promise<Client>;
}

class LabVm implements LabHost {
  readonly sshHost = '127.0.0.1' as const;
  readonly user = 'root' as const;
  readonly nfsAddress = '10.0.2.2';
  readonly privateKey: string;
  private hostKey: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private exitInfo: string | undefined;
  private ssh: SshConnection | undefined;
  private stopped = false;

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
    this.hostKey = this.readHostKey();
  }

  private get hostKeyPath(): string {
    return join(this.dir, 'config', 'ssh_host_ed25519_key');
  }
  private readHostKey(): string {
    const [type, blob] = readFileSync(`${this.hostKeyPath}.pub`, 'utf8').trim().split(/\s+/);
    return `${type} ${blob}`;
  }
  private get qmpSocket(): string {
    return `nfsvol-lab-${this.session.id}-${this.name}.qmp`;
  }

  get hostPublicKey(): string {
    return this.hostKey;
  }
  get knownHostsLine(): string {
    return `[${this.sshHost}]:${this.sshPort} ${this.hostKey}`;
  }
  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  /** Writes the config disk: a tar of hostname, host key pair and authorized_keys. */
  async writeConfigDisk(): Promise<void> {
    const config = join(this.dir, 'config');
    await writeFile(join(config, 'hostname'), `${this.name}\n`);
    await writeFile(join(config, 'authorized_keys'), await readFile(`${this.privateKeyPath}.pub`));
    await run(['tar', '-cf', join(this.dir, 'config.tar.new'), '-C', config, '.']);
    await rename(join(this.dir, 'config.tar.new'), join(this.dir, 'config.tar'));
  }

  private qemuArgv(): string[] {
    // qemu option values are comma-separated: a comma in a path is written twice.
    const q = (path: string): string => path.replaceAll(',', ',,');
    return [
      'qemu-system-x86_64',
      ...['-accel', 'tcg', '-m', String(this.memoryMiB), '-smp', '1', '-display', 'none', '-no-reboot'],
      ...['-name', `nfsvol-lab-${this.name}`],
      ...['-kernel', this.image.kernel, '-initrd', this.image.initrd],
      ...['-append', 'console=ttyS0 panic=-1 quiet'],
      ...['-drive', `file=${q(join(this.dir, 'disk.qcow2'))},if=virtio,format=qcow2`],
      ...['-drive', `file=${q(join(this.dir, 'config.tar'))},if=virtio,format=raw,readonly=on`],
      ...['-netdev', `user,id=n0,ipv6=off,hostfwd=tcp:127.0.0.1:${this.sshPort}-:22`],
      ...['-device', 'virtio-net-pci,netdev=n0', '-device', 'virtio-rng-pci'],
      ...['-serial', `file:${q(join(this.dir, 'console.log'))}`, '-monitor', 'none'],
      ...['-chardev', `socket,id=qmp0,path=${this.qmpSocket},abstract=on,tight=off,server=on,wait=off`],
      ...['-mon', 'chardev=qmp0,mode=control'],
      ...['-pidfile', join(this.dir, 'qemu.pid')],
    ];
  }

  async powerOn(): Promise<void> {
    if (this.stopped) throw new LabError('STOPPED', `${this.name} was stopped`);
    if (this.running) return;
    const logFd = openSync(join(this.dir, 'qemu.log'), 'a');
    const qemu = this.qemuArgv();
    // Test processes: qemu dies with the process that started it (PR_SET_PDEATHSIG via setpriv).
    // lab:up (persistent session): qemu is detached and outlives the CLI.
    const argv = this.session.persistent ? qemu : ['setpriv', '--pdeathsig', 'KILL', '--', ...qemu];
    let child: ChildProcess;
    try {
      child = spawn(argv[0] ?? 'qemu-system-x86_64', argv.slice(1), {
        cwd: this.dir,
        stdio: ['ignore', logFd, logFd],
        detached: this.session.persistent,
      });
    } finally {
      closeSync(logFd);
    }
    this.child = child;
    this.exitInfo = undefined;
    this.exited = new Promise((resolvePromise) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = `qemu exited (${signal ?? `code ${code}`})`;
        this.dropSsh();
        resolvePromise();
      });
      child.once('error', (error) => {
        this.exitInfo = `qemu did not start: ${error.message}`;
        resolvePromise();
      });
    });
    if (this.session.persistent) child.unref();
    else this.session.track(child);
    await this.waitReady();
  }

  private async waitReady(): Promise<void> {
    const started = Date.now();
    await pollUntil(
      `lab host ${this.name} (sshd + dockerd)`,
      async () => {
        // Once SSH answers, one remote command waits (bounded) for dockerd's socket and then asks
        // `docker info`: each docker CLI run costs the emulated CPU about a second, which dockerd's
        // start-up needs, so it is not polled in a loop.
        const result = await this.exec(['sh', '-c', WAIT_FOR_DOCKERD], { timeoutMs: 90_000 });
        return result.code === 0 ? true : undefined;
      },
      {
        timeoutMs: this.bootTimeoutMs,
        intervalMs: 250,
        fatal: () => {
          if (this.exitInfo === undefined) return undefined;
          return new LabError(
            'VM_EXITED',
            `${this.name}: ${this.exitInfo} while booting; qemu:\n${this.logTail('qemu.log', 5)}\nconsole:\n${this.logTail('console.log', 15)}`,
          );
        },
      },
    ).catch((err: unknown) => {
      // What the guest said (lab-init reports sshd and dockerd on the console) is the only clue.
      if (!(err instanceof LabNotReadyError)) throw err;
      throw new LabNotReadyError(
        err.what,
        err.timeoutMs,
        `${err.detail}; console:\n${this.logTail('console.log', 15)}`,
        { cause: err.cause },
      );
    });
    this.lastBootMs = Date.now() - started;
  }

  lastBootMs = 0;

  private logTail(file: string, lines: number): string {
    const path = join(this.dir, file);
    return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n') : '';
  }

  /**
   * Opens an SSH connection that accepts only this VM's current host key. The Client is returned
   * at once (so a dropped attempt can be destroyed before its handshake ends) with a promise of
   * readiness.
   */
  private connectSsh(): SshConnection {
    const expectedKey = this.hostKey;
    const expected = Buffer.from(expectedKey.split(' ')[1] ?? '', 'base64');
    const client = new Client();
    let presented: Buffer | undefined;
    const ready = new Promise<Client>((resolvePromise, reject) => {
      let isReady = false;
      client.once('ready', () => {
        isReady = true;
        resolvePromise(client);
      });
      client.on('error', (error) => {
        if (isReady) return;
        const mismatch =
          presented !== undefined && !presented.equals(expected)
            ? ` (host presented a key other than the pinned ${expectedKey.slice(0, 40)}...)`
            : '';
        reject(new LabError('SSH_ERROR', `${this.name}: ${error.message}${mismatch}`, { cause: error }));
      });
      client.once('close', () => {
        if (!isReady) reject(new LabError('SSH_ERROR', `${this.name}: connection closed`));
        if (this.ssh?.client === client) this.ssh = undefined;
      });
    });
    client.connect({
      host: this.sshHost,
      port: this.sshPort,
      username: this.user,
      privateKey: this.privateKey,
      readyTimeout: 20_000,
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      // Pinning: the raw host key blob must be the one generated for this VM.
      hostVerifier: (key: Buffer) => {
        presented = key;
        return key.equals(expected);
      },
    });
    return { client, ready };
  }

  private sshClient(): Promise<Client> {
    if (this.ssh === undefined) {
      const connection = this.connectSsh();
      this.ssh = connection;
      connection.ready.catch(() => {
        if (this.ssh === connection) this.ssh = undefined;
      });
    }
    return this.ssh.ready;
  }

  disconnect(): void {
    this.dropSsh();
  }

  /** Forgets the current connection and destroys it, even mid-handshake. */
  private dropSsh(): void {
    const connection = this.ssh;
    this.ssh = undefined;
    connection?.client.destroy();
  }

  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) throw new LabError('INVALID_OPTION', 'exec: empty argv');
    const command = argv.map(shellQuote).join(' ');
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const started = Date.now();
    // The timeout covers connecting too (a cut link makes the handshake hang, not fail).
    let connectTimer: NodeJS.Timeout | undefined;
    const client = await Promise.race([
      this.sshClient(),
      new Promise<never>((_, reject) => {
        connectTimer = setTimeout(() => {
          this.dropSsh();
          reject(new LabError('SSH_ERROR', `${this.name}: no SSH connection within ${timeoutMs} ms`));
        }, timeoutMs);
      }),
    ]).finally(() => clearTimeout(connectTimer));
    const remainingMs = Math.max(1, timeoutMs - (Date.now() - started));
    return new Promise((resolvePromise, reject) => {
      client.exec(command, (error, stream) => {
        if (error !== undefined && error !== null) {
          this.dropSsh();
          reject(new LabError('SSH_ERROR', `${this.name}: exec failed: ${error.message}`, { cause: error }));
          return;
        }
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let code = -1;
        const timer = setTimeout(() => {
          stream.close();
          this.dropSsh();
          reject(
            new LabError('SSH_ERROR', `${this.name}: ${argv.join(' ')} timed out after ${timeoutMs} ms`),
          );
        }, remainingMs);
        stream.on('data', (chunk: Buffer) => stdout.push(chunk));
        stream.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        stream.on('exit', (exitCode: number | null) => {
          code = exitCode ?? -1;
        });
        stream.on('close', () => {
          clearTimeout(timer);
          resolvePromise({
            stdout: Buffer.concat(stdout).toString('utf8'),
            stderr: Buffer.concat(stderr).toString('utf8'),
            code,
          });
        });
        if (opts.input !== undefined) stream.end(opts.input);
        else stream.end();
      });
    });
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
    this.dropSsh();
    const child = this.child;
    if (child === undefined || this.exitInfo !== undefined) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  async setLink(up: boolean): Promise<void> {
    if (!this.running) throw new LabError('STOPPED', `${this.name} is powered off`);
    await qmp(this.qmpSocket, 'set_link', { name: 'n0', up });
    // A cut link leaves the SSH connection hanging: start a new one next time.
    if (!up) this.dropSsh();
  }

  async regenerateHostKey(): Promise<void> {
    const path = this.hostKeyPath;
    await newKeyPair(`${path}.next`, `nfsvol-lab-${this.name}`);
    if (this.running) {
      const [privateKey, publicKey] = await Promise.all([
        readFile(`${path}.next`),
        readFile(`${path}.next.pub`),
      ]);
      // Fixed scripts; the key bytes travel on stdin, never in the command line.
      await this.check(['sh', '-c', 'umask 077 && cat >/etc/ssh/ssh_host_ed25519_key'], {
        input: privateKey,
      });
      await this.check(['sh', '-c', 'cat >/etc/ssh/ssh_host_ed25519_key.pub'], { input: publicKey });
      // The listening sshd re-executes itself on SIGHUP and loads the new key.
      await this.check(['sh', '-c', 'kill -HUP "$(cat /run/sshd.pid)"']);
    }
    await rename(`${path}.next`, path);
    await rename(`${path}.next.pub`, `${path}.pub`);
    this.hostKey = this.readHostKey();
    await this.writeConfigDisk();
    this.dropSsh();
    if (this.running) {
      await pollUntil(
        `${this.name} sshd with its new host key`,
        async () => (await this.check(['true'])) && true,
        {
          timeoutMs: 30_000,
        },
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
  await mkdir(join(dir, 'config'), { recursive: true });
  await run([
    'qemu-img',
    'create',
    '-q',
    '-f',
    'qcow2',
    '-b',
    image.disk,
    '-F',
    'raw',
    join(dir, 'disk.qcow2'),
  ]);
  await newKeyPair(join(dir, 'config', 'ssh_host_ed25519_key'), `nfsvol-lab-${name}`);
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
  const image = await currentVmImage();
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
