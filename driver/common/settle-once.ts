/**
 * The end of a callback-driven operation (a command's channel, an HTTP exchange on a forwarded
 * socket): whichever comes first of the operation's own end, a timeout or an abort settles it,
 * once; the timer and the abort listener are removed on the way out, so neither fires later.
 */
export interface SettleOnceOptions {
  readonly timeoutMs: number;
  /** Runs when the time is up; it should stop the operation and settle (usually via `finish`). */
  readonly onTimeout: () => void;
  readonly signal?: AbortSignal | undefined;
  /** Runs when `signal` aborts; same duty as `onTimeout`. */
  readonly onAbort?: () => void;
}

export interface SettleOnce {
  /** Runs `fn` (which resolves or rejects) unless the operation has settled already. */
  finish(fn: () => void): void;
}

export function settleOnce(o: SettleOnceOptions): SettleOnce {
  let settled = false;
  const onAbort = (): void => {
    if (!settled) o.onAbort?.();
  };
  const timer = setTimeout(() => o.onTimeout(), o.timeoutMs);
  if (o.onAbort && o.signal) {
    // A signal that aborted before the operation began (while a connection was being made, say)
    // fires no event any more: act on it as soon as the caller has its `finish`.
    if (o.signal.aborted) queueMicrotask(onAbort);
    else o.signal.addEventListener('abort', onAbort, { once: true });
  }
  return {
    finish(fn) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      fn();
    },
  };
}

export interface Settle<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
}

export interface SettledPromiseOptions {
  /** After this long the promise rejects with `onTimeout()`. */
  readonly timeoutMs: number;
  readonly onTimeout: () => Error;
  /** When it aborts, the promise rejects with its reason. */
  readonly signal?: AbortSignal;
  /** Runs once, as the promise settles whichever way: releases what `start` opened. */
  readonly cleanup?: () => void;
}

/**
 * The same as a promise, for work driven by events (a socket's data, error and close): the
 * first of `start`'s resolve or reject, the timeout and the abort settles it; later calls are
 * ignored, so event handlers need no guard of their own (one failure often raises several
 * events). Settling removes the timer and the abort listener and runs `cleanup`.
 */
export function settledPromise<T>(
  opts: SettledPromiseOptions,
  start: (settle: Settle<T>) => void,
): Promise<T> {
  return new Promise<T>((resolvePromise, rejectPromise) => {
    const once = settleOnce({
      timeoutMs: opts.timeoutMs,
      onTimeout: () => finish(() => rejectPromise(opts.onTimeout())),
      signal: opts.signal,
      onAbort: () => finish(() => rejectPromise(opts.signal?.reason)),
    });
    const finish = (fn: () => void): void =>
      once.finish(() => {
        opts.cleanup?.();
        fn();
      });
    if (opts.signal?.aborted) return finish(() => rejectPromise(opts.signal?.reason));
    try {
      start({
        resolve: (value) => finish(() => resolvePromise(value)),
        reject: (reason) => finish(() => rejectPromise(reason)),
      });
    } catch (error) {
      finish(() => rejectPromise(error));
    }
  });
}
