// `npm run soak -- --seed N --minutes M [--hosts 2] [--workers 6] [--out DIR]`: the seeded
// randomized history test against the lab. `--recheck DIR` judges a finished run's evidence again. Prints the seed first, a summary at the end, and
// exits 1 when any invariant was violated (2 on bad arguments).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { judge, runSoak, type SoakEvidence } from './harness.js';
import { formatReport } from './report.js';

function int(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    process.stderr.write(
      `soak: --${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}\n`,
    );
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    minutes: { type: 'string' },
    hosts: { type: 'string' },
    workers: { type: 'string' },
    out: { type: 'string' },
    recheck: { type: 'string' },
  },
  strict: true,
});
if (values.recheck !== undefined) {
  // Judges a finished run again from its evidence file, with this checker: no lab needed.
  const evidence = JSON.parse(await readFile(join(values.recheck, 'evidence.json'), 'utf8')) as SoakEvidence;
  const report = judge(evidence);
  process.stdout.write(`soak: seed ${report.seed} (recheck of ${values.recheck})\n${formatReport(report)}\n`);
  process.exit(report.violations.length > 0 ? 1 : 0);
}
const seed = int(
  values.seed ?? process.env['NFSVOL_SOAK_SEED'],
  'seed',
  Date.now() % 1_000_000,
  0,
  2 ** 32 - 1,
);
const minutes = Number(values.minutes ?? '3');
if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 600) {
  process.stderr.write(
    `soak: --minutes must be a number of minutes above 0, got ${JSON.stringify(values.minutes)}\n`,
  );
  process.exit(2);
}
// The seed comes first, so a run that dies still says how to reproduce it.
process.stdout.write(`soak: seed ${seed}\n`);
const report = await runSoak({
  seed,
  durationMs: Math.round(minutes * 60_000),
  hosts: int(values.hosts, 'hosts', 2, 1, 3),
  workers: int(values.workers, 'workers', 6, 1, 16),
  ...(values.out ? { outDir: values.out } : {}),
});
process.stdout.write(`${formatReport(report)}\n`);
process.exit(report.violations.length > 0 ? 1 : 0);
