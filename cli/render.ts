import type { HostSyncResult } from '../driver/sync.js';

/** Left-aligned columns, header first. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function labelsText(labels: Readonly<Record<string, string>>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** One line per host: what was done, what failed and why. */
export function hostLines(results: readonly HostSyncResult[]): string[] {
  return results.map((r) => {
    if (r.unreachable)
      return `host ${r.host}: FAILED ${r.error?.message ?? ''} (${r.error?.code ?? 'ERROR'}); pending`;
    const parts = [`${r.defined.length} defined`, `${r.removed.length} removed`];
    for (const d of r.drifted) parts.push(`drift on ${d.volume}: ${d.drift.join('; ')}`);
    for (const f of r.failed) parts.push(`${f.volume} failed: ${f.error.message} (${f.error.code})`);
    return `host ${r.host}: ${r.ok ? 'ok' : 'PARTLY DONE'}, ${parts.join(', ')}`;
  });
}

export function hostsFailed(results: readonly HostSyncResult[]): boolean {
  return results.some((r) => !r.ok);
}
