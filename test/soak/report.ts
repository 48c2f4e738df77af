// The soak's summary as text: what ran, what was injected, what was checked, and each violation
// with the seed that reproduces it.
import type { SoakReport } from './harness.js';

export function formatReport(r: SoakReport): string {
  const lines: string[] = [];
  lines.push(
    `soak seed ${r.seed}, ${(r.durationMs / 60_000).toFixed(1)} min (history and report in ${r.outDir})`,
  );
  lines.push('operations:');
  for (const [kind, by] of Object.entries(r.operations).sort()) {
    const total = Object.values(by).reduce((s, n) => s + n, 0);
    const parts = Object.entries(by)
      .sort()
      .map(([k, n]) => `${k}: ${n}`)
      .join(', ');
    lines.push(`  ${kind.padEnd(22)} ${String(total).padStart(4)}  (${parts})`);
  }
  lines.push('faults:');
  for (const [kind, c] of Object.entries(r.faults).sort())
    lines.push(`  ${kind.padEnd(22)} ${String(c.injected).padStart(4)} injected, ${c.missed} missed`);
  lines.push(
    `containers: ${r.containers.started} started, ${r.containers.stopped} stopped, ${r.containers.skipped} skipped`,
  );
  lines.push(
    r.lockTrace.recorded
      ? `lock trace: ${r.lockTrace.events} events, ${r.lockTrace.acquisitions} acquisitions on ${r.lockTrace.keys} keys, ${r.lockTrace.takeoversFromKilled} takeovers from killed holders`
      : 'lock trace: none recorded (the CLI wrote no NFSVOL_LOCK_TRACE lines): invariant 4 NOT checked',
  );
  lines.push(
    `invariant checks: ${r.checks} done, ${r.undetermined} outcome(s) undetermined (concurrent claims)`,
  );
  if (r.violations.length === 0) {
    lines.push('violations: none');
  } else {
    lines.push(`violations: ${r.violations.length}`);
    for (const v of r.violations) {
      lines.push(`  [${v.invariant}] (${v.phase}) seed ${r.seed}: ${v.message}`);
      for (const c of v.commands ?? []) lines.push(`      ${c}`);
    }
    lines.push(`reproduce: npm run soak -- --seed ${r.seed} --minutes ${(r.durationMs / 60_000).toFixed(1)}`);
  }
  return lines.join('\n');
}
