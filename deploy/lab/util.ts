import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { LabCommandError, LabError, LabNotReadyError } from './errors.js';

/**
 * deploy/lab/ in a checkout, dist/deploy/lab/ in the installed package: the scripts the lab runs
 * (build.sh, reap.sh, nfs/, vm/) sit beside its modules in both.
 */
export const labDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(labDir, '..', '..');

/**
 * True when the lab runs compiled, from the package (nfsvol/testing, installed or linked with
 * `file:`), not from a checkout's TypeScript.
 */
export const installed = !fileURLToPath(import.meta.url).endsWith('.ts');

/**
 * Where built images and run state live: $NFSVOL_LAB_CACHE; else <repo>/.lab-cache in a checkout;
 * else, from the package, $XDG_CACHE_HOME/nfsvol-lab (~/.cache/nfsvol-lab): never inside
 * node_modules, so a reinstall keeps the images and several projects share them.
 */
export function labCacheDir(): string {
  const fromEnv = process.env['NFSVOL_LAB_CACHE'];
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  if (!installed) return resolve(repoRoot, '.lab-cache');
  const xdg = process.env['XDG_CACHE_HOME'];
  const base = xdg !== undefined && xdg !== '' ? resolve(xdg) : join(homedir(), '.cache');
  return join(base, 'nfsvol-lab');
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv (no shell) and resolves with its output; rejects with LabCommandError on failure. */
export function run(
  argv: readonly string[],
  opts: { readonly cwd?: string; readonly input?: string; readonly timeoutMs?: number } = {},
): Promise<RunResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new LabError('INVALID_OPTION', 'run: empty argv');
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error !== null) {
          const code = typeof error.code === 'number' ? error.code : null;
          reject(new LabCommandError(argv, code, stderr || error.message, { cause: error }));
        } else {
          resolvePromise({ stdout, stderr });
        }
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the kernel picked it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() =>
        port > 0 ? resolvePromise(port) : reject(new LabError('INVALID_OPTION', 'no port')),
      );
    });
  });
}

/**
 * Polls `probe` until it returns a value other than undefined, or throws LabNotReadyError after
 * `timeoutMs`. `probe` may throw: the error is remembered as the detail and polling goes on, unless
 * `fatal` says it is final. The pause between polls is a poll interval, not a guess at a duration.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  opts: {
    readonly timeoutMs: number;
    readonly intervalMs?: number;
    readonly fatal?: () => LabError | undefined;
    readonly signal?: AbortSignal;
  },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let detail: string;
  let lastError: unknown;
  for (;;) {
    opts.signal?.throwIfAborted();
    const fatal = opts.fatal?.();
    if (fatal !== undefined) throw fatal;
    try {
      const value = await probe();
      if (value !== undefined) return value;
      detail = 'probe said not yet';
    } catch (error) {
      lastError = error;
      detail = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline)
      throw new LabNotReadyError(what, opts.timeoutMs, detail, { cause: lastError });
    await delay(opts.intervalMs ?? 200, undefined, { signal: opts.signal });
  }
}

export type BuildTarget = 'nfs' | 'vm' | 'all';

/**
 * Runs deploy/lab/build.sh (a no-op check when the cache is current). Its progress lines go to
 * `onProgress` (default: stderr).
 */
export function buildImages(
  target: BuildTarget,
  opts: { readonly onProgress?: (line: string) => void } = {},
): Promise<void> {
  const onProgress = opts.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const argv = ['bash', resolve(labDir, 'build.sh'), target];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0] ?? 'bash', argv.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NFSVOL_LAB_CACHE: labCacheDir() },
    });
    let tail = '';
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim() !== '') onProgress(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) =>
      reject(new LabError('BUILD_FAILED', `cannot run build.sh: ${error.message}`)),
    );
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else reject(new LabCommandError(argv, code, tail));
    });
  });
}
