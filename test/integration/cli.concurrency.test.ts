// Concurrent CLIs lose no update. Ten real CLI processes, each creating
// twenty volumes at once on the lab NFS server, leave exactly 200 records and 200 directories.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNfsServer, type NfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';

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

    const ls = await users[0]!.run(['volume', 'ls', '--json', '--verbose']);
    expectCode(ls, 0, 'ls');
    expect((JSON.parse(ls.stdout) as { name: string }[]).map((v) => v.name)).toEqual(
      records.map((f) => f.slice(0, -5)).sort(),
    );
    // Ten processes rewrote the listing cache at once: the last rename won, the others' lines
    // are misses that this listing read and put back; the next listing, anywhere, reads none.
    expect(ls.stderr).toMatch(/listed 200 volume\(s\): \d+ from the listing cache, \d+ record\(s\) read/);
    const again = await users[1]!.run(['volume', 'ls', '--json', '--verbose']);
    expect(again.stdout).toBe(ls.stdout);
    expect(again.stderr).toContain('listed 200 volume(s): 200 from the listing cache, 0 record(s) read');
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

  it('the NFS server restarts while 500 volumes are being created: each exists exactly once, exit 0', async () => {
    const names = Array.from({ length: 500 }, (_, i) => `restart-${i}`);
    const user = users[0]!;
    let finished = false;
    const creating = user.run(['volume', 'create', ...names, '--json']).finally(() => {
      finished = true;
    });
    // Restart once the CLI is past start-up and creating (records appear on the export).
    const dir = join(server.exportDir, '.nfsvol', 'volumes');
    for (let i = 0; i < 200; i++) {
      if ((await readdir(dir)).some((f) => f.startsWith('restart-'))) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(finished, 'the CLI was still creating when the server went down').toBe(false);
    await server.restart();
    const r = await creating;
    expectCode(r, 0, 'create across a restart');
    const out = JSON.parse(r.stdout) as { volumes: { name: string; status: string }[] };
    expect(out.volumes.filter((v) => v.status === 'created')).toHaveLength(500);
    const records = (await readdir(dir)).filter((f) => f.startsWith('restart-') && f.endsWith('.json'));
    expect(records).toHaveLength(500);
    const dirs = (await readdir(server.exportDir)).filter((e) => e.startsWith('restart-'));
    expect(dirs.sort()).toEqual(records.map((f) => f.slice(0, -5)).sort());
    for (const f of records) {
      expect((await stat(join(dir, f))).size, f).toBeGreaterThan(0);
    }
  });

  it('Ctrl-C during a create of 3,000 volumes: exit 130, the report matches the export, the same command finishes', async () => {
    const names = Array.from({ length: 3000 }, (_, i) => `int-${String(i).padStart(4, '0')}`);
    const user = users[1]!;
    const { child, done } = user.start(['volume', 'create', ...names, '--json']);
    const dir = join(server.exportDir, '.nfsvol', 'volumes');
    for (let i = 0; i < 400; i++) {
      if ((await readdir(dir)).filter((f) => f.startsWith('int-')).length >= 100) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGINT');
    const r = await done;
    expectCode(r, 130, 'interrupted create');
    expect(r.stderr).toContain('nfsvol: interrupted; finishing the steps in flight');
    const out = JSON.parse(r.stdout) as {
      volumes: { name: string; status: string; error?: { code: string } }[];
    };
    const created = out.volumes.filter((v) => v.status === 'created').map((v) => v.name);
    const notStarted = out.volumes.filter((v) => v.error?.code === 'INTERRUPTED');
    expect(created.length).toBeGreaterThanOrEqual(100);
    expect(notStarted.length).toBeGreaterThan(0);
    expect(created.length + notStarted.length).toBe(3000);
    // Exactly what the report says exists is on the export, each volume whole.
    const records = (await readdir(dir)).filter((f) => f.startsWith('int-'));
    expect(records.map((f) => f.slice(0, -5)).sort()).toEqual([...created].sort());
    const dirs = (await readdir(server.exportDir)).filter((e) => e.startsWith('int-'));
    expect(dirs.sort()).toEqual([...created].sort());
    for (const f of records) expect((await stat(join(dir, f))).size, f).toBeGreaterThan(0);

    const again = await user.run(['volume', 'create', ...names, '--json']);
    expectCode(again, 0, 'create again');
    const second = JSON.parse(again.stdout) as { volumes: { status: string }[] };
    expect(second.volumes.filter((v) => v.status === 'created')).toHaveLength(3000 - created.length);
    expect((await readdir(dir)).filter((f) => f.startsWith('int-'))).toHaveLength(3000);
  });
});
