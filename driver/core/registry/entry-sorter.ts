import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Sorts strings (the packed directory entries of a listing) without holding them all: up to
 * `runSize` are sorted in memory; past that, each full run is written, sorted, to a temporary
 * local file, and the runs are merged as they are read back, one line of each at a time. The
 * default run (16,384 entries, about 2 MB) keeps a directory of any size within that; smaller
 * directories never touch the disk.
 *
 * Strings are compared as `Array.prototype.sort` does by default (UTF-16 code units), so the
 * order is the same whether or not anything was spilled. Each spilled line is the string as
 * JSON, so any character (a file handle kept as latin1) survives the round trip.
 */
export class EntrySorter implements AsyncDisposable {
  private run: string[] = [];
  private dir: string | undefined;
  private readonly files: string[] = [];
  private added = 0;

  constructor(private readonly runSize = 16_384) {}

  /** Strings added so far. */
  get count(): number {
    return this.added;
  }

  /** Runs written to disk so far. */
  get spilled(): number {
    return this.files.length;
  }

  async add(entry: string): Promise<void> {
    this.run.push(entry);
    this.added++;
    if (this.run.length >= this.runSize) await this.spill();
  }

  private async spill(): Promise<void> {
    const run = this.run.sort();
    this.run = [];
    this.dir ??= await mkdtemp(join(tmpdir(), 'nfsvol-sort-'));
    const file = join(this.dir, `run-${this.files.length}.jsonl`);
    await writeFile(file, `${run.map((e) => JSON.stringify(e)).join('\n')}\n`);
    this.files.push(file);
  }

  /** Every string added, in order. Call once, after the last add(). */
  async *sorted(): AsyncGenerator<string> {
    const run = this.run.sort();
    this.run = [];
    if (this.files.length === 0) {
      yield* run;
      return;
    }
    const sources: AsyncIterator<string>[] = [
      ...this.files.map((f) => readRun(f)),
      (async function* () {
        yield* run;
      })(),
    ];
    try {
      const heads: (string | undefined)[] = [];
      for (const s of sources) heads.push(await next(s));
      for (;;) {
        let min = -1;
        for (let i = 0; i < heads.length; i++) {
          const h = heads[i];
          if (h !== undefined && (min < 0 || h < heads[min]!)) min = i;
        }
        if (min < 0) return;
        yield heads[min]!;
        heads[min] = await next(sources[min]!);
      }
    } finally {
      await Promise.all(sources.map((s) => s.return?.()));
    }
  }

  /** Removes the run files. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.run = [];
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

async function next(it: AsyncIterator<string>): Promise<string | undefined> {
  const r = await it.next();
  return r.done ? undefined : r.value;
}

async function* readRun(file: string): AsyncGenerator<string> {
  const lines = createInterface({ input: createReadStream(file, { highWaterMark: 16 * 1024 }) });
  try {
    for await (const line of lines) if (line !== '') yield JSON.parse(line) as string;
  } finally {
    lines.close();
  }
}
