import type { Duplex } from 'node:stream';
import { NfsvolError } from '../../common/errors.js';
import type { RemoteHost, RunOptions, RunResult } from './remote-host.js';

/**
 * A RemoteHost opened on first use by an async step (reading the local ssh settings, checking
 * that this machine vouches for the host's key). If that step fails, every use fails with its
 * error and nothing is opened.
 */
export class DeferredHost implements RemoteHost {
  private inner: Promise<RemoteHost> | undefined;

  constructor(
    readonly name: string,
    private readonly open: () => Promise<RemoteHost>,
  ) {}

  private host(): Promise<RemoteHost> {
    this.inner ??= this.open();
    return this.inner;
  }

  async run(argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    return (await this.host()).run(argv, options);
  }

  async connectUnixSocket(path: string, signal?: AbortSignal): Promise<Duplex> {
    const h = await this.host();
    if (!h.connectUnixSocket) {
      throw new NfsvolError('SSH_CHANNEL_REFUSED', `${this.name}: this transport cannot forward ${path}`);
    }
    return h.connectUnixSocket(path, signal);
  }

  async close(): Promise<void> {
    const p = this.inner;
    this.inner = undefined;
    await p?.then(
      (h) => h.close(),
      () => undefined,
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
