import { describe, expect, it } from 'vitest';
import { HandleCache } from '../../../driver/nfs/handle-cache.js';
import type { Fh } from '../../../driver/nfs/nfs3/structs.js';

const fh = (n: number): Fh => new Uint8Array([n]) as Fh;

describe('HandleCache', () => {
  it('forgets a path and everything below it, nothing beside it', () => {
    const c = new HandleCache(100);
    for (const [i, p] of ['a', 'a/b', 'a/b/c', 'a/bc', 'ab', 'x/y'].entries()) c.set(p, fh(i));
    c.forget('a/b');
    expect(c.get('a/b')).toBeUndefined();
    expect(c.get('a/b/c')).toBeUndefined();
    expect(c.get('a')).toEqual(fh(0));
    expect(c.get('a/bc')).toEqual(fh(3)); // a sibling sharing the prefix "a/b"
    expect(c.get('ab')).toEqual(fh(4));
    expect(c.get('x/y')).toEqual(fh(5));
    expect(c.size).toBe(4);
  });

  it('evicts the least recently used', () => {
    const c = new HandleCache(2);
    c.set('a', fh(1));
    c.set('b', fh(2));
    c.get('a');
    c.set('c', fh(3));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toEqual(fh(1));
    expect(c.get('c')).toEqual(fh(3));
  });

  it('still forgets the descendants of a path whose own handle was evicted', () => {
    const c = new HandleCache(3);
    c.set('d', fh(1));
    c.set('d/e', fh(2));
    c.set('d/e/f', fh(3));
    c.set('z', fh(4)); // evicts 'd', the oldest
    expect(c.get('d')).toBeUndefined();
    c.forget('d');
    expect(c.get('d/e')).toBeUndefined();
    expect(c.get('d/e/f')).toBeUndefined();
    expect(c.get('z')).toEqual(fh(4));
  });

  it('keeps no bookkeeping for paths it no longer holds', () => {
    const c = new HandleCache(10);
    for (let i = 0; i < 1000; i++) {
      c.set(`v${i}/data/f`, fh(i % 256));
      c.forget(`v${i}`);
    }
    expect(c.size).toBe(0);
    // Internal state: nothing left under the root.
    expect((c as unknown as { children: Map<string, Set<string>> }).children.size).toBe(0);
    for (let i = 0; i < 1000; i++) c.set(`w${i}/x`, fh(1));
    expect(c.size).toBe(10);
    expect((c as unknown as { children: Map<string, Set<string>> }).children.get('')!.size).toBe(10);
  });

  it('clear drops everything', () => {
    const c = new HandleCache(10);
    c.set('a/b', fh(1));
    c.clear();
    expect(c.get('a/b')).toBeUndefined();
    expect(c.size).toBe(0);
  });
});
