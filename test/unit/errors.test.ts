import { describe, expect, it } from 'vitest';
import {
  ERRORS,
  NfsvolError,
  ValidationError,
  InterruptedError,
  errorSpec,
} from '../../driver/common/errors.js';
import { EXIT, UsageError, exitCodeOf } from '../../cli/context.js';
import { NfsError } from '../../driver/nfs/nfs-error.js';
import { withRetry } from '../../driver/common/retry.js';

describe('the error catalogue', () => {
  it('gives every error a category and retriable from its code; a throw site may say retriable', () => {
    const e = new NfsvolError('VOLUME_IN_USE', 'x');
    expect(e).toMatchObject({ code: 'VOLUME_IN_USE', category: 'conflict', retriable: false });
    expect(new NfsvolError('HOST_UNREACHABLE', 'x')).toMatchObject({
      category: 'unavailable',
      retriable: true,
    });
    expect(new NfsvolError('HOST_UNREACHABLE', 'x', { retriable: false }).retriable).toBe(false);
  });

  it('classifies protocol statuses by their meaning', () => {
    expect(errorSpec('NFS3ERR_NOENT').category).toBe('not-found');
    expect(errorSpec('NFS4ERR_EXIST').category).toBe('conflict');
    expect(errorSpec('MNT3ERR_ACCES').category).toBe('permission');
    expect(errorSpec('NFS4ERR_DELAY').category).toBe('unavailable');
    expect(errorSpec('NFS3ERR_UNKNOWN_9999').category).toBe('corrupt');
    expect(new NfsError('NFS3ERR_NOTEMPTY', 'RMDIR', '/a').category).toBe('conflict');
    // A status name that is not one is the peer breaking protocol.
    expect(new NfsError('garbage', 'RMDIR', '/a').code).toBe('NFS_PROTOCOL');
  });

  it('unknown codes (a missing catalogue entry) are internal', () => {
    expect(errorSpec('NO_SUCH_CODE').category).toBe('internal');
  });

  it('every catalogue code maps to an exit status through its category', () => {
    for (const code of Object.keys(ERRORS) as (keyof typeof ERRORS)[]) {
      expect([EXIT.failed, EXIT.usage, EXIT.interrupted]).toContain(exitCodeOf(new NfsvolError(code, code)));
    }
  });
});

describe('CLI exit codes derive from categories', () => {
  it('usage errors exit 2, interrupts 130, everything else 1', () => {
    expect(exitCodeOf(new ValidationError('name', 'bad'))).toBe(2);
    expect(exitCodeOf(new UsageError('missing argument'))).toBe(2);
    expect(exitCodeOf(new InterruptedError())).toBe(130);
    expect(exitCodeOf(new NfsvolError('NOT_FOUND', 'x'))).toBe(1);
    expect(exitCodeOf(new NfsvolError('LOCK_TIMEOUT', 'x'))).toBe(1);
    expect(exitCodeOf(new NfsError('NFS3ERR_ACCES', 'MKDIR', '/a'))).toBe(1);
    expect(exitCodeOf(new Error('a bug'))).toBe(1);
  });
});

describe('one retry policy: loops never multiply', () => {
  const fast = { minTimeoutMs: 1, maxTimeoutMs: 2 } as const;

  it('an error a loop below gave up on is not retried by a loop above', async () => {
    let calls = 0;
    const inner = (): Promise<never> =>
      withRetry(
        async () => {
          calls++;
          throw new NfsvolError('HOST_UNREACHABLE', 'down');
        },
        { retries: 2, ...fast },
      );
    await expect(withRetry(inner, { retries: 4, ...fast })).rejects.toMatchObject({
      code: 'HOST_UNREACHABLE',
    });
    expect(calls).toBe(3);
  });

  it('a retriable error no loop has seen yet is retried where it surfaces', async () => {
    let calls = 0;
    const r = await withRetry(
      async () => {
        if (++calls < 3) throw new NfsvolError('HOST_UNREACHABLE', 'down');
        return 'up';
      },
      { retries: 4, ...fast },
    );
    expect([r, calls]).toEqual(['up', 3]);
  });

  it('errors that are not retriable end the loop at once', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new NfsvolError('NOT_FOUND', 'gone');
        },
        { retries: 4, ...fast },
      ),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(calls).toBe(1);
  });
});
