import { describe, expect, it } from 'vitest';
import { table, verdict } from '../../../bench/_report.js';

describe('benchmark verdicts', () => {
  it('says when nfsvol is slower, by how much, and flags a missed target', () => {
    expect(verdict(1, 2)).toBe('nfsvol faster, 2.00×');
    expect(verdict(4, 1)).toBe('**nfsvol slower**, 0.25× (the baseline takes 75% less time)');
    expect(verdict(1, 1.04)).toBe('even (1.04×)');
    expect(verdict(100, 50, false, ['smaller', 'larger'])).toContain('**nfsvol larger**');
    const t = table([
      { what: 'x', ours: 3, baseline: 1, baselineName: 'by hand', target: '< 2 s', targetMet: false },
    ]);
    expect(t).toContain('**nfsvol slower**');
    expect(t).toContain('< 2 s (**MISSED**)');
  });
});
