// The seeded randomized history test (test/soak) as part of `npm test`: a short run, about three
// minutes of workload, on a fixed seed (or NFSVOL_SOAK_SEED). It fails on any violation, and its
// message is the soak's own summary: every violation with the seed and the commands involved.
import { describe, expect, it } from 'vitest';
import { runSoak } from '../soak/harness.js';
import { formatReport } from '../soak/report.js';

const SEED = Number(process.env['NFSVOL_SOAK_SEED'] ?? '20261201');
const MINUTES = 3;

describe('soak: concurrent CLIs under faults keep the registry, the export and the hosts consistent', () => {
  it(
    `seed ${SEED}, ${MINUTES} min: no invariant violated`,
    { timeout: (MINUTES + 25) * 60_000 },
    async () => {
      expect(Number.isInteger(SEED) && SEED >= 0, `NFSVOL_SOAK_SEED must be a non-negative integer`).toBe(
        true,
      );
      process.stderr.write(`soak: seed ${SEED}\n`);
      const report = await runSoak({ seed: SEED, durationMs: MINUTES * 60_000, hosts: 2, workers: 6 });
      const summary = formatReport(report);
      process.stderr.write(`${summary}\n`);
      // The run did exercise what it checks: commands of every kind and some faults.
      expect(Object.keys(report.operations).length, summary).toBeGreaterThanOrEqual(5);
      expect(report.checks, summary).toBeGreaterThan(0);
      expect(report.violations, summary).toEqual([]);
    },
  );
});
