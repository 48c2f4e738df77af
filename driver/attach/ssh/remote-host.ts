import type { Duplex } from 'node:stream';

/** Options for one remote command. */
export interface RunOptions {
  /** Bytes written to the command's stdin, then EOF. @default none */
  readonly stdin?: string | Uint8Array;
  /** Kill the command (close its channel) after this long. @default 120_000 */
  readonly timeoutMs?: number;
  /** Captured bytes kept per stream; the rest is dropped and `truncated` set. @default 1 MiB */
  readonly maxOutputBytes?: number;
  /** Throw SshCommandError on a non-zero exit. @default true */
  readonly check?: boolean;
  readonly signal?: AbortSignal;
}

export interface RunResult {
  /** Output decoded as UTF-8; invalid sequences become U+FFFD. */
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
  /** True when stdout or stderr exceeded `maxOutputBytes` and was cut. */
  readonly truncated: boolean;
}

/**
 * A machine nfsvol runs commands on. Commands are argument vectors, never shell strings: the
 * implementation quotes every element. Output from a host is untrusted and size-capped.
 */
export interface RemoteHost extends AsyncDisposable {
  readonly name: string;
  run(argv: readonly string[], options?: RunOptions): Promise<RunResult>;
  /**
   * Opens a stream to a Unix socket on the host (SSH direct-streamlocal forwarding), when the
   * transport supports it. Used to speak the Docker Engine API without starting `docker`.
   */
  connectUnixSocket?(path: string, signal?: AbortSignal): Promise<Duplex>;
  close(): Promise<void>;
}
