// Running the CLI in tests, two ways, one result: in-process over a fake cluster (fast, every
// fake inspectable), or as a real process with a user's own HOME (against the lab).
import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../cli/app.js';
import type { CliIo } from '../../cli/context.js';
import {
  FAKE_URL,
  fakeCluster,
  fakeHostAddress,
  type FakeCluster,
  type FakeClusterOptions,
} from '../fakes/fake-cluster.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'cli', 'main.ts');

/** What one run of the CLI did: its exit code and everything it wrote. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Fails a test with the CLI's own output when the exit code is not the expected one. */
export function expectCode(r: CliResult, code: number, what: string): void {
  if (r.code !== code) {
    throw new Error(
      `${what}: expected exit ${code}, got ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// In-process, over a fake cluster

/** What a test may add to a run: a terminal, a clock, a closed stdout, an environment, stdin, Ctrl-C. */
export type IoExtras = Partial<Pick<CliIo, 'stderrTty' | 'clock' | 'stdoutClosed' | 'env' | 'stdin'>> & {
  /** Called with each chunk written to stdout, as it is written. */
  readonly onStdout?: (text: string) => void;
  /** Aborted to interrupt the command, as Ctrl-C does in cli/main.ts. */
  readonly signal?: AbortSignal;
};

/** The CLI in-process over a fake cluster: the fakes to inspect and change, and runs of the CLI. */
export interface FakeClusterCli extends FakeCluster {
  /** The CLI's config file (NFSVOL_CONFIG of every run). */
  readonly config: string;
  readonly cli: (...args: string[]) => Promise<CliResult>;
  readonly cliWith: (extras: IoExtras, ...args: string[]) => Promise<CliResult>;
}

/** The CLI in-process over a fake cluster, not yet initialised: no config, an empty export. */
export async function fakeClusterCli(options: FakeClusterOptions = {}): Promise<FakeClusterCli> {
  const fake = await fakeCluster(options);
  const config = join(fake.dir, 'config.json');
  const cliWith = async (extras: IoExtras, ...args: string[]): Promise<CliResult> => {
    let stdout = '';
    let stderr = '';
    const { onStdout, env, signal, ...io } = extras;
    const code = await runCli(args, {
      ...(signal ? { signal } : {}),
      io: {
        stdout: (t) => {
          stdout += t;
          onStdout?.(t);
        },
        stderr: (t) => (stderr += t),
        env: { NFSVOL_CONFIG: config, ...env },
        ...io,
      },
      cluster: fake.cliOptions,
    });
    return { code, stdout, stderr };
  };
  const cli = (...args: string[]): Promise<CliResult> => cliWith({}, ...args);
  return { ...fake, config, cli, cliWith };
}

/**
 * The CLI in-process over a fake cluster, set up through the CLI itself: `init` with NFSv3, then
 * every fake host added as h1, h2, ... with its key accepted into the fixture's known_hosts. A
 * step that fails (or says anything on stderr) throws with the CLI's output.
 */
export async function initialisedCli(options: FakeClusterOptions = {}): Promise<FakeClusterCli> {
  const s = await fakeClusterCli(options);
  expectCode(await s.cli('init', FAKE_URL, '--nfs-version', '3', '-q'), 0, 'init');
  for (let i = 1; i <= s.hosts.size; i++) {
    const r = await s.cli(
      'host',
      'add',
      `h${i}`,
      '--ssh',
      `root@${fakeHostAddress(i)}`,
      '--known-hosts',
      s.knownHosts,
      '--accept-new-host-key',
      '--quiet',
    );
    expectCode(r, 0, `host add h${i}`);
    if (r.stderr !== '') throw new Error(`host add h${i} said on stderr:\n${r.stderr}`);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// As a process

/** A user's machine: its own HOME and config file, running the real CLI as a process. */
export interface CliUser {
  readonly home: string;
  readonly config: string;
  run(args: readonly string[], options?: { readonly timeoutMs?: number }): Promise<CliResult>;
  /** Starts the CLI and hands back its process (to signal it) with its result to come. */
  start(args: readonly string[]): { readonly child: ChildProcess; readonly done: Promise<CliResult> };
}

export async function cliUser(): Promise<CliUser> {
  const home = await mkdtemp(join(tmpdir(), 'nfsvol-user-'));
  const config = join(home, '.config', 'nfsvol', 'config.json');
  const start = (
    args: readonly string[],
    options: { readonly timeoutMs?: number } = {},
  ): { child: ChildProcess; done: Promise<CliResult> } => {
    let child!: ChildProcess;
    const done = new Promise<CliResult>((resolve) => {
      child = execFile(
        process.execPath,
        ['--import', 'tsx', MAIN, ...args],
        {
          cwd: ROOT,
          env: { ...process.env, HOME: home, NFSVOL_CONFIG: '', SSH_AUTH_SOCK: '' },
          timeout: options.timeoutMs ?? 240_000,
          maxBuffer: 64 * 1024 * 1024,
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
    });
    return { child, done };
  };
  return { home, config, run: (args, options) => start(args, options).done, start };
}
