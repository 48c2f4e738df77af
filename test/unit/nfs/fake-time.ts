import { vi } from 'vitest';

/*
 * Time bounds are tested on a fake clock (setTimeout and performance.now), while sockets do
 * real I/O on loopback: a test waits on real events with `until`, then moves the clock.
 * setImmediate stays real, so waiting with it lets I/O and promise callbacks run.
 */

export function useFakeClock(): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Waits (real event-loop turns, not time) until `cond` holds. */
export async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; i < 100_000; i++) {
    if (cond()) return;
    await turn();
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** What a promise has settled to by now, after letting pending callbacks run. */
export async function settled<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown } | 'pending'> {
  let out: { value?: T; error?: unknown } | 'pending' = 'pending';
  p.then(
    (value) => (out = { value }),
    (error: unknown) => (out = { error }),
  );
  for (let i = 0; i < 20 && out === 'pending'; i++) await turn();
  return out;
}
