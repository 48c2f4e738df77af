import { setFlagsFromString } from 'node:v8';

/**
 * V8's heap sizing, set for a short-lived CLI whose live data is small (even a bulk create of
 * tens of thousands of volumes holds a few tens of MB; BENCHMARKS.md, memory, has the figures).
 *
 * By default the young generation doubles up to 32 MB as soon as allocation is brisk, and the old
 * generation may grow to up to 4 times what survived the last full GC before the next one: the
 * CLI's peak RSS then follows how long it runs, not what it holds. Here the young generation
 * keeps its initial 1 MB semi-spaces and the old one grows by half of what is live, which keeps
 * the peak near the live size. The price is more young-generation GCs, so CPU-bound work such
 * as a listing served from the cache takes a little longer (bench memory measures both ways).
 *
 * These are the flags Node does not accept in NODE_OPTIONS, so they are set here, before the
 * command allocates anything much; a flag given on node's own command line wins.
 */
export const FOOTPRINT_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=50'] as const;

/** Sets FOOTPRINT_FLAGS but those given on node's command line; returns the flags it set. */
export function favourFootprint(
  execArgv: readonly string[] = process.execArgv,
  set: (flag: string) => void = setFlagsFromString,
): string[] {
  const given = execArgv.map((a) => a.replaceAll('_', '-').split('=')[0]);
  const todo = FOOTPRINT_FLAGS.filter((flag) => !given.includes(flag.split('=')[0]));
  for (const flag of todo) set(flag);
  return todo;
}
