/** Small seeded PRNG (mulberry32) so fuzz tests are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(rand: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

/** Copies `buf` with a few random bytes changed, or cut short. */
export function mutate(rand: () => number, buf: Uint8Array): Uint8Array {
  const out = Uint8Array.from(buf);
  const kind = Math.floor(rand() * 3);
  if (kind === 0 && out.length > 0) return out.subarray(0, Math.floor(rand() * out.length));
  const flips = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < flips && out.length > 0; i++) {
    const at = Math.floor(rand() * out.length);
    out[at] = kind === 1 ? Math.floor(rand() * 256) : 0xff;
  }
  return out;
}
