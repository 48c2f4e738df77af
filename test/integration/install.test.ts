// What a user gets from the published package: `npm pack` builds it (prepack), `npm install -g`
// of the tarball into an empty prefix puts `nfsvol` on the PATH, and the library imports from
// the installed package. Needs the npm registry for the runtime dependencies, not the lab.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface PackResult {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

describe('the npm package', () => {
  it('npm pack, npm install -g into an empty prefix: nfsvol runs from anywhere and the library imports', async () => {
    const work = await mkdtemp(join(tmpdir(), 'nfsvol-install-'));
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
      dependencies: Record<string, string>;
    };

    const packed = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [result] = JSON.parse(packed.stdout) as PackResult[];
    const files = (result?.files ?? []).map((f) => f.path);
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/nfsvol.js', 'dist/driver/index.js']) {
      expect(files, f).toContain(f);
    }
    expect(files).toContain('dist/driver/index.d.ts');
    // nfsvol/testing: the compiled lab and the scripts it runs beside it.
    for (const f of [
      'dist/deploy/testing/index.js',
      'dist/deploy/testing/index.d.ts',
      'dist/deploy/lab/build.sh',
      'dist/deploy/lab/reap.sh',
      'dist/deploy/lab/nfs/entrypoint.sh',
      'dist/deploy/lab/vm/initramfs-init',
      'dist/deploy/lab/vm/lab-init',
    ]) {
      expect(files, f).toContain(f);
    }
    // Nothing but the build: no sources, tests or source maps pointing at files not shipped.
    expect(files.filter((f) => !/^(LICENSE|README\.md|package\.json|dist\/)/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map') || f.startsWith('dist/cli/'))).toEqual([]);

    const prefix = join(work, 'prefix');
    await run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(work, result!.filename)],
      {
        cwd: work,
      },
    );
    const bin = join(prefix, 'bin', 'nfsvol');
    const installed = join(prefix, 'lib', 'node_modules', 'nfsvol');
    // The CLI is one bundle: only the library's own dependencies are installed.
    const deps = (await readdir(join(installed, 'node_modules'))).filter((d) => !d.startsWith('.'));
    expect(deps).not.toContain('yargs');
    expect(deps).toEqual(expect.arrayContaining(Object.keys(pkg.dependencies)));

    // From a directory with another package.json: the version is the installed package's.
    const elsewhere = join(work, 'elsewhere');
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, 'package.json'), JSON.stringify({ name: 'other', version: '9.9.9' }));
    const env = { ...process.env, NFSVOL_CONFIG: join(work, 'no-config.json') };
    const version = await run(bin, ['--version'], { cwd: elsewhere, env });
    expect(version.stdout).toBe(`${pkg.version}\n`);
    expect((await run(bin, ['--version'], { cwd: '/', env })).stdout).toBe(`${pkg.version}\n`);
    const help = await run(bin, ['--help'], { cwd: elsewhere, env });
    expect(help.stdout).toContain('nfsvol volume');
    expect(help.stdout).toContain('Exit codes:');
    const bad = await run(bin, ['volume', 'create', '$(id)'], { cwd: elsewhere, env }).catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(bad).toMatchObject({ code: 2 });

    // The library, as a project that depends on nfsvol imports it (through `exports`).
    const project = join(work, 'project');
    await mkdir(join(project, 'node_modules'), { recursive: true });
    await writeFile(join(project, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    await symlink(installed, join(project, 'node_modules', 'nfsvol'));
    const lib = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('nfsvol'); console.log(typeof m.NfsClient.connect, typeof m.Cluster.open);",
      ],
      { cwd: project },
    );
    expect(lib.stdout).toBe('function function\n');
  }, 300_000);
});
