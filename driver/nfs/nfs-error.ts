import { NfsvolError, isErrorCode, type NfsvolErrorOptions } from '../common/errors.js';

/** Status names come from the protocols' tables; anything else is the peer breaking protocol. */
const codeOf = (status: string) => (isErrorCode(status) ? status : 'NFS_PROTOCOL');

/**
 * The server answered an NFS call with a status other than OK. `status` is the protocol's name
 * for it (`NFS3ERR_EXIST`), `op` the procedure and `path` the export-relative path involved.
 */
export class NfsError extends NfsvolError {
  readonly status: string;
  readonly op: string;
  readonly path: string;

  constructor(
    status: string,
    op: string,
    path: string,
    options: NfsvolErrorOptions & { hint?: string } = {},
  ) {
    super(codeOf(status), `${op} ${path}: ${status}${options.hint ? ` (${options.hint})` : ''}`, options);
    this.status = status;
    this.op = op;
    this.path = path;
  }
}

/** The MOUNT service refused the export, or could not be reached to ask. */
export class MountError extends NfsvolError {
  readonly status: string;
  readonly exportPath: string;

  constructor(status: string, exportPath: string, message: string, options: NfsvolErrorOptions = {}) {
    super(codeOf(status), message, options);
    this.status = status;
    this.exportPath = exportPath;
  }
}
