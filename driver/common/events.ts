/** A progress line for long work: which host or volume, and what happened. */
export interface ProgressEvent {
  readonly host?: string;
  readonly volume?: string;
  readonly message: string;
  /** A detail for --verbose only (like per-volume lines). */
  readonly detail?: boolean;
}

export type ProgressListener = (event: ProgressEvent) => void;

/** A failure reduced to what a report shows: stable code and message. */
export interface ErrorInfo {
  readonly code: string;
  readonly message: string;
}

export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { code: typeof code === 'string' ? code : 'INTERNAL', message: err.message };
  }
  return { code: 'INTERNAL', message: String(err) };
}
