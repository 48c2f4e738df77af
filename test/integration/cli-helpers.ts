import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'cli', 'main.ts');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

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

/** Fails a test with the CLI's own output when the exit code is not the expected one. */
export function expectCode(r: CliResult, code: number, what: string): void {
  if (r.code !== code) {
    throw new Error(
      `${what}: expected exit ${code}, got ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
    );
  }
}
