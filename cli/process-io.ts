import type { CliIo } from './context.js';

/**
 * The CLI's standard streams and environment, as a process has them.
 *
 * A reader that stops reading (`nfsvol volume ls | head -1`) closes the pipe, and the next write
 * fails with EPIPE: that is no error of nfsvol's. Output to a closed stream is dropped, without a
 * stack trace; a listing stops there (exit 0), and a command that changes things still finishes,
 * its exit code still saying how it went.
 */
export function processIo(): CliIo {
  const stdoutClosed = new AbortController();
  let stderrClosed = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stdoutClosed.abort();
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stderrClosed = true;
  });
  return {
    stdout: (t) => {
      if (!stdoutClosed.signal.aborted) process.stdout.write(t);
    },
    stderr: (t) => {
      if (!stderrClosed) process.stderr.write(t);
    },
    env: process.env,
    stdoutClosed: stdoutClosed.signal,
    stderrTty: process.stderr.isTTY ? process.stderr : undefined,
  };
}
