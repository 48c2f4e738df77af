// examples/failover-test as its user runs it: nfsvol built as the package, the example's own
// npm install (nfsvol linked with file:../..), then its vitest suite in its own process, against
// the images this checkout already has cached.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { labCacheDir } from '../../deploy/lab/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples', 'failover-test');
const run = promisify(execFile);

/** This process's environment without what would make the example's vitest think it is ours. */
function exampleEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'),
  );
  return { ...env, NFSVOL_LAB_CACHE: labCacheDir(), TESTCONTAINERS_RYUK_DISABLED: 'true' };
}

describe('examples/failover-test', () => {
  it('passes with vitest from its own project', async () => {
    const opts = { maxBuffer: 64 * 1024 * 1024, env: exampleEnv() };
    await run('npm', ['run', 'build'], { ...opts, cwd: ROOT, timeout: 300_000 });
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
      ...opts,
      cwd: EXAMPLE,
      timeout: 300_000,
    });
    const result = await run('npx', ['vitest', 'run'], { ...opts, cwd: EXAMPLE, timeout: 600_000 }).catch(
      (error: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`example failed: ${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
      },
    );
    expect(result.stdout).toMatch(/1 passed/);
  });
});
