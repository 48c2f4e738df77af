/**
 * Typed errors. Every error nfsvol raises carries a stable `code`, whether retrying can help
 * (`retriable`), and the underlying error as `cause`. Callers translate only at the edges: the CLI
 * maps codes to exit statuses and one line of text.
 */
export interface NfsvolErrorOptions {
  readonly retriable?: boolean;
  readonly cause?: unknown;
}

export class NfsvolError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, options: NfsvolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Bad input from a user or caller: a name, a path, an option. Never retriable. */
export class ValidationError extends NfsvolError {
  readonly field: string;
  constructor(field: string, message: string, options: { readonly cause?: unknown } = {}) {
    super('VALIDATION', `${field}: ${message}`, options);
    this.field = field;
  }
}

/** The user asked to stop (Ctrl-C): work in flight finished, nothing further was started. */
export class InterruptedError extends NfsvolError {
  constructor() {
    super('INTERRUPTED', 'interrupted: steps in flight were finished, nothing further was started');
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof NfsvolError && err.retriable;
}
