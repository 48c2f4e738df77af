// Preloaded (node --import) into the CLI by bench/memory.ts. It records the heap in use right
// after every full (mark-compact) GC, which is then what is live, and prints the largest to
// stderr at exit. It forces no GC, so the run's peak RSS is what it would be without it: the
// difference is garbage V8 had not collected yet and the V8 heap's spare room.
import process from 'node:process';
import v8 from 'node:v8';

const profiler = new v8.GCProfiler();
profiler.start();
process.on('exit', () => {
  const stats = profiler.stop()?.statistics ?? [];
  const majors = stats.filter((s) => s.gcType === 'MarkSweepCompact');
  // No full GC in a short run: the heap in use at exit is an upper bound of what was live.
  const maxLive = majors.length
    ? Math.max(...majors.map((s) => s.afterGC.heapStatistics.usedHeapSize))
    : process.memoryUsage().heapUsed;
  process.stderr.write(`nfsvol-bench-heap: max-live ${maxLive} majors ${majors.length}\n`);
});
