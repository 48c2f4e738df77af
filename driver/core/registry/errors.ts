import { NfsvolError } from '../../common/errors.js';

/** A registry record (or the local config) that cannot be parsed or lacks required fields. */
export class CorruptRecordError extends NfsvolError {
  readonly file: string;
  constructor(file: string, reason: string, cause?: unknown) {
    super('REGISTRY_CORRUPT', `${file} is corrupt: ${reason}; it was left untouched`, { cause });
    this.file = file;
  }
}

/** A record written by a newer nfsvol: this version refuses to read or overwrite it. */
export class NewerSchemaError extends NfsvolError {
  readonly file: string;
  readonly found: number;
  readonly supported: number;
  constructor(file: string, found: number, supported: number) {
    super(
      'REGISTRY_SCHEMA_NEWER',
      `${file} has schema version ${found}, newer than the ${supported} this nfsvol understands; upgrade nfsvol (the file was left untouched)`,
    );
    this.file = file;
    this.found = found;
    this.supported = supported;
  }
}

/** A record was created (EXCLUSIVE) but its content is not written yet: a create is in flight or died midway. */
export class IncompleteRecordError extends NfsvolError {
  readonly file: string;
  constructor(file: string, hint = 'a create is in progress or was interrupted') {
    super('REGISTRY_INCOMPLETE', `${file} is empty: ${hint}`, {
      retriable: true,
    });
    this.file = file;
  }
}

export class RecordExistsError extends NfsvolError {
  readonly file: string;
  constructor(file: string) {
    super('REGISTRY_EXISTS', `${file} already exists`);
    this.file = file;
  }
}

export class RecordNotFoundError extends NfsvolError {
  readonly file: string;
  constructor(kind: string, name: string, file: string) {
    super('NOT_FOUND', `no ${kind} named ${JSON.stringify(name)} (${file})`);
    this.file = file;
  }
}

export class NotInitializedError extends NfsvolError {
  constructor(where: string, cause?: unknown) {
    super('NOT_INITIALIZED', `no nfsvol registry on ${where}; run 'nfsvol init' first`, { cause });
  }
}

export class LockTimeoutError extends NfsvolError {
  readonly file: string;
  constructor(file: string, holder: string) {
    super('LOCK_TIMEOUT', `timed out waiting for lock ${file} held by ${holder}`, { retriable: true });
    this.file = file;
  }
}

/** The lease could not be renewed in time (server unreachable, or judged stale by another CLI). */
export class LockLostError extends NfsvolError {
  readonly file: string;
  constructor(file: string) {
    super('LOCK_LOST', `lost the lease ${file} before the work under it finished; run the command again`, {
      retriable: true,
    });
    this.file = file;
  }
}

/** A lease held by a live holder (seen renewing) that the caller would not wait for. */
export class LeaseHeldError extends NfsvolError {
  readonly key: string;
  readonly holder: string;
  constructor(key: string, holder: string) {
    super('VOLUME_HELD', `${key} is held by ${holder}, which is alive and renewing it`);
    this.key = key;
    this.holder = holder;
  }
}
