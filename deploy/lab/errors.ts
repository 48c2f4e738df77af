/** Why a lab operation failed. Stable strings: tests and the CLI may switch on them. */
export type LabErrorCode =
  | 'INVALID_OPTION'
  | 'BUILD_FAILED'
  | 'COMMAND_FAILED'
  | 'NOT_READY'
  | 'RPC_ERROR'
  | 'VM_EXITED'
  | 'QMP_ERROR'
  | 'SSH_ERROR'
  | 'STOPPED';

export class LabError extends Error {
  override readonly name: string = 'LabError';
  constructor(
    readonly code: LabErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A command run by the lab on this machine (docker, qemu-img, ssh-keygen, build.sh) failed. */
export class LabCommandError extends LabError {
  override readonly name = 'LabCommandError';
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    options?: { cause?: unknown },
  ) {
    super(
      'COMMAND_FAILED',
      `${argv.join(' ')} exited with ${exitCode ?? 'a signal'}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`,
      options,
    );
  }
}

/** A lab resource did not become ready in time; `detail` says what was last seen. */
export class LabNotReadyError extends LabError {
  override readonly name = 'LabNotReadyError';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super('NOT_READY', `${what} not ready after ${timeoutMs} ms: ${detail}`, options);
  }
}
