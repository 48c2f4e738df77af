import { execFile } from 'node:child_process';
import { readFile, writeFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Builds the CLI the way `npm run build:cli` does (the same command, read from
 * package.json) into `outDir`, and returns the path of the bundle: what `npm install` puts on a
 * user's PATH. ssh2 stays external, so `outDir` gets a link to node_modules.
 */
export async function bundleCli(outDir: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const [tool, ...args] = pkg.scripts['build:cli']!.split(' ');
  const out = join(outDir, 'nfsvol.js');
  const argv = args.map((a) => (a.startsWith('--outfile=') ? `--outfile=${out}` : a));
  const bin = tool === 'node' ? process.execPath : join(ROOT, 'node_modules', '.bin', tool!);
  await promisify(execFile)(bin, argv, { cwd: ROOT });
  await writeFile(join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
  await symlink(join(ROOT, 'node_modules'), join(outDir, 'node_modules'));
  return out;
}
