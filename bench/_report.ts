import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const FILE = new URL('../BENCHMARKS.md', import.meta.url);

export interface Row {
  readonly what: string;
  /** nfsvol's figure (seconds unless `unit` says otherwise). */
  readonly ours: number;
  readonly baseline?: number;
  readonly baselineName?: string;
  readonly unit?: string;
  readonly target?: string;
  /** Whether `target` was met; a missed target is printed as MISSED. */
  readonly targetMet?: boolean;
  /** For sizes rather than times: a larger figure is the better one. */
  readonly higherIsBetter?: boolean;
}

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The q-quantile (0..1) of a list of numbers, by the nearest-rank method (p90: `quantile(xs, 0.9)`). */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await fn();
  return [(performance.now() - t0) / 1000, v];
}

/**
 * How nfsvol did against the baseline: `ratio` is baseline / nfsvol for times (above 1: nfsvol
 * is faster). Within 5% either way is called even, since runs on a shared machine vary more.
 */
export function verdict(
  ours: number,
  baseline: number,
  higherIsBetter = false,
  words: readonly [string, string] = ['faster', 'slower'],
): string {
  const ratio = higherIsBetter ? ours / baseline : baseline / ours;
  if (!Number.isFinite(ratio)) return '–';
  if (ratio >= 0.95 && ratio <= 1.05) return `even (${ratio.toFixed(2)}×)`;
  return ratio > 1
    ? `nfsvol ${words[0]}, ${ratio.toFixed(2)}×`
    : `**nfsvol ${words[1]}**, ${ratio.toFixed(2)}× (${words[0] === 'faster' ? 'the baseline takes' : "the baseline's is"} ${((1 - ratio) * 100).toFixed(0)}% ${words[0] === 'faster' ? 'less time' : 'smaller'})`;
}

const fmt = (v: number, unit = 's'): string => `${Math.abs(v) < 10 ? v.toFixed(3) : v.toFixed(1)} ${unit}`;

/** A markdown table: nfsvol's figure, the baseline's, the verdict, and whether the target was met. */
export function table(rows: readonly Row[]): string {
  const head =
    '| what | nfsvol | baseline | verdict (ratio baseline / nfsvol) | target |\n| --- | --- | --- | --- | --- |';
  const body = rows.map((r) => {
    const base = r.baseline === undefined ? '–' : `${fmt(r.baseline, r.unit)} (${r.baselineName})`;
    const words = r.unit === 'MiB' ? (['smaller', 'larger'] as const) : undefined;
    const v = r.baseline === undefined ? '–' : verdict(r.ours, r.baseline, r.higherIsBetter, words);
    const met = r.targetMet === undefined ? '' : r.targetMet ? ' (met)' : ' (**MISSED**)';
    const target = r.target ? `${r.target}${met}` : '';
    return `| ${r.what} | ${fmt(r.ours, r.unit)} | ${base} | ${v} | ${target} |`;
  });
  return [head, ...body].join('\n');
}

/**
 * Replaces (or appends) this benchmark's section of BENCHMARKS.md. The heading line says only the
 * command, when, and the machine; what the run compared is for `body` to say.
 */
export function writeSection(name: string, command: string, body: string): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const section = `${start}\n## ${name}\n\nCommand: \`${command}\` (${when}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, shared with other work: see the load averages)\n\n${body}\n${end}`;
  let doc = existsSync(FILE)
    ? readFileSync(FILE, 'utf8')
    : '# Benchmarks\n\nWritten by `npm run bench -- NAME`; each section says the command that produced it.\n';
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc =
    i >= 0 && j > i
      ? doc.slice(0, i) + section + doc.slice(j + end.length)
      : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(FILE, doc);
}
