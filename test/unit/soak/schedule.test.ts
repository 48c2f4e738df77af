import { describe, expect, it } from 'vitest';
import { planSoak } from '../../soak/schedule.js';

describe('soak plan', () => {
  it('is the same for the same seed and differs for another', () => {
    const a = planSoak({ seed: 42, durationMs: 180_000 });
    expect(planSoak({ seed: 42, durationMs: 180_000 })).toEqual(a);
    expect(planSoak({ seed: 43, durationMs: 180_000 }).workers).not.toEqual(a.workers);
  });

  it('covers every command kind, every delete policy, clock shifts and every fault kind', () => {
    const p = planSoak({ seed: 7, durationMs: 180_000, hosts: 3 });
    const cmds = p.workers.flat();
    expect(p.workers).toHaveLength(6);
    expect(new Set(cmds.map((c) => c.kind))).toEqual(
      new Set(['create', 'rm', 'mount', 'unmount', 'sync', 'host-check', 'ls']),
    );
    const policies = new Set(cmds.filter((c) => c.kind === 'create').map((c) => c.args.at(-1)));
    expect(policies).toEqual(new Set(['retain', 'delete', 'archive']));
    expect(new Set(cmds.map((c) => c.clockShift).filter(Boolean))).toEqual(new Set(['+5m', '-3m']));
    expect(cmds.some((c) => c.kind === 'create' && c.args.length > 5)).toBe(true);
    const faults = planSoak({ seed: 7, durationMs: 1_800_000 }).faults;
    expect(new Set(faults.map((f) => f.kind))).toEqual(new Set(['kill', 'cut-link', 'restart-nfs']));
    for (const f of faults) expect(f.atMs).toBeLessThan(1_800_000);
  });
});
