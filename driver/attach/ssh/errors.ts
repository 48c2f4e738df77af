import { NfsvolError } from '../../common/errors.js';

/**
 * A command on a host ran and exited non-zero, however it was run (over SSH, or on this
 * machine): callers that judge a command's failure catch this.
 */
export class HostCommandError extends NfsvolError {
  readonly host: string;
  readonly exitCode: number;
  readonly stderr: string;
  readonly argv: readonly string[];
  constructor(
    code: 'SSH_COMMAND_FAILED' | 'LOCAL_COMMAND_FAILED',
    host: string,
    argv: readonly string[],
    exitCode: number,
    stderr: string,
  ) {
    const detail = stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 500);
    super(
      code,
      `${host}: '${argv.slice(0, 3).join(' ')}' exited with ${exitCode}${detail ? `: ${detail}` : ''}`,
    );
    this.host = host;
    this.exitCode = exitCode;
    this.stderr = stderr;
    this.argv = argv;
  }
}

/** A remote command ran over SSH and exited non-zero. */
export class SshCommandError extends HostCommandError {
  constructor(host: string, argv: readonly string[], exitCode: number, stderr: string) {
    super('SSH_COMMAND_FAILED', host, argv, exitCode, stderr);
  }
}

/** A command run on this machine (a host-local attacher) exited non-zero. */
export class LocalCommandError extends HostCommandError {
  constructor(host: string, argv: readonly string[], exitCode: number, stderr: string) {
    super('LOCAL_COMMAND_FAILED', host, argv, exitCode, stderr);
  }
}

/** Could not connect or authenticate; `retriable` for network failures, not for auth. */
export class SshConnectError extends NfsvolError {
  readonly host: string;
  constructor(host: string, message: string, options: { retriable: boolean; cause?: unknown }) {
    super(options.retriable ? 'HOST_UNREACHABLE' : 'SSH_CONNECT_FAILED', `${host}: ${message}`, options);
    this.host = host;
  }
}

export class SshTimeoutError extends NfsvolError {
  readonly host: string;
  constructor(host: string, what: string, ms: number) {
    super('SSH_TIMEOUT', `${host}: ${what} timed out after ${ms} ms`, { retriable: false });
    this.host = host;
  }
}

/** The host presented a key different from the pinned one: possibly a man in the middle. */
export class HostKeyMismatchError extends NfsvolError {
  readonly host: string;
  readonly expected: string;
  readonly actual: string;
  constructor(host: string, expected: string, actual: string) {
    super(
      'HOST_KEY_MISMATCH',
      `${host}: host key changed! expected ${expected}, got ${actual}; refusing to connect (if the host was reinstalled, 'nfsvol host rm' and add it again)`,
    );
    this.host = host;
    this.expected = expected;
    this.actual = actual;
  }
}

/** The host's key is not known and pinning a new one was not asked for. */
export class HostKeyUnknownError extends NfsvolError {
  readonly host: string;
  readonly fingerprint: string;
  constructor(host: string, fingerprint: string, knownHostsFile: string) {
    super(
      'HOST_KEY_UNKNOWN',
      `${host}: host key ${fingerprint} is not in ${knownHostsFile}; verify it and pass --accept-new-host-key to pin it`,
    );
    this.host = host;
    this.fingerprint = fingerprint;
  }
}

/**
 * A host record names a key that this machine's known_hosts files do not list for that address.
 * Records live on the export, which others can write: a record alone never earns a connection
 * with this user's credentials.
 */
export class HostUntrustedError extends NfsvolError {
  readonly host: string;
  readonly fingerprint: string;
  constructor(host: string, fingerprint: string, knownHostsName: string, why: string) {
    super(
      'HOST_UNTRUSTED',
      `${host}: its registered key ${fingerprint} for ${knownHostsName} ${why}; if that is the host's key, run 'nfsvol host trust ${host}'`,
    );
    this.host = host;
    this.fingerprint = fingerprint;
  }
}
