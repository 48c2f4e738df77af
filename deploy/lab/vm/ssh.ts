// Commands on a lab VM, over nfsvol's own SSH client (SshHost): the lab logs in as root with the
// session's generated key and accepts only the host key generated for the VM before it booted.
// Going through the driver's client, the lab quotes and checks host keys as nfsvol does.
import { Client } from 'ssh2';
import {
  SshHost,
  ValidationError,
  hostKeyOf,
  pinnedKeyVerifier,
  type RunResult,
} from '../../../driver/index.js';
import { LabError } from '../errors.js';

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit status; 255 when the command was killed by a signal, as OpenSSH's client reports it. */
  readonly code: number;
}

export interface ExecOptions {
  /** Written to the command's stdin, then stdin is closed. */
  readonly input?: string | Buffer;
  /** Covers connecting too: a cut link makes the handshake hang, not fail. @default 120000 */
  readonly timeoutMs?: number;
}

/**
 * Output kept per stream. Callers read whole outputs (docker events, file contents), so output
 * beyond this fails the command instead of being cut silently.
 */
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export interface LabSshTarget {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** The client's private key (OpenSSH format). */
  readonly privateKey: string;
  /** The host key to accept, "ssh-ed25519 AAAA...": read at every handshake, since it can change. */
  readonly hostKey: () => string;
}

interface Connection {
  readonly ssh: SshHost;
  /**
   * Aborted when the connection is dropped: commands waiting on it fail at once, and every ssh2
   * Client the SshHost made is destroyed, even mid-handshake (where a cut link leaves it hanging
   * until the handshake timeout).
   */
  readonly dropped: AbortController;
}

/**
 * One SSH connection to a VM, opened on first use and shared by every command. A fault (a cut
 * link, a power-off, a new host key) leaves a connection hanging rather than failing, so the
 * lab drops it on purpose and the next command connects afresh.
 */
export class LabSsh {
  private connection: Connection | undefined;

  constructor(private readonly target: LabSshTarget) {}

  private current(): Connection {
    if (this.connection !== undefined) return this.connection;
    const t = this.target;
    const dropped = new AbortController();
    const ssh = new SshHost(
      // agent: null: only the lab's own key, never the keys of whoever runs the tests.
      { name: t.name, host: t.host, port: t.port, user: t.user, privateKey: t.privateKey, agent: null },
      {
        verifyHostKey: (blob) => {
          const [, expected = ''] = t.hostKey().split(' ');
          return pinnedKeyVerifier(t.name, hostKeyOf(Buffer.from(expected, 'base64')))(blob);
        },
        // A handshake under full emulation, with two VMs booting, can take seconds.
        readyTimeoutMs: 20_000,
        // Callers decide about retrying (the boot wait polls); a fault test wants the first failure.
        connectRetries: 0,
        clientFactory: () => {
          const client = new Client();
          const destroy = (): void => {
            client.destroy();
          };
          // SshHost calls connect() right after the factory returns; destroying before that
          // would do nothing, so a client made after the drop dies on the next turn.
          if (dropped.signal.aborted) setImmediate(destroy);
          else {
            dropped.signal.addEventListener('abort', destroy, { once: true });
            client.once('close', () => dropped.signal.removeEventListener('abort', destroy));
          }
          return client;
        },
      },
    );
    this.connection = { ssh, dropped };
    return this.connection;
  }

  /** Drops the connection, even mid-handshake; commands on it fail with `reason`. */
  drop(reason = 'connection dropped'): void {
    const connection = this.connection;
    this.connection = undefined;
    if (connection === undefined) return;
    connection.dropped.abort(new LabError('SSH_ERROR', `${this.target.name}: ${reason}`));
    void connection.ssh.close();
  }

  /** Runs argv (each word shell-quoted by SshHost); a non-zero exit is a result, not an error. */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const name = this.target.name;
    if (argv.length === 0) throw new LabError('INVALID_OPTION', 'exec: empty argv');
    const timeoutMs = opts.timeoutMs ?? 120_000;
    const connection = this.current();
    let timedOut = false;
    // A timeout drops the whole connection, not only this command: what makes a command hang
    // here is nearly always a link that no longer carries anything.
    const timer = setTimeout(() => {
      timedOut = true;
      if (this.connection === connection) this.drop(`${argv.join(' ')} timed out after ${timeoutMs} ms`);
    }, timeoutMs);
    let result: RunResult;
    try {
      result = await connection.ssh.run(argv, {
        check: false,
        timeoutMs,
        maxOutputBytes: MAX_OUTPUT_BYTES,
        signal: connection.dropped.signal,
        ...(opts.input === undefined ? {} : { stdin: opts.input }),
      });
    } catch (error) {
      if (error instanceof ValidationError) {
        throw new LabError('INVALID_OPTION', `exec: ${error.message}`, { cause: error });
      }
      if (error instanceof LabError) throw error;
      // Whatever failed (handshake, host key, channel) may have left the connection unusable.
      if (this.connection === connection) this.drop();
      const message = timedOut
        ? `${argv.join(' ')} timed out after ${timeoutMs} ms`
        : error instanceof Error
          ? error.message
          : String(error);
      throw new LabError('SSH_ERROR', message.startsWith(`${name}:`) ? message : `${name}: ${message}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
    if (result.truncated) {
      throw new LabError('SSH_ERROR', `${name}: ${argv.join(' ')} wrote more than ${MAX_OUTPUT_BYTES} bytes`);
    }
    return { stdout: result.stdout, stderr: result.stderr, code: result.exitCode };
  }
}
