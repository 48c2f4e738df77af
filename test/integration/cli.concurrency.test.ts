// Issue 4 "must show" 3: concurrent CLIs lose no update. Ten real CLI processes, each creating
// twenty volumes at once on the lab NFS server, leave exactly 200 records and 200 directories.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNfsServer, type NfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode, type CliUser } from './cli-helpers.js';

describe('nfsvol CLI: concurrency on a real NFS server', () => {
  let server: NfsServer;
  let users: CliUser[];

  beforeAll(async () => {
    server = await startNfsServer();
    users = await Promise.all(Array.from({ length: 10 }, () => cliUser()));
    // Every "machine" runs init against the same export: the first creates the registry, the rest join it.
    for (const u of users) expectCode(await u.run(['init', server.url(3), '--quiet']), 0, 'init');
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('10 processes x 20 volumes at once: exactly 200 records and 200 directories', async () => {
    const results = await Promise.all(
      users.map((u, p) =>
        u.run(['volume', 'create', ...Array.from({ length: 20 }, (_, i) => `p${p}-v${i}`), '--json']),
      ),
    );
    results.forEach((r, p) => expectCode(r, 0, `process ${p}`));
    for (const r of results) {
      const out = JSON.parse(r.stdout) as { volumes: { status: string }[] };
      expect(out.volumes.filter((v) => v.status === 'created')).toHaveLength(20);
    }

    const records = (await readdir(join(server.exportDir, '.nfsvol', 'volumes'))).filter((f) =>
      f.endsWith('.json'),
    );
    expect(records).toHaveLength(200);
    const dirs: string[] = [];
    for (const e of await readdir(server.exportDir)) {
      if (e !== '.nfsvol' && (await stat(join(server.exportDir, e))).isDirectory()) dirs.push(e);
    }
    expect(dirs.sort()).toEqual(records.map((f) => f.slice(0, -5)).sort());
    expect(await readdir(join(server.exportDir, '.nfsvol', 'tmp'))).toEqual([]);

    const ls = await users[0]!.run(['volume', 'ls', '--json']);
    expectCode(ls, 0, 'ls');
    expect(JSON.parse(ls.stdout)).toHaveLength(200);
  });

  it('racing creates of the same names: each exists exactly once, every process exits 0', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `shared-${i}`);
    const results = await Promise.all(
      users.slice(0, 5).map((u) => u.run(['volume', 'create', ...names, '--json'])),
    );
    results.forEach((r, p) => expectCode(r, 0, `process ${p}`));
    const statuses = results.flatMap(
      (r) => (JSON.parse(r.stdout) as { volumes: { status: string }[] }).volumes,
    );
    expect(statuses.filter((s) => s.status === 'created')).toHaveLength(10);
    expect(statuses.filter((s) => s.status === 'exists')).toHaveLength(40);
  });
});
