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
  readonly settled: boolean;
}

export function settleOnce(o: SettleOnceOptions): SettleOnce {
  let settled = false;
  const onAbort = (): void => o.onAbort?.();
  const timer = setTimeout(() => o.onTimeout(), o.timeoutMs);
  if (o.onAbort) o.signal?.addEventListener('abort', onAbort, { once: true });
  return {
    finish(fn) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      fn();
    },
    get settled() {
      return settled;
    },
  };
}
