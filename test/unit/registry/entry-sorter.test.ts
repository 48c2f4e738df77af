import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EntrySorter } from '../../../driver/core/registry/entry-sorter.js';

async function all(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Packed entries as a listing makes them: key, stamp and a latin1 handle joined by NUL. */
function entries(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const handle = String.fromCharCode(...Array.from({ length: 12 }, (_, j) => (i * 31 + j * 17) % 256));
    return [`vol-${(i * 7919) % n}`, `${i}:300:1:2`, handle].join('\0');
  });
}

describe('EntrySorter', () => {
  it('sorts in memory below the run size and writes nothing', async () => {
    const input = entries(1000);
    await using s = new EntrySorter(4096);
    for (const e of input) await s.add(e);
    expect(await all(s.sorted())).toEqual([...input].sort());
    expect(s.spilled).toBe(0);
  });

  it('gives the same order when runs are spilled to disk, any character intact', async () => {
    const input = [...entries(10_000), 'a\nb', 'a\rb', 'a\u2028b', 'é', '"quoted"', 'back\\slash', 'a'];
    let dir: string | undefined;
    {
      await using s = new EntrySorter(1000);
      for (const e of input) await s.add(e);
      expect(s.spilled).toBe(10);
      expect(s.count).toBe(input.length);
      dir = (s as unknown as { dir: string }).dir;
      expect(existsSync(dir)).toBe(true);
      expect(await all(s.sorted())).toEqual([...input].sort());
    }
    expect(existsSync(dir)).toBe(false); // the run files go with the sorter
  });

  it('removes its run files when the reader stops early', async () => {
    let dir: string | undefined;
    {
      await using s = new EntrySorter(100);
      for (const e of entries(1000)) await s.add(e);
      dir = (s as unknown as { dir: string }).dir;
      for await (const _ of s.sorted()) break;
    }
    expect(existsSync(dir)).toBe(false);
  });
});
