/**
 * The NFS server's own shell, as a user reaches it by hand: an OpenSSH sshd on 127.0.0.1 (its own
 * config, host key and a throwaway client key), and the OpenSSH client run once per command, with
 * or without a reused connection (ControlMaster). Work that a user would do on the NAS runs here
 * natively, the way nfsvol's own client runs, not inside an emulated VM.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

export interface SshRunOptions {
  /** Reuse one connection through a ControlMaster socket (ControlPersist=60). */
  readonly control?: boolean;
}

export interface LoopbackSshd extends AsyncDisposable {
  readonly port: number;
  /** `ssh nas COMMAND`: one OpenSSH client process; resolves with its stdout, throws on a non-zero exit. */
  ssh(command: string, opts?: SshRunOptions): Promise<string>;
  /** Closes the ControlMaster (the next `control` command pays a full handshake again). */
  closeMaster(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts sshd on 127.0.0.1 for the current user; throws with the install command when it is missing. */
export async function startLoopbackSshd(): Promise<LoopbackSshd> {
  if (!existsSync(SSHD)) {
    throw new Error(`the native baselines log in to ${SSHD} on 127.0.0.1: apt-get install -y openssh-server`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'nfsvol-bench-sshd-'));
  const hostKey = join(dir, 'host_ed25519');
  const clientKey = join(dir, 'client_ed25519');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`), { mode: 0o600 });
  const port = await freePort();
  const hostPub = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
  await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  const conf = join(dir, 'sshd_config');
  await writeFile(
    conf,
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // The keys live in a temporary directory whose owner and modes sshd's checks do not expect.
      'StrictModes no',
      'UseDNS no',
      'MaxSessions 100',
      'MaxStartups 100',
      '',
    ].join('\n'),
  );
  // sshd refuses to start without its privilege-separation directory.
  if (!existsSync('/run/sshd')) await run('mkdir', ['-p', '/run/sshd']);
  const daemon: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', conf, '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let daemonErr = '';
  daemon.stderr?.on('data', (b: Buffer) => (daemonErr = (daemonErr + b.toString()).slice(-4000)));
  const control = join(dir, 'cm-%C');
  const base = [
    ...['-i', clientKey, '-p', String(port)],
    ...['-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes'],
    ...['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR'],
  ];
  const cm = ['-o', 'ControlMaster=auto', '-o', `ControlPath=${control}`, '-o', 'ControlPersist=60'];
  const ssh = async (command: string, opts: SshRunOptions = {}): Promise<string> => {
    const args = [...base, ...(opts.control ? cm : []), '127.0.0.1', command];
    const { stdout } = await run('ssh', args, { maxBuffer: 256 * 2 ** 20 });
    return stdout;
  };
  const closeMaster = async (): Promise<void> => {
    await run('ssh', [...base, ...cm, '-O', 'exit', '127.0.0.1']).catch(() => undefined);
  };
  // Ready when a command runs (bounded: 100 tries, 100 ms apart).
  for (let i = 0; ; i++) {
    try {
      await ssh('true');
      break;
    } catch (e) {
      if (i >= 100 || daemon.exitCode !== null) {
        daemon.kill('SIGTERM');
        throw new Error(`sshd on 127.0.0.1:${port} did not answer: ${daemonErr}`, { cause: e });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    port,
    ssh,
    closeMaster,
    async [Symbol.asyncDispose]() {
      await closeMaster();
      daemon.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Quotes one argument for the remote shell (single quotes; a `'` becomes `'\''`). */
export const shq = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
