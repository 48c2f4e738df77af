import pRetry from 'p-retry';
import { isRetriable, markRetriesSpent } from './errors.js';

/**
 * nfsvol's one retry policy. A failure is retried where it happens and nowhere else: the RPC
 * connection resends an idempotent call, the SSH client reconnects, an operation retries a
 * state it waits out (a record being completed, a removal in progress). When a loop gives up,
 * the error it throws is marked spent, and `isRetriable` (common/errors.ts) is false for it from then on, so a
 * loop above never multiplies the attempts of one below (five attempts of a create, each of
 * nine NFS attempts, would be forty-five).
 */
export interface RetryPolicy {
  /** Attempts after the first. */
  readonly retries: number;
  /** Backoff: first delay, doubling up to `maxTimeoutMs`. */
  readonly minTimeoutMs: number;
  readonly maxTimeoutMs: number;
  /**
   * Spreads each delay over up to twice its length, so many clients that failed together do not
   * retry together. @default false
   */
  readonly randomize?: boolean;
  /** No retry starts after this long from the first attempt. */
  readonly maxRetryTimeMs?: number;
  /** Abandons the loop at once when aborted: the attempt in flight is no longer waited for. */
  readonly signal?: AbortSignal | undefined;
  /** Starts no new attempt once aborted; the attempt in flight is finished and its outcome kept. */
  readonly stopRetriesOn?: AbortSignal | undefined;
  /** Retries only what this says as well as `isRetriable` (e.g. not on the last attempt's kind). */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, p: RetryPolicy): Promise<T> {
  try {
    return await pRetry(fn, {
      retries: p.retries,
      minTimeout: p.minTimeoutMs,
      maxTimeout: p.maxTimeoutMs,
      factor: 2,
      randomize: p.randomize ?? false,
      ...(p.maxRetryTimeMs === undefined ? {} : { maxRetryTime: p.maxRetryTimeMs }),
      ...(p.signal ? { signal: p.signal } : {}),
      shouldRetry: ({ error, attemptNumber }) =>
        isRetriable(error) &&
        !p.signal?.aborted &&
        !p.stopRetriesOn?.aborted &&
        (p.shouldRetry?.(error, attemptNumber) ?? true),
    });
  } catch (err) {
    markRetriesSpent(err);
    throw err;
  }
}
