/**
 * Runs the README's demo non-interactively, so it cannot rot: the lab comes up, the data
 * written on host1 is read on host2 after host1 loses power, and nothing is left running.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listLabResources } from '../../deploy/lab/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('the demo', () => {
  it('tells the whole story and shows the same checksum on both hosts', async () => {
    const before = await listLabResources();
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'deploy/demo/demo.ts'],
          {
            cwd: ROOT,
            timeout: 600_000,
            maxBuffer: 16 << 20,
            env: { ...process.env, TESTCONTAINERS_RYUK_DISABLED: 'true' },
          },
          (err, out, errOut) =>
            resolve({ code: err ? Number(err.code ?? 1) : 0, stdout: out, stderr: errOut }),
        );
      },
    );
    if (code !== 0) throw new Error(`demo exited ${code}\n${stdout}\n${stderr}`);
    for (const cmd of [
      '$ nfsvol init',
      '$ nfsvol host add host1',
      '$ nfsvol host add host2',
      '$ nfsvol volume create appdata',
      '$ nfsvol host add host3',
      '$ nfsvol volume inspect appdata',
    ]) {
      expect(stdout).toContain(cmd);
    }
    const written = /checksum written on host1: ([0-9a-f]{64})/.exec(stdout)?.[1];
    const read = /checksum read on host2: +([0-9a-f]{64})/.exec(stdout)?.[1];
    expect(written).toBeDefined();
    expect(read).toBe(written);
    expect(stdout).toMatch(/time per step/);
    expect(stdout).toMatch(/Nothing is left running/);
    const after = await listLabResources();
    expect(after).toEqual(before);
  });
});
