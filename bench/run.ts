/**
 * Runs one benchmark by name: `npm run bench -- NAME [args]`. Each benchmark is bench/NAME.ts;
 * it prints its table and writes its section of BENCHMARKS.md with the command that produced it.
 * `--against REV` (provision, listing, fanout) also times the CLI built from commit REV, in turns
 * with this tree's, to show whether a change made a benchmark slower; `--against A,B` times
 * several revisions in the same run.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const names = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts'].includes(f) && !f.startsWith('_'))
  .map((f) => f.slice(0, -3));
const name = process.argv[2];
if (!name || !names.includes(name)) {
  console.error(`usage: npm run bench -- NAME [--against REV] [options]\nbenchmarks: ${names.join(', ')}`);
  process.exit(2);
}
process.argv.splice(2, 1);
await import(pathToFileURL(path.join(here, `${name}.ts`)).href);
