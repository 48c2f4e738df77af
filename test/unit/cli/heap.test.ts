import { describe, expect, it } from 'vitest';
import { FOOTPRINT_FLAGS, favourFootprint } from '../../../cli/heap.js';

describe('the CLI heap sizing', () => {
  it('sets every footprint flag when node was given none', () => {
    const set: string[] = [];
    expect(favourFootprint([], (f) => set.push(f))).toEqual([...FOOTPRINT_FLAGS]);
    expect(set).toEqual([...FOOTPRINT_FLAGS]);
  });

  it("leaves a flag given on node's command line (either spelling) to it", () => {
    const set: string[] = [];
    favourFootprint(['--enable-source-maps', '--heap_growing_percent=0'], (f) => set.push(f));
    expect(set).toEqual(['--semi-space-growth-factor=1']);
    set.length = 0;
    favourFootprint(['--semi-space-growth-factor=2', '--heap-growing-percent=0'], (f) => set.push(f));
    expect(set).toEqual([]);
  });
});
