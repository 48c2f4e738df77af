import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { NfsvolError } from '../common/errors.js';
import { CappedBuffer } from './ssh/capped-buffer.js';
import { LocalCommandError } from './ssh/errors.js';
import type { RemoteHost, RunOptions, RunResult } from './ssh/remote-host.js';

/**
 * The machine nfsvol runs on, as a host: what a host-local front end (the Docker volume plugin,
 * which mounts on its own host) hands to the same functions the SSH path uses. Commands are
 * argument vectors run without a shell; output is capped like a remote host's.
 */
export class LocalHost implements RemoteHost {
  constructor(readonly name: string) {}

  run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    const [file, ...args] = argv;
    if (file === undefined) return Promise.reject(new NfsvolError('INTERNAL', 'an empty command'));
    const timeoutMs = options.timeoutMs ?? 120_000;
    const max = options.maxOutputBytes ?? 1024 * 1024;
    const check = options.check ?? true;
    return new Promise<RunResult>((resolve, reject) => {
      const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], signal: options.signal });
      const stdout = new CappedBuffer(max);
      const stderr = new CappedBuffer(max);
      child.stdout.on('data', (b: Buffer) => stdout.push(b));
      child.stderr.on('data', (b: Buffer) => stderr.push(b));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(
          err.name === 'AbortError'
            ? err
            : new NfsvolError(
                'LOCAL_COMMAND_FAILED',
                `${this.name}: '${file}' could not run: ${err.message}`,
                {
                  cause: err,
                },
              ),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) {
          reject(
            new NfsvolError(
              'LOCAL_COMMAND_TIMEOUT',
              `${this.name}: '${file}' timed out after ${timeoutMs} ms`,
            ),
          );
          return;
        }
        // Killed by a signal: reported as a shell would, 128 + the signal's number.
        const exitCode = code ?? 128 + (signal ? signalNumber(signal) : 0);
        const result: RunResult = {
          stdout: stdout.text(),
          stderr: stderr.text(),
          exitCode,
          truncated: stdout.truncated || stderr.truncated,
        };
        if (check && exitCode !== 0) reject(new LocalCommandError(this.name, argv, exitCode, result.stderr));
        else resolve(result);
      });
      child.stdin.on('error', () => undefined); // a command that exits without reading its input
      child.stdin.end(options.stdin === undefined ? undefined : Buffer.from(options.stdin));
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

const signalNumber = (signal: NodeJS.Signals): number => constants.signals[signal] ?? 0;
