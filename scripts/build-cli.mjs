// Builds the CLI as one file, dist/nfsvol.js: what `npm install` puts on the PATH.
//
//   node scripts/build-cli.mjs [--outfile=dist/nfsvol.js]
//
// Everything but ssh2 is bundled (ssh2 loads a WebAssembly module and is installed as a
// dependency). Bundled CommonJS packages (cli-progress) require Node's built-in modules, and an
// ES module has no `require`: the banner makes one, for the bundle alone.
import { build } from 'esbuild';
import process from 'node:process';

const outfile =
  process.argv.find((a) => a.startsWith('--outfile='))?.slice('--outfile='.length) ?? 'dist/nfsvol.js';

await build({
  entryPoints: ['cli/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['ssh2'],
  logLevel: 'warning',
  outfile,
  banner: {
    js: "import { createRequire as nfsvolCreateRequire } from 'node:module';\nconst require = nfsvolCreateRequire(import.meta.url);",
  },
});
