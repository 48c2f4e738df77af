import { type HostSyncResult } from '../driver/index.js';

/** Left-aligned columns, header first. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = columnWidths(header, rows);
  return [tableLine(header, widths), ...rows.map((r) => tableLine(r, widths))].join('\n');
}

function columnWidths(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  min: readonly number[] = [],
): number[] {
  return header.map((h, i) =>
    rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), Math.max(h.length, min[i] ?? 0)),
  );
}

function tableLine(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
    .join('  ')
    .trimEnd();
}

/**
 * A table printed while its rows arrive, for listings too long to hold: column widths come from
 * the first 1,000 rows and any `atLeast` width (e.g. the longest name, known up front); a later,
 * wider cell pushes its own line only. Output goes out in blocks of about 64 KiB.
 */
/** Rows a TableStream sizes its columns on. */
const SAMPLE = 1000;

export class TableStream {
  private readonly held: string[][] = [];
  private readonly minWidths: number[] = [];
  private widths: number[] | undefined;
  private buf = '';

  constructor(
    private readonly header: readonly string[],
    private readonly write: (text: string) => void,
  ) {}

  /** Column `i` is at least `width` wide (before the first rows are printed). */
  atLeast(i: number, width: number): void {
    this.minWidths[i] = Math.max(this.minWidths[i] ?? 0, width);
  }

  row(cells: readonly string[]): void {
    if (this.widths) {
      this.out(tableLine(cells, this.widths));
      return;
    }
    this.held.push([...cells]);
    if (this.held.length >= SAMPLE) this.release();
  }

  end(): void {
    if (!this.widths) this.release();
    if (this.buf) this.write(this.buf);
    this.buf = '';
  }

  private release(): void {
    const widths = columnWidths(this.header, this.held, this.minWidths);
    this.widths = widths;
    this.out(tableLine(this.header, widths));
    for (const r of this.held.splice(0)) this.out(tableLine(r, widths));
  }

  private out(line: string): void {
    this.buf += `${line}\n`;
    if (this.buf.length >= 65536) {
      this.write(this.buf);
      this.buf = '';
    }
  }
}

/**
 * A JSON array printed one element at a time, formatted exactly as JSON.stringify(array, r, 2)
 * would print it whole, in blocks of about 64 KiB.
 */
export class JsonArrayStream {
  private buf = '';
  private count = 0;

  constructor(
    private readonly write: (text: string) => void,
    private readonly replacer?: (key: string, value: unknown) => unknown,
  ) {}

  item(value: unknown): void {
    const text = JSON.stringify(value, this.replacer, 2).replace(/\n/g, '\n  ');
    this.buf += `${this.count++ === 0 ? '[\n' : ',\n'}  ${text}`;
    if (this.buf.length >= 65536) {
      this.write(this.buf);
      this.buf = '';
    }
  }

  end(): void {
    this.write(`${this.buf}${this.count === 0 ? '[]' : '\n]'}\n`);
    this.buf = '';
  }
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
    if (r.redefined.length > 0) parts.push(`${r.redefined.length} redefined`);
    for (const d of r.drifted) parts.push(`drift on ${d.volume}: ${d.drift.join('; ')}`);
    for (const f of r.failed) parts.push(`${f.volume} failed: ${f.error.message} (${f.error.code})`);
    return `host ${r.host}: ${r.ok ? 'ok' : 'PARTLY DONE'}, ${parts.join(', ')}`;
  });
}

export function hostsFailed(results: readonly HostSyncResult[]): boolean {
  return results.some((r) => !r.ok);
}

/** Lines gathered into blocks of about 64 KiB before they are written: one write per block. */
export class BlockWriter {
  private buf = '';

  constructor(private readonly write: (text: string) => void) {}

  add(text: string): void {
    this.buf += text;
    if (this.buf.length >= 65536) {
      this.write(this.buf);
      this.buf = '';
    }
  }

  end(): void {
    if (this.buf) this.write(this.buf);
    this.buf = '';
  }
}
