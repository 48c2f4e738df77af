// A VM's qemu process: started, watched and killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { LabSession } from '../session.js';

export class QemuProcess {
  private exitReason: string | undefined;
  /** Resolves once qemu has exited (or failed to start). */
  readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolvePromise) => {
      child.once('exit', (code, signal) => {
        this.exitReason = `qemu exited (${signal ?? `code ${code}`})`;
        resolvePromise();
      });
      child.once('error', (error) => {
        this.exitReason = `qemu did not start: ${error.message}`;
        resolvePromise();
      });
    });
  }

  /**
   * Starts qemu with its output appended to <dir>/qemu.log. In a test process, qemu dies with the
   * process that started it (PR_SET_PDEATHSIG via setpriv), so a killed test run leaves no VM. In
   * a persistent session (lab:up), qemu is detached and outlives the CLI.
   */
  static start(argv: readonly string[], dir: string, session: LabSession): QemuProcess {
    const command = session.persistent ? argv : ['setpriv', '--pdeathsig', 'KILL', '--', ...argv];
    const logFd = openSync(join(dir, 'qemu.log'), 'a');
    let child: ChildProcess;
    try {
      child = spawn(command[0] ?? 'qemu-system-x86_64', command.slice(1), {
        cwd: dir,
        stdio: ['ignore', logFd, logFd],
        detached: session.persistent,
      });
    } finally {
      closeSync(logFd);
    }
    const qemu = new QemuProcess(child);
    if (session.persistent) child.unref();
    else session.track(child);
    return qemu;
  }

  /** Why qemu is gone; undefined while it runs. */
  get exitInfo(): string | undefined {
    return this.exitReason;
  }

  /** SIGKILL: the guest gets no chance to flush its caches, as on a real power cut. */
  async kill(): Promise<void> {
    if (this.exitReason !== undefined) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}
