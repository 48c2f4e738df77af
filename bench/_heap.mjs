// Preloaded (node --import) into the CLI by bench/memory.ts. It records the heap in use right
// after every full (mark-compact) GC, which is then what is live, and prints the largest to
// stderr at exit. It forces no GC, so the run's peak RSS is what it would be without it: the
// difference is garbage V8 had not collected yet and the V8 heap's spare room.
// The profiler keeps a record of every GC until it is stopped, and with small young-generation
// semi-spaces (cli/heap.ts) there are thousands of scavenges: it is drained every 100 ms, so what
// it holds is bounded and does not show in the RSS it helps to explain.
import process from 'node:process';
import { setInterval } from 'node:timers';
import v8 from 'node:v8';

let profiler = new v8.GCProfiler();
profiler.start();
let maxLive = 0;
let majors = 0;
const drain = () => {
  for (const s of profiler.stop()?.statistics ?? []) {
    if (s.gcType !== 'MarkSweepCompact') continue;
    majors++;
    maxLive = Math.max(maxLive, s.afterGC.heapStatistics.usedHeapSize);
  }
  profiler = new v8.GCProfiler();
  profiler.start();
};
setInterval(drain, 100).unref();
process.on('exit', () => {
  drain();
  // No full GC in a short run: the heap in use at exit is an upper bound of what was live.
  if (majors === 0) maxLive = process.memoryUsage().heapUsed;
  process.stderr.write(`nfsvol-bench-heap: max-live ${maxLive} majors ${majors}\n`);
});
