/**
 * Runs `fn` over `items` with at most `limit` calls in flight; results keep the input order.
 * Every item is attempted: failures are collected as settled results, never abort the others.
 */
export async function mapSettled<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      try {
        signal?.throwIfAborted();
        results[i] = { status: 'fulfilled', value: await fn(items[i] as T, i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** Like mapSettled but rejects with the first error after all started calls finished. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const settled = await mapSettled(items, limit, fn, signal);
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<R>).value);
}

/**
 * Runs `count` copies of `worker` until every one has returned. When one throws, `stopped()`
 * turns true for the others (they return at their next step); once all have returned, the first
 * error is thrown. For work whose resources must outlive every worker (a file they all write).
 */
export async function runWorkers(
  count: number,
  worker: (stopped: () => boolean) => Promise<void>,
): Promise<void> {
  let failed = false;
  const stopped = (): boolean => failed;
  const settled = await Promise.allSettled(
    Array.from({ length: count }, () =>
      worker(stopped).catch((err: unknown) => {
        failed = true;
        throw err;
      }),
    ),
  );
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}

/** Sleeps, rejecting early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
