import { NfsvolError, type NfsvolErrorOptions } from '../../common/errors.js';

export type RpcErrorCode =
  /** The server replied MSG_DENIED or an accept_stat other than SUCCESS. */
  | 'RPC_PROG_UNAVAIL'
  | 'RPC_PROG_MISMATCH'
  | 'RPC_PROC_UNAVAIL'
  | 'RPC_GARBAGE_ARGS'
  | 'RPC_SYSTEM_ERR'
  | 'RPC_MISMATCH'
  | 'RPC_AUTH_ERROR'
  /** The reply bytes do not form a valid RPC message or record. */
  | 'RPC_PROTOCOL'
  | 'RPC_RECORD_TOO_LARGE'
  /** Transport: connect failed, connection lost, call timed out, client closed. */
  | 'RPC_CONNECT'
  | 'RPC_CONNECTION_LOST'
  | 'RPC_TIMEOUT'
  | 'RPC_CLOSED'
  | 'RPC_ABORTED';

/** An ONC RPC (RFC 5531) failure: a rejected call, a malformed reply or a transport failure. */
export class RpcError extends NfsvolError {
  declare readonly code: RpcErrorCode;
  /** For RPC_AUTH_ERROR: the auth_stat name, e.g. AUTH_TOOWEAK. */
  readonly authStat: string | undefined;

  constructor(code: RpcErrorCode, message: string, options: NfsvolErrorOptions & { authStat?: string } = {}) {
    super(code, message, options);
    this.authStat = options.authStat;
  }
}

/** The call got no reply within its timeout. The connection stays up; the call may be retried. */
export class RpcTimeoutError extends RpcError {
  constructor(message: string) {
    super('RPC_TIMEOUT', message, { retriable: true });
  }
}
