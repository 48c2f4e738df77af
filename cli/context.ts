import {
  Cluster,
  type ClusterOptions,
  loadConfig,
  resolveConfigPath,
  type LocalConfig,
  NfsvolError,
  categoryOf,
  debugEnabled,
  type ErrorCategory,
  type ProgressEvent,
  type SshLocalOptions,
} from '../driver/index.js';
import { ProgressDisplay, type ProgressClock } from './progress.js';

/** Where the CLI writes, and the environment it reads. Injectable so tests run it in-process. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Standard input, for `--from -`. @default process.stdin */
  readonly stdin?: () => AsyncIterable<Uint8Array>;
  /**
   * Aborted when whoever reads stdout has gone (`nfsvol volume ls | head -1`): listings stop
   * there. Commands that change things finish what they do; only their output is lost.
   */
  readonly stdoutClosed?: AbortSignal;
  /** stderr when it is a terminal: bulk commands draw a progress bar on it. */
  readonly stderrTty?: NodeJS.WriteStream | undefined;
  /** Time for the progress display. @default the system's */
  readonly clock?: ProgressClock;
  /**
   * Asks the user a question and returns the answer line, or undefined when there is no one to
   * ask (standard input is not a terminal). @default a prompt on the terminal, if there is one
   */
  readonly ask?: (question: string) => Promise<string | undefined>;
}

export interface CliDeps {
  readonly io: CliIo;
  /** Overrides for the driver (fake NFS and hosts in tests). */
  readonly cluster?: ClusterOptions;
  /** Help text width. @default the terminal's, at most 110 */
  readonly width?: number;
  /** Aborted when the user interrupts (Ctrl-C): commands stop starting new work. */
  readonly signal?: AbortSignal;
}

/** Options every command accepts. */
export interface GlobalArgs {
  readonly config?: string | undefined;
  readonly json?: boolean | undefined;
  readonly quiet?: boolean | undefined;
  readonly verbose?: boolean | undefined;
  readonly debug?: boolean | undefined;
}

/**
 * Makes text safe for a terminal: control characters other than newline and tab (ESC, C1
 * controls such as CSI, DEL) are shown escaped. Hosts' output reaches messages, and a host must
 * not be able to drive the user's terminal.
 */
export function safeText(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export const EXIT = { ok: 0, failed: 1, usage: 2, partial: 3, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A command line that cannot be run as given (exit 2). */
export class UsageError extends NfsvolError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** What one command invocation shares: flags, output, and the exit code it settles on. */
export class CommandRun {
  exitCode: ExitCode = EXIT.ok;
  private display: ProgressDisplay | undefined;
  private planned: { doing: string; did: string; total: number } | undefined;
  constructor(
    readonly deps: CliDeps,
    readonly args: GlobalArgs,
  ) {}

  /** Aborted on Ctrl-C; hand it to every long operation. */
  get signal(): AbortSignal | undefined {
    return this.deps.signal;
  }

  /** Whether stdout's reader has gone: a listing stops, nobody reads the rest. */
  get outputGone(): boolean {
    return this.deps.io.stdoutClosed?.aborted === true;
  }

  get json(): boolean {
    return this.args.json === true;
  }

  configPath(): string {
    return resolveConfigPath({ flag: this.args.config, env: this.deps.io.env });
  }

  loadConfig(): Promise<LocalConfig> {
    return loadConfig(this.configPath());
  }

  /** Prints a result: JSON with --json, else the text `render` makes. */
  result(value: unknown, render: () => string): void {
    this.stopProgress();
    if (this.json) {
      this.deps.io.stdout(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
    } else if (!this.args.quiet) {
      const text = safeText(render());
      if (text !== '') this.deps.io.stdout(text.endsWith('\n') ? text : `${text}\n`);
    }
  }

  /**
   * Counts per-volume progress of a bulk operation of `total` volumes on stderr (a bar on a
   * terminal, a line every few seconds elsewhere): not with --quiet or --json, whose readers want
   * no chatter, nor with --verbose, which prints a line per volume instead. The display starts
   * with the first volume done (`rm` first takes the definitions off the hosts).
   */
  startProgress(doing: string, did: string, total: number): void {
    this.stopProgress();
    // A trace writes lines between the bar's redraws: no bar then.
    if (this.args.quiet || this.json || this.args.verbose || debugEnabled()) return;
    this.planned = { doing, did, total };
  }

  /** Ends the progress display, if any: when the command prints its result, or ends. */
  stopProgress(): void {
    this.endDisplay();
    this.planned = undefined;
  }

  /** Another line is printed: a display shown so far ends first, its last state kept. */
  private endDisplay(): void {
    if (!this.display) return;
    this.display.stop();
    this.display = undefined;
    this.planned = undefined;
  }

  /** A progress line on stderr (never with --quiet; per-volume lines only with --verbose). */
  progress = (e: ProgressEvent): void => {
    if (e.volume !== undefined && e.host === undefined && (this.display || this.planned)) {
      if (!this.display && this.planned) {
        const { doing, did, total } = this.planned;
        this.display = new ProgressDisplay(doing, did, total, {
          tty: this.deps.io.stderrTty,
          line: this.deps.io.stderr,
          ...(this.deps.io.clock ? { clock: this.deps.io.clock } : {}),
        });
      }
      this.display?.tick();
      return;
    }
    if (this.args.quiet) return;
    if ((e.host === undefined || e.detail) && !this.args.verbose) return;
    const who = e.host ? `${e.host}: ` : e.volume ? `${e.volume}: ` : '';
    this.endDisplay();
    this.deps.io.stderr(safeText(`nfsvol: ${who}${e.message}`) + '\n');
  };

  /**
   * What went wrong for some hosts or volumes. Normal output already lists it; with --quiet it
   * still goes to stderr ("nothing but errors"), so a timer's journal says why a run was partial.
   */
  problems(lines: readonly string[]): void {
    if (!this.args.quiet || this.json) return;
    for (const l of lines) this.deps.io.stderr(`${safeText(`nfsvol: ${l}`)}\n`);
  }

  note(text: string): void {
    this.stopProgress();
    if (!this.args.quiet && !this.json) this.deps.io.stderr(`${safeText(`nfsvol: ${text}`)}\n`);
  }

  /** This machine's ssh settings for the cluster: the config's, then the environment's. */
  sshOptions(config: LocalConfig): SshLocalOptions {
    const env = this.deps.io.env;
    return {
      ...(env['HOME'] ? { home: env['HOME'] } : {}),
      agent: env['SSH_AUTH_SOCK'] || null,
      ...(config.knownHosts === undefined ? {} : { knownHosts: config.knownHosts }),
      ...(config.hosts === undefined ? {} : { hosts: config.hosts }),
      ...this.deps.cluster?.ssh,
    };
  }

  /** Opens the configured cluster, runs `fn`, closes it. */
  async withCluster<T>(
    fn: (cluster: Cluster, config: LocalConfig) => Promise<T>,
    more: Pick<ClusterOptions, 'self'> = {},
  ): Promise<T> {
    const config = await this.loadConfig();
    const cluster = await Cluster.open(config.url, {
      ...this.deps.cluster,
      ssh: this.sshOptions(config),
      progress: this.progress,
      ...more,
    });
    try {
      if (cluster.id !== config.clusterId) {
        throw new NfsvolError(
          'CLUSTER_MISMATCH',
          `${config.url} holds cluster ${cluster.id}, but ${this.configPath()} is for cluster ${config.clusterId}`,
        );
      }
      return await fn(cluster, config);
    } finally {
      await cluster.close().catch(() => undefined);
    }
  }

  /** Keeps the worst outcome seen: failed over partly done over done. */
  settle(code: ExitCode): void {
    const rank = (c: ExitCode): number =>
      c === EXIT.interrupted ? 4 : c === EXIT.failed ? 3 : c === EXIT.usage ? 2 : c === EXIT.partial ? 1 : 0;
    if (rank(code) > rank(this.exitCode)) this.exitCode = code;
  }
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * The exit status of each error category: 2 when the invocation itself is wrong, 130 when the
 * user stopped it, 1 for everything that went wrong while doing the work.
 */
const EXIT_OF_CATEGORY: Readonly<Record<ErrorCategory, ExitCode>> = {
  usage: EXIT.usage,
  unsupported: EXIT.failed,
  'not-found': EXIT.failed,
  conflict: EXIT.failed,
  unavailable: EXIT.failed,
  permission: EXIT.failed,
  corrupt: EXIT.failed,
  interrupted: EXIT.interrupted,
  internal: EXIT.failed,
};

/** Exit code for an error that ended a command: from its category, never from its text. */
export function exitCodeOf(err: unknown): ExitCode {
  return EXIT_OF_CATEGORY[categoryOf(err)];
}

/** `nfsvol: <message> (<code>)`, and with --verbose the chain of causes. */
export function formatError(err: unknown, verbose: boolean): string {
  const code = err instanceof NfsvolError ? err.code : 'INTERNAL';
  const message = err instanceof Error ? err.message : String(err);
  let out = `${safeText(`nfsvol: ${message} (${code})`)}\n`;
  if (verbose) {
    let cause: unknown = err instanceof Error ? err.cause : undefined;
    for (let depth = 0; cause !== undefined && depth < 8; depth++) {
      const c = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
      out += `  caused by: ${safeText(c)}\n`;
      cause = cause instanceof Error ? cause.cause : undefined;
    }
    if (err instanceof Error && err.stack && !(err instanceof NfsvolError)) out += `${err.stack}\n`;
  }
  return out;
}
