// The NFS server is restarted while one `nfsvol volume create` of 500 volumes
// runs. Afterwards each volume exists exactly once, the registry matches the export, and the
// CLI's exit code and output say what happened. The real CLI process against the lab's ganesha.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pollUntil, startNfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode } from '../support/cli.js';

const COUNT = 500;

async function volumeDirs(exportDir: string): Promise<string[]> {
  return (await readdir(exportDir)).filter((n) => !n.startsWith('.')).sort();
}

describe('faults: NFS server restart', () => {
  it('fault 1: server restarted during a create of 500 volumes: each exists once, the registry matches the export', async () => {
    await using server = await startNfsServer();
    const user = await cliUser();
    expectCode(await user.run(['init', server.url(3)]), 0, 'init');
    const names = Array.from({ length: COUNT }, (_, i) => `r${String(i).padStart(3, '0')}`);

    // --verbose: one progress line per volume, so the output tells which records a retry completed.
    const creating = user.run(['volume', 'create', '--verbose', ...names]);
    let finished = false;
    void creating.then(() => (finished = true));
    // Restart as soon as the first directories appear: the create is then mid-way.
    const seen = await pollUntil(
      'the first volume directories',
      async () => {
        const n = (await volumeDirs(server.exportDir)).length;
        return n > 0 || finished ? n : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 5 },
    );
    const restartedAt = performance.now();
    await server.restart();
    const r = await creating;
    const endedAt = performance.now();

    // The restart landed while the CLI was still creating: fewer than 500 existed when it began.
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(COUNT);
    expect(endedAt).toBeGreaterThan(restartedAt);

    // What the user sees: everything done, exit 0, the count, no failure lines.
    expectCode(r, 0, 'create across a restart');
    expect(r.stdout).toMatch(new RegExp(`^created ${COUNT} volume\\(s\\)$`, 'm'));
    expect(r.stdout).not.toMatch(/FAILED|already existed/);
    expect(r.stderr.match(/^nfsvol: r\d{3}: created/gm)).toHaveLength(COUNT);

    // On the export: exactly the 500 directories, exactly the 500 records, each complete and
    // naming its own volume; no temporary files or locks left behind.
    expect(await volumeDirs(server.exportDir)).toEqual(names);
    const reg = join(server.exportDir, '.nfsvol');
    const records = (await readdir(join(reg, 'volumes'))).sort();
    expect(records).toEqual(names.map((n) => `${n}.json`));
    for (const f of records) {
      const rec = JSON.parse(await readFile(join(reg, 'volumes', f), 'utf8')) as {
        name: string;
        kind: string;
      };
      expect(rec).toMatchObject({ kind: 'volume', name: f.slice(0, -5) });
    }
    expect(await readdir(join(reg, 'tmp'))).toEqual([]);

    // And the CLI agrees with the export.
    const ls = await user.run(['volume', 'ls', '--json']);
    expectCode(ls, 0, 'ls');
    expect((JSON.parse(ls.stdout) as { name: string }[]).map((v) => v.name)).toEqual(names);
  });
});
