import { describe, expect, it, vi } from 'vitest';
import { NfsClient } from '../../../driver/nfs/client.js';
import { PROC, startFakeNfs } from './fake-nfs-server.js';
import { settled, until, useFakeClock } from './fake-time.js';

describe('NfsClient against a server that stops answering', () => {
  for (const [how, timeoutMs, url, options] of [
    ['at the defaults', 30_000, '', {}],
    ['with ?timeout= in the URL', 2_000, '&timeout=2000', {}],
    ['with the timeoutMs option', 1_500, '&timeout=2000', { timeoutMs: 1_500 }],
  ] as const) {
    it(`fails the call within ${timeoutMs} ms in total, retries included, ${how}`, async () => {
      useFakeClock();
      try {
        await using srv = await startFakeNfs({ silent: [PROC.GETATTR] });
        await using nfs = await NfsClient.connect(srv.url + url, options);
        const outcome = nfs.stat('f');
        await until(() => srv.calls.includes(PROC.GETATTR), 'GETATTR to arrive');
        await vi.advanceTimersByTimeAsync(timeoutMs - 1);
        expect(await settled(outcome)).toBe('pending');
        await vi.advanceTimersByTimeAsync(1);
        const got = await settled(outcome);
        expect(got).not.toBe('pending');
        const err = (got as { error: Error }).error;
        expect(err).toMatchObject({ code: 'RPC_TIMEOUT', retriable: true });
        expect(err.message).toMatch(
          new RegExp(`^NFS GETATTR to 127\\.0\\.0\\.1:\\d+: no reply within ${timeoutMs} ms`),
        );
      } finally {
        vi.useRealTimers();
      }
    });
  }
});
