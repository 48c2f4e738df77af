import { describe, expect, it } from 'vitest';
import { settleOnce, settledPromise } from '../../driver/common/settle-once.js';

describe('settledPromise: timed, abortable, settled once', () => {
  it('the first outcome wins and cleanup runs once', async () => {
    let cleanups = 0;
    const value = await settledPromise<number>(
      { timeoutMs: 10_000, onTimeout: () => new Error('late'), cleanup: () => cleanups++ },
      (settle) => {
        settle.resolve(1);
        settle.reject(new Error('ignored'));
        settle.resolve(2);
      },
    );
    expect(value).toBe(1);
    expect(cleanups).toBe(1);
  });

  it('rejects with onTimeout() when nothing settles it', async () => {
    let cleanups = 0;
    const outcome = settledPromise<never>(
      { timeoutMs: 20, onTimeout: () => new Error('no answer'), cleanup: () => cleanups++ },
      () => undefined,
    );
    await expect(outcome).rejects.toThrow('no answer');
    expect(cleanups).toBe(1);
  });

  it('rejects with the signal reason, also when already aborted', async () => {
    const controller = new AbortController();
    const pending = settledPromise<never>(
      { timeoutMs: 10_000, onTimeout: () => new Error('late'), signal: controller.signal },
      () => undefined,
    );
    controller.abort(new Error('cancelled'));
    await expect(pending).rejects.toThrow('cancelled');
    let started = false;
    const already = settledPromise<never>(
      { timeoutMs: 10_000, onTimeout: () => new Error('late'), signal: controller.signal },
      () => {
        started = true;
      },
    );
    await expect(already).rejects.toThrow('cancelled');
    expect(started).toBe(false);
  });

  it('a throw from start rejects', async () => {
    const outcome = settledPromise<never>({ timeoutMs: 10_000, onTimeout: () => new Error('late') }, () => {
      throw new Error('boom');
    });
    await expect(outcome).rejects.toThrow('boom');
  });
});

describe('settleOnce: an operation whose signal aborted before it began', () => {
  it('is stopped all the same (an abort that came during the connect fires no event later)', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    const outcome = new Promise<string>((resolve, reject) => {
      const { finish } = settleOnce({
        timeoutMs: 10_000,
        onTimeout: () => finish(() => reject(new Error('timed out instead'))),
        signal: controller.signal,
        onAbort: () => finish(() => reject(controller.signal.reason as Error)),
      });
    });
    await expect(outcome).rejects.toThrow('stop');
  });
});
