/**
 * The nfsvol CLIs a benchmark times: this tree's, and with `--against REV` also the CLI of
 * another commit, built the same way from a temporary checkout of REV, so that one run can show
 * whether a change made any benchmark slower (each benchmark alternates the two, ABAB).
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bundleCli } from '../test/support/bundle-cli.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));

export interface CliVariant {
  /** `nfsvol` for this tree, `nfsvol@REV` for the other commit. */
  readonly label: string;
  /** The bundled CLI script (what the package's `bin` points to). */
  readonly main: string;
}

export const argString = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

/**
 * Builds REV's CLI with REV's own `build:cli` script (esbuild from this tree's node_modules) in a
 * temporary checkout made by `git archive`, which leaves no worktree or ref behind.
 */
async function bundleAt(rev: string): Promise<string> {
  const { stdout } = await run('git', ['-C', ROOT, 'rev-parse', '--verify', `${rev}^{commit}`]);
  const commit = stdout.trim();
  const src = await mkdtemp(join(tmpdir(), `nfsvol-bench-src-${commit.slice(0, 8)}-`));
  const out = await mkdtemp(join(tmpdir(), `nfsvol-bench-dist-${commit.slice(0, 8)}-`));
  try {
    await run('sh', ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'sh', ROOT, commit, src]);
    await symlink(join(ROOT, 'node_modules'), join(src, 'node_modules'));
    const pkg = JSON.parse(await readFile(join(src, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const script = pkg.scripts['build:cli'];
    if (!script) throw new Error(`${rev} has no build:cli script in package.json`);
    const [tool, ...args] = script.split(' ');
    const main = join(out, 'nfsvol.js');
    const argv = args.map((a) => (a.startsWith('--outfile=') ? `--outfile=${main}` : a));
    // `node script.mjs` runs on this node; any other tool is one of node_modules/.bin.
    await run(tool === 'node' ? process.execPath : join(ROOT, 'node_modules', '.bin', tool!), argv, {
      cwd: src,
    });
    await writeFile(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
    await symlink(join(ROOT, 'node_modules'), join(out, 'node_modules'));
    return main;
  } finally {
    await rm(src, { recursive: true, force: true });
  }
}

let variants: Promise<CliVariant[]> | undefined;

/** This tree's CLI, then (with `--against REV[,REV...]`) each REV's; each built once per process. */
export function cliVariants(): Promise<CliVariant[]> {
  variants ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-bench-dist-'));
    await mkdir(dir, { recursive: true });
    const list: CliVariant[] = [{ label: 'nfsvol', main: await bundleCli(dir) }];
    // `--against A,B`: several revisions in one run, so each comparison shares its load.
    const revs = (argString('against') ?? '').split(',').filter((r) => r !== '');
    for (const rev of revs) list.push({ label: `nfsvol@${rev}`, main: await bundleAt(rev) });
    return list;
  })();
  return variants;
}

/** The variants in the order for repetition `r`: forward on even runs, reversed on odd (ABBA...). */
export const inTurn = <T>(xs: readonly T[], r: number): T[] => (r % 2 === 0 ? [...xs] : [...xs].reverse());
