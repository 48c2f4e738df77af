import { setFlagsFromString } from 'node:v8';

/**
 * V8's heap sizing, set for a short-lived CLI whose live data is small (a bulk create of 30,000
 * volumes holds about 17 MB; see BENCHMARKS.md, memory).
 *
 * By default the young generation doubles up to 32 MB as soon as allocation is brisk, and the old
 * generation may grow to up to 4 times what survived the last full GC before the next one: the
 * CLI's peak RSS then followed how long it ran, not what it held (create 79 -> 168 MiB for
 * 1,000 -> 30,000 volumes, at a live heap of 7 -> 17 MB). Here the young generation keeps its
 * initial 1 MB semi-spaces and the old one grows by half of what is live. Side by side at 30,000
 * volumes (bench memory): create 86 MiB instead of 143 in the same time (29.3 vs 28.6 s), `volume
 * ls` 77-80 MiB instead of 110-130. The price is more young-generation GCs: a listing served
 * from the cache, which is all CPU, takes about 15% longer (1.54 vs 1.33 s at 30,000; 0.8 s at
 * 10,000, within the 1 s target).
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
