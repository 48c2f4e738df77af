import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const FILE = new URL('../BENCHMARKS.md', import.meta.url);

export interface Row {
  readonly what: string;
  readonly ours: number;
  readonly baseline?: number;
  readonly baselineName?: string;
  readonly unit?: string;
  readonly target?: string;
}

/** Median of a list of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const v = await fn();
  return [(performance.now() - t0) / 1000, v];
}

/** Prints rows as a table (time in seconds; ratio = baseline / nfsvol, above 1 means nfsvol is faster). */
export function table(rows: readonly Row[]): string {
  const head =
    '| what | nfsvol | baseline | ratio (baseline / nfsvol) | target |\n| --- | --- | --- | --- | --- |';
  const fmt = (v: number, unit = 's') => `${v < 10 ? v.toFixed(3) : v.toFixed(1)} ${unit}`;
  const body = rows.map((r) => {
    const base = r.baseline === undefined ? '–' : `${fmt(r.baseline, r.unit)} (${r.baselineName})`;
    const ratio = r.baseline === undefined ? '–' : `${(r.baseline / r.ours).toFixed(2)}×`;
    return `| ${r.what} | ${fmt(r.ours, r.unit)} | ${base} | ${ratio} | ${r.target ?? ''} |`;
  });
  return [head, ...body].join('\n');
}

/** Replaces (or appends) this benchmark's section of BENCHMARKS.md. */
export function writeSection(name: string, command: string, body: string): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const section = `${start}\n## ${name}\n\nCommand: \`${command}\` (${when}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; baseline and nfsvol measured side by side in the same run, on the same server and files)\n\n${body}\n${end}`;
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
