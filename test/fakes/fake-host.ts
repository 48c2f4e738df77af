import { createHash } from 'node:crypto';
import type { HostOpener } from '../../driver/attach/cluster-context.js';
import { SshCommandError, SshConnectError } from '../../driver/attach/ssh/errors.js';
import type { RemoteHost, RunOptions, RunResult } from '../../driver/attach/ssh/remote-host.js';
import type { HostKeyVerifier } from '../../driver/attach/ssh/host-key-policy.js';
import type { SshTarget } from '../../driver/attach/ssh/ssh-host.js';

interface DockerVolume {
  driver: string;
  options: Record<string, string>;
  labels: Record<string, string>;
}

/** A fake SSH key blob: `string type, string data`, as in RFC 4253. */
export function fakeKeyBlob(seed: string): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const data = createHash('sha256').update(seed).digest();
  const len = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  return Buffer.concat([len(type.length), type, len(data.length), data]);
}

/**
 * A Docker host behind a RemoteHost: understands the docker/mount commands nfsvol sends and keeps
 * their state. Every argv is recorded so tests can assert what ran (and what did not).
 */
export class FakeDockerHost {
  readonly volumes = new Map<string, DockerVolume>();
  readonly mounts = new Map<string, string>();
  /** Mounted paths whose server no longer knows the handle: `stat -f` fails on them. */
  readonly stale = new Set<string>();
  readonly commands: string[][] = [];
  reachable = true;
  hostKey: Buffer;
  /** What `uname -sr` prints (tests put hostile bytes here). */
  uname = 'Linux 6.1.0\n';
  /** Volumes a container uses: `docker volume rm` fails for them. */
  readonly inUse = new Set<string>();
  /**
   * Containers by name and the volume each names in its configuration, as `docker ps --filter
   * volume=` reports them. Only these, not `inUse`: a daemon whose reference count lost them.
   */
  readonly containers = new Map<string, string>();
  /** How long a command takes, by its first word (e.g. a slow `mount`); 0 when absent. */
  readonly delayMs = new Map<string, number>();

  constructor(
    readonly address: string,
    seed = address,
  ) {
    this.hostKey = fakeKeyBlob(seed);
  }

  private ok(stdout = ''): RunResult {
    return { stdout, stderr: '', exitCode: 0, truncated: false };
  }

  exec(name: string, argv: readonly string[]): RunResult {
    if (!this.reachable) {
      throw new SshConnectError(name, 'connect ECONNREFUSED', { retriable: true });
    }
    this.commands.push([...argv]);
    const fail = (code: number, stderr: string): RunResult => ({
      stdout: '',
      stderr,
      exitCode: code,
      truncated: false,
    });
    const [cmd, sub, verb, ...rest] = argv;
    if (cmd === 'docker' && sub === 'volume') {
      if (verb === 'ls') {
        const filter = rest.indexOf('--filter');
        const f = filter >= 0 ? rest[filter + 1] : undefined;
        const m = f ? /^label=([^=]+)=(.*)$/.exec(f) : null;
        const names = [...this.volumes.entries()]
          .filter(([, v]) => !m || v.labels[m[1] ?? ''] === m[2])
          .map(([n]) => n);
        return this.ok(names.map((n) => `${n}\n`).join(''));
      }
      if (verb === 'create') {
        const v: DockerVolume = { driver: 'local', options: {}, labels: {} };
        let name = '';
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i] ?? '';
          const next = rest[i + 1] ?? '';
          if (a === '--driver') {
            v.driver = next;
            i++;
          } else if (a === '--opt') {
            const eq = next.indexOf('=');
            v.options[next.slice(0, eq)] = next.slice(eq + 1);
            i++;
          } else if (a === '--label') {
            const eq = next.indexOf('=');
            v.labels[next.slice(0, eq)] = next.slice(eq + 1);
            i++;
          } else name = a;
        }
        if (!this.volumes.has(name)) this.volumes.set(name, v);
        return this.ok(`${name}\n`);
      }
      if (verb === 'inspect') {
        const out = [];
        for (const n of rest) {
          const v = this.volumes.get(n);
          if (!v) return fail(1, `Error: No such volume: ${n}`);
          out.push({ Name: n, Driver: v.driver, Options: v.options, Labels: v.labels, Scope: 'local' });
        }
        return this.ok(JSON.stringify(out));
      }
      if (verb === 'rm') {
        for (const n of rest) {
          if (this.inUse.has(n)) return fail(1, `Error response from daemon: remove ${n}: volume is in use`);
          if (!this.volumes.delete(n)) return fail(1, `Error: No such volume: ${n}`);
        }
        return this.ok();
      }
    }
    if (cmd === 'docker' && sub === 'ps') {
      const filter = argv.indexOf('--filter');
      const volume = /^volume=(.*)$/.exec(argv[filter + 1] ?? '')?.[1];
      // A volume in `inUse` has a container the daemon counts too.
      const all = [...this.containers.entries(), ...[...this.inUse].map((v) => [`user-of-${v}`, v] as const)];
      const names = all.filter(([, v]) => volume === undefined || v === volume).map(([n]) => `${n}\n`);
      return this.ok(names.join(''));
    }
    if (cmd === 'docker' && (sub === 'version' || sub === 'info')) return this.ok('24.0.7\n');
    if (cmd === 'uname') return this.ok(this.uname);
    if (cmd === 'cat' && sub === '/proc/filesystems')
      return this.ok('nodev\tproc\nnodev\tnfs\nnodev\tnfs4\n');
    if (cmd === 'mktemp') return this.ok('/tmp/nfsvol-check.abc123\n');
    if (cmd === 'mkdir' && this.stale.has(argv[argv.length - 1] ?? '')) {
      return fail(1, `mkdir: cannot stat '${argv[argv.length - 1] ?? ''}': Stale file handle`);
    }
    if (cmd === 'mkdir' || cmd === 'rmdir' || cmd === 'modprobe') return this.ok();
    if (cmd === 'mountpoint') return this.mounts.has(argv[argv.length - 1] ?? '') ? this.ok() : fail(1, '');
    if (cmd === 'findmnt' && argv.includes('-t'))
      return this.ok([...this.mounts.keys()].map((m) => `${m}\n`).join(''));
    if (cmd === 'findmnt') {
      // `findmnt -n -o SOURCE -M PATH`: the mount's source, or exit 1 when nothing is mounted there.
      const source = this.mounts.get(argv[argv.length - 1] ?? '');
      return source === undefined ? fail(1, '') : this.ok(`${source}\n`);
    }
    if (cmd === 'mount') {
      const path = argv[argv.length - 1] ?? '';
      this.mounts.set(path, argv[argv.length - 2] ?? '');
      return this.ok();
    }
    if (cmd === 'umount') {
      const path = argv[argv.length - 1] ?? '';
      if (!this.mounts.delete(path)) return fail(32, `umount: ${path}: not mounted.`);
      this.stale.delete(path);
      return this.ok();
    }
    if (cmd === 'stat' && sub === '-f') {
      const path = argv[argv.length - 1] ?? '';
      if (this.stale.has(path)) {
        return fail(1, `stat: cannot read file system information for '${path}': Stale file handle`);
      }
      return this.ok(`  File: "${path}"\n`);
    }
    return fail(127, `${cmd ?? ''}: command not found`);
  }
}

/** A HostOpener over FakeDockerHosts keyed by `address:port`; verifies the key on first use like ssh2. */
export function fakeOpener(hosts: ReadonlyMap<string, FakeDockerHost>): HostOpener {
  return (target: SshTarget, verify: HostKeyVerifier): RemoteHost => {
    let verified = false;
    return {
      name: target.name,
      async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
        await new Promise<void>((r) => setImmediate(r));
        const h = hosts.get(`${target.host}:${target.port ?? 22}`);
        if (!h) throw new SshConnectError(target.name, 'connect ECONNREFUSED', { retriable: true });
        if (!h.reachable) throw new SshConnectError(target.name, 'connect ECONNREFUSED', { retriable: true });
        if (!verified) {
          await verify(h.hostKey);
          verified = true;
        }
        const delay = h.delayMs.get(argv[0] ?? '') ?? 0;
        if (delay > 0) await new Promise<void>((r) => setTimeout(r, delay));
        const res = h.exec(target.name, argv);
        if (res.exitCode !== 0 && options.check !== false) {
          throw new SshCommandError(target.name, argv, res.exitCode, res.stderr);
        }
        return res;
      },
      async close(): Promise<void> {
        verified = false;
      },
      async [Symbol.asyncDispose](): Promise<void> {
        verified = false;
      },
    };
  };
}
