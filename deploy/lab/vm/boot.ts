// Waiting for a booting VM to be usable: sshd answering and dockerd serving its API.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError, LabNotReadyError } from '../errors.js';
import { pollUntil } from '../util.js';
import type { ExecOptions, ExecResult } from './ssh.js';

/**
 * Runs in the VM: waits (bounded, 60 s) for the Docker API socket, then asks `docker info`. Each
 * docker CLI run costs the emulated CPU about a second, which dockerd's own start-up needs, so
 * dockerd is waited for in the guest rather than polled from here.
 */
const WAIT_FOR_DOCKERD =
  'i=0; while [ ! -S /var/run/docker.sock ] && [ $i -lt 600 ]; do i=$((i+1)); sleep 0.1; done; ' +
  'docker info --format "{{.ServerVersion}}"';

export interface BootingVm {
  readonly name: string;
  readonly dir: string;
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Why qemu is gone, or undefined while it runs: a VM that died will not come up. */
  exitInfo(): string | undefined;
}

/** The last lines of one of the VM's logs (console.log, qemu.log), or '' before it exists. */
export function logTail(dir: string, file: string, lines: number): string {
  const path = join(dir, file);
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n') : '';
}

/** Resolves when sshd and dockerd answer; fails at once if qemu exits, or after timeoutMs. */
export async function waitForBoot(vm: BootingVm, timeoutMs: number): Promise<void> {
  await pollUntil(
    `lab host ${vm.name} (sshd + dockerd)`,
    async () => {
      const result = await vm.exec(['sh', '-c', WAIT_FOR_DOCKERD], { timeoutMs: 90_000 });
      return result.code === 0 ? true : undefined;
    },
    {
      timeoutMs,
      intervalMs: 250,
      fatal: () => {
        const exitInfo = vm.exitInfo();
        if (exitInfo === undefined) return undefined;
        return new LabError(
          'VM_EXITED',
          `${vm.name}: ${exitInfo} while booting; qemu:\n${logTail(vm.dir, 'qemu.log', 5)}\nconsole:\n${logTail(vm.dir, 'console.log', 15)}`,
        );
      },
    },
  ).catch((err: unknown) => {
    // What the guest said (its init reports sshd and dockerd on the console) is the only clue.
    if (!(err instanceof LabNotReadyError)) throw err;
    throw new LabNotReadyError(
      err.what,
      err.timeoutMs,
      `${err.detail}; console:\n${logTail(vm.dir, 'console.log', 15)}`,
      { cause: err.cause },
    );
  });
}
