import { describe, expect, it } from 'vitest';
import { checkLockTrace } from '../../soak/lock-trace.js';

const line = (event: string, key: string, owner: string, pid: number): string =>
  JSON.stringify({ event, key, owner, pid });
const killed = (pid: number): string => JSON.stringify({ event: 'killed', pid });

describe('soak lock trace checker', () => {
  it('says nothing was recorded for an absent, empty or kill-only trace', () => {
    for (const text of [undefined, '', '\n', `${killed(5)}\n`]) {
      const r = checkLockTrace(text);
      expect(r.recorded).toBe(false);
      expect(r.violations).toEqual([]);
    }
  });

  it('accepts holders that follow one another', () => {
    const r = checkLockTrace(
      [
        line('acquired', 'volume-a', 'o1', 1),
        line('acquired', 'volume-b', 'o2', 2),
        line('releasing', 'volume-a', 'o1', 1),
        line('acquired', 'volume-a', 'o3', 3),
        line('lost', 'volume-a', 'o3', 3),
        line('acquired', 'volume-a', 'o4', 4),
        line('releasing', 'volume-a', 'o4', 4),
      ].join('\n'),
    );
    expect(r).toMatchObject({ recorded: true, acquisitions: 4, keys: 2, violations: [] });
  });

  it('reports a second holder while the first, alive, has not released, with both lines', () => {
    const r = checkLockTrace(
      [
        line('acquired', 'volume-a', 'o1', 1),
        line('acquired', 'volume-a', 'o2', 2),
        line('releasing', 'volume-a', 'o1', 1),
        line('releasing', 'volume-a', 'o2', 2),
      ].join('\n'),
    );
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toMatchObject({ kind: 'two-holders', key: 'volume-a', line: 2 });
    expect(r.violations[0]?.message).toContain('o1 (pid 1, acquired at line 1, not killed)');
    expect(r.violations[0]?.message).toMatch(/it wrote releasing at line 3$/);
  });

  it('lets a killed holder be superseded', () => {
    const r = checkLockTrace(
      [line('acquired', 'volume-a', 'o1', 1), killed(1), line('acquired', 'volume-a', 'o2', 2)].join('\n'),
    );
    expect(r.violations).toEqual([]);
    expect(r.takeoversFromKilled).toBe(1);
  });

  it('reports a release of a lock someone else holds, and torn lines', () => {
    const r = checkLockTrace(
      [line('acquired', 'k', 'o1', 1), line('releasing', 'k', 'o9', 9), '{"event":"acq'].join('\n'),
    );
    expect(r.violations.map((v) => v.kind)).toEqual(['release-not-held', 'bad-line']);
  });
});
