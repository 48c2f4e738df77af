import type { Duplex } from 'node:stream';
import { withRetry } from '../../common/retry.js';
import type { AnyAuthMethod, Client, ClientChannel, ConnectConfig } from 'ssh2';
import { debug } from '../../common/debug.js';
import { settleOnce } from '../../common/settle-once.js';
import { NfsvolError } from '../../common/errors.js';
import { SshCommandError, SshConnectError, SshTimeoutError } from './errors.js';
import type { RemoteHost, RunOptions, RunResult } from './remote-host.js';
import { IdentityFileError, readIdentityFile } from './identity.js';
import { quoteArgv } from './shell-quote.js';
import { CappedBuffer } from './capped-buffer.js';
import type { HostKeyVerifier } from './host-key-policy.js';

export interface SshTarget {
  /** Name used in messages and errors (the registered host name). */
  readonly name: string;
  readonly host: string;
  /** @default 22 */
  readonly port?: number;
  readonly user: string;
  /**
   * Private key files that must be usable (`host add --identity`), tried after the agent. A
   * missing or unreadable one is an error.
   */
  readonly identityFiles?: readonly string[];
  /**
   * Private key files tried when present (`IdentityFile` lines, OpenSSH's default identities);
   * missing or encrypted ones are skipped, as ssh skips them.
   */
  readonly optionalIdentityFiles?: readonly string[];
  readonly privateKey?: string | Buffer;
  readonly passphrase?: string;
  /** ssh-agent socket, `null` for none. @default SshHostOptions.agent */
  readonly agent?: string | null;
  /** Reach this host through another (ProxyJump): a TCP channel opened from the bastion. */
  readonly jump?: { readonly target: SshTarget; readonly verify: HostKeyVerifier };
}

export interface SshHostOptions {
  readonly verifyHostKey: HostKeyVerifier;
  /** Handshake deadline per attempt. @default 12_000 */
  readonly readyTimeoutMs?: number;
  /** Extra connection attempts on transient network errors (only those). @default 2 */
  readonly connectRetries?: number;
  /**
   * Time the host has to answer a request to open a channel (a command's session, a forward to
   * a Unix socket). No answer fails with SSH_CHANNEL_TIMEOUT (retriable) and the connection is
   * dropped, so the next command connects afresh. @default 30_000
   */
  readonly channelOpenTimeoutMs?: number;
  /** Exec channels open at once on the one connection (sshd's MaxSessions defaults to 10). @default 8 */
  readonly maxChannels?: number;
  /** @default process.env.SSH_AUTH_SOCK */
  readonly agent?: string;
  /** Injectable for tests. @default () => new Client() */
  readonly clientFactory?: () => Client;
}

const TRANSIENT = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);

function isTransient(err: unknown): boolean {
  const e = err as { code?: unknown; level?: unknown; message?: unknown };
  if (typeof e.code === 'string' && TRANSIENT.has(e.code)) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return /Timed out while waiting for handshake|Connection lost before handshake|socket hang up/i.test(msg);
}

/**
 * A RemoteHost over one ssh2 connection, opened on first use and shared by every command
 * (several exec channels at once). Connection set-up is retried with p-retry on transient
 * network errors only; a command, once started, is never retried.
 */
export class SshHost implements RemoteHost {
  readonly name: string;
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly maxChannels: number;
  private jumpHost: SshHost | undefined;

  constructor(
    private readonly target: SshTarget,
    private readonly options: SshHostOptions,
  ) {
    this.name = target.name;
    this.maxChannels = options.maxChannels ?? 8;
  }

  /**
   * What to offer, in turn: the key files named for this host (`--identity`: first, so an agent
   * full of other keys cannot use up the server's MaxAuthTries before it), the agent's keys,
   * then the IdentityFile / default key files. Key files are read before the connection is
   * opened, so a bad one fails before anything is sent.
   */
  private async authMethods(): Promise<AnyAuthMethod[]> {
    const t = this.target;
    // ssh2 is CommonJS: Node's ESM loader exposes `utils` only on the default export.
    const { utils } = (await import('ssh2')).default;
    const username = t.user;
    const methods: AnyAuthMethod[] = [];
    const passphrase = t.passphrase === undefined ? {} : { passphrase: t.passphrase };
    if (t.privateKey !== undefined)
      methods.push({ type: 'publickey', username, key: t.privateKey, ...passphrase });
    const keyFile = async (f: string, required: boolean): Promise<void> => {
      const key = await readIdentityFile(f);
      if (key === undefined) {
        if (required) throw new IdentityFileError(f, 'does not exist');
        return;
      }
      const parsed = utils.parseKey(key, t.passphrase);
      if (parsed instanceof Error) {
        if (required) {
          throw new IdentityFileError(
            f,
            `is not a usable private key (${parsed.message}); an encrypted key must be loaded into ssh-agent`,
          );
        }
        return;
      }
      methods.push({ type: 'publickey', username, key, ...passphrase });
    };
    for (const f of t.identityFiles ?? []) await keyFile(f, true);
    const agent = t.agent === undefined ? (this.options.agent ?? process.env['SSH_AUTH_SOCK']) : t.agent;
    if (agent) methods.push({ type: 'agent', username, agent });
    for (const f of t.optionalIdentityFiles ?? []) await keyFile(f, false);
    return methods;
  }

  /** The transport for a host behind a bastion: a TCP channel opened from the bastion. */
  private async tunnel(): Promise<Duplex | undefined> {
    const jump = this.target.jump;
    if (!jump) return undefined;
    this.jumpHost ??= new SshHost(jump.target, {
      ...this.options,
      verifyHostKey: jump.verify,
      connectRetries: 0,
    });
    return this.jumpHost.forwardTcp(this.target.host, this.target.port ?? 22);
  }

  private async connectOnce(): Promise<Client> {
    const t = this.target;
    let methods: AnyAuthMethod[];
    try {
      methods = await this.authMethods();
    } catch (err) {
      throw err instanceof NfsvolError
        ? err
        : new SshConnectError(this.name, (err as Error).message, { retriable: false, cause: err });
    }
    if (methods.length === 0) {
      throw new SshConnectError(
        this.name,
        'no credentials to log in with: no ssh-agent (SSH_AUTH_SOCK), no --identity, no IdentityFile in ~/.ssh/config, and none of ~/.ssh/id_ed25519, id_ecdsa, id_rsa',
        { retriable: false },
      );
    }
    const sock = await this.tunnel();
    // Loaded on the first connection: commands that reach no host (ls, create on a cluster
    // without hosts) start sooner and smaller without it (its crypto is a WebAssembly module).
    const client = this.options.clientFactory?.() ?? new (await import('ssh2')).Client();
    let keyError: unknown;
    const config: ConnectConfig = {
      host: t.host,
      port: t.port ?? 22,
      username: t.user,
      readyTimeout: this.options.readyTimeoutMs ?? 12_000,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      authHandler: methods,
      ...(sock === undefined ? {} : { sock }),
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        this.options.verifyHostKey(key).then(
          () => verify(true),
          (err: unknown) => {
            keyError = err;
            verify(false);
          },
        );
      },
    };
    // Which way it authenticates, never with what: no key, passphrase or key file path.
    debug(
      () =>
        `ssh ${this.name} connect ${t.user}@${t.host}:${t.port ?? 22} auth=${methods.map((m) => m.type).join(',')}`,
    );
    return new Promise<Client>((resolve, reject) => {
      let settled = false;
      // ssh2 may emit several errors for one failure (a handshake timeout, then "connection lost"):
      // one listener stays for the client's whole life, so no error is ever unhandled.
      client.on('error', (err: Error) => {
        if (this.client === client) this.client = undefined;
        if (settled) return;
        settled = true;
        client.end();
        if (keyError !== undefined) {
          reject(keyError);
          return;
        }
        reject(new SshConnectError(this.name, err.message, { retriable: isTransient(err), cause: err }));
      });
      client.on('close', () => {
        if (this.client === client) this.client = undefined;
        if (settled) return;
        settled = true;
        reject(
          keyError ??
            new SshConnectError(this.name, 'connection closed during handshake', { retriable: true }),
        );
      });
      client.once('ready', () => {
        if (settled) {
          client.end();
          return;
        }
        settled = true;
        resolve(client);
      });
      try {
        client.connect(config);
      } catch (err) {
        settled = true;
        reject(new SshConnectError(this.name, (err as Error).message, { retriable: false, cause: err }));
      }
    });
  }

  private async connection(signal?: AbortSignal): Promise<Client> {
    if (this.client) return this.client;
    this.connecting ??= withRetry(() => this.connectOnce(), {
      retries: this.options.connectRetries ?? 2,
      minTimeoutMs: 300,
      maxTimeoutMs: 2_000,
      // A refused or reset connection is retried; a silent one (handshake timeout: host down
      // behind a NAT, link cut) only once, so an unreachable host costs ~2 x readyTimeout.
      // ssh2 reports that case by message only.
      shouldRetry: (error, attempt) =>
        !(
          attempt >= 2 &&
          error instanceof Error &&
          /Timed out while waiting for handshake/.test(error.message)
        ),
      signal,
    })
      .then((c) => {
        this.client = c;
        return c;
      })
      .finally(() => {
        this.connecting = undefined;
      });
    return this.connecting;
  }

  private async acquire(): Promise<void> {
    if (this.active < this.maxChannels) {
      this.active++;
      return;
    }
    await new Promise<void>((r) => this.waiters.push(r));
  }

  private release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }

  async run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const command = quoteArgv(argv);
    await this.acquire();
    try {
      const client = await this.connection(options.signal);
      // Aborted while connecting: the command is not started.
      options.signal?.throwIfAborted();
      // The argument vector only: stdin (which may carry a config) is counted, not shown.
      const stdin = options.stdin === undefined ? '' : ` stdin=${options.stdin.length} bytes`;
      debug(() => `ssh ${this.name} exec ${JSON.stringify(argv)}${stdin}`);
      const started = performance.now();
      const done = (outcome: string): void =>
        debug(
          () =>
            `ssh ${this.name} ${JSON.stringify(argv[0] ?? '')} ${outcome} (${(performance.now() - started).toFixed(1)} ms)`,
        );
      try {
        const result = await this.exec(client, argv, command, options);
        done(`exit ${result.exitCode}`);
        return result;
      } catch (err) {
        done(err instanceof SshCommandError ? `exit ${err.exitCode}` : `failed: ${(err as Error).message}`);
        throw err;
      }
    } finally {
      this.release();
    }
  }

  /**
   * Opens a channel to a Unix socket on the host (OpenSSH direct-streamlocal). The channel takes
   * one of the `maxChannels` slots until it closes.
   */
  async connectUnixSocket(path: string, signal?: AbortSignal): Promise<Duplex> {
    await this.acquire();
    let released = false;
    const release = (): void => {
      if (!released) {
        released = true;
        this.release();
      }
    };
    try {
      const client = await this.connection(signal);
      const channel = await this.openChannel(
        client,
        `a channel to ${path}`,
        (cb) => client.openssh_forwardOutStreamLocal(path, cb),
        (err) =>
          new NfsvolError('SSH_CHANNEL_REFUSED', `${this.name}: cannot open ${path}: ${err.message}`, {
            cause: err,
          }),
        (ch) => ch.once('close', release),
      );
      return channel;
    } catch (err) {
      release();
      throw err;
    }
  }

  /**
   * Asks ssh2 to open a channel and waits at most channelOpenTimeoutMs for the host's answer. A
   * host that never answers (a wedged sshd, a link cut behind a NAT before keepalives notice)
   * would otherwise hold the caller forever. A channel that opens after the timeout is closed.
   */
  private openChannel(
    client: Client,
    what: string,
    open: (callback: (err: Error | undefined, channel: ClientChannel) => void) => void,
    refused: (err: Error) => Error,
    /** Runs in the open callback, before anything else can happen on the channel. */
    use: (channel: ClientChannel) => void = () => undefined,
  ): Promise<ClientChannel> {
    const ms = this.options.channelOpenTimeoutMs ?? 30_000;
    return new Promise<ClientChannel>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        // Other channels on this connection are as stuck: drop it, and connect again next time.
        if (this.client === client) this.client = undefined;
        client.end();
        reject(
          new NfsvolError(
            'SSH_CHANNEL_TIMEOUT',
            `${this.name}: no answer to opening ${what} within ${ms} ms`,
            {
              retriable: true,
            },
          ),
        );
      }, ms);
      open((err, channel) => {
        if (done) {
          if (!err) channel.close();
          return;
        }
        done = true;
        clearTimeout(timer);
        if (err) {
          reject(refused(err));
          return;
        }
        use(channel);
        resolve(channel);
      });
    });
  }

  /** Opens a TCP channel from this host to host:port (what `ssh -J` does through a bastion). */
  async forwardTcp(host: string, port: number, signal?: AbortSignal): Promise<Duplex> {
    const client = await this.connection(signal);
    return new Promise<Duplex>((resolve, reject) => {
      client.forwardOut('127.0.0.1', 0, host, port, (err: Error | undefined, ch: ClientChannel) => {
        if (err) {
          reject(
            new SshConnectError(this.name, `cannot reach ${host}:${port} from this bastion: ${err.message}`, {
              retriable: true,
              cause: err,
            }),
          );
        } else {
          resolve(ch);
        }
      });
    });
  }

  private exec(
    client: Client,
    argv: readonly string[],
    command: string,
    options: RunOptions,
  ): Promise<RunResult> {
    const max = options.maxOutputBytes ?? 1024 * 1024;
    const timeoutMs = options.timeoutMs ?? 120_000;
    return new Promise<RunResult>((resolve, reject) => {
      const refused = (err: Error): Error => {
        if (this.client === client) this.client = undefined;
        return new SshConnectError(this.name, `cannot open a channel: ${err.message}`, {
          retriable: true,
          cause: err,
        });
      };
      // Listeners go on in the open callback itself: ssh2 may deliver the command's output,
      // exit status and close in the same turn as the channel's confirmation.
      const use = (stream: ClientChannel): void => {
        const out = new CappedBuffer(max);
        const errOut = new CappedBuffer(max);
        let exitCode: number | undefined;
        const { finish } = settleOnce({
          timeoutMs,
          onTimeout: () => {
            stream.close();
            finish(() => reject(new SshTimeoutError(this.name, `'${argv[0] ?? ''}'`, timeoutMs)));
          },
          signal: options.signal,
          onAbort: () => {
            stream.close();
            finish(() => reject(options.signal?.reason as Error));
          },
        });
        stream.on('data', (d: Buffer) => out.push(d));
        stream.stderr.on('data', (d: Buffer) => errOut.push(d));
        stream.on('exit', (code: number | null) => {
          exitCode = code ?? 255;
        });
        stream.on('close', () => {
          finish(() => {
            if (exitCode === undefined) {
              reject(
                new SshConnectError(this.name, `connection lost while running '${argv[0] ?? ''}'`, {
                  retriable: false,
                }),
              );
              return;
            }
            const result: RunResult = {
              stdout: out.text(),
              stderr: errOut.text(),
              exitCode,
              truncated: out.truncated || errOut.truncated,
            };
            if (exitCode !== 0 && options.check !== false) {
              reject(new SshCommandError(this.name, argv, exitCode, result.stderr));
            } else {
              resolve(result);
            }
          });
        });
        stream.on('error', (e: Error) =>
          finish(() => reject(new SshConnectError(this.name, e.message, { retriable: false, cause: e }))),
        );
        if (options.stdin !== undefined) stream.end(options.stdin);
        else stream.end();
      };
      this.openChannel(
        client,
        `a channel for '${argv[0] ?? ''}'`,
        (cb) => client.exec(command, cb),
        refused,
        use,
      ).catch(reject);
    });
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    c?.end();
    const j = this.jumpHost;
    this.jumpHost = undefined;
    await j?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
