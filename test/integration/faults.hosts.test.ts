// Faults on the lab (a host cut off, a host restarted, a power cut): the real CLI, a real NFS server and two real Docker
// hosts (qemu microVMs), in that order on one lab (the power cut comes last).
//   fault 4: hostile names and options are refused or safely quoted, and no command ran on any
//            host (a canary file an injected command would create does not appear);
//   fault 2: a host's link cut during `sync`: the other host finishes, the cut one is reported
//            and recorded as pending (exit 3); after the link returns, `sync` completes it;
//   fault 3: a host powered off while a container on it writes: what was synced before the cut
//            is intact (checksums) when the container is recreated on the other host.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../driver/common/concurrency.js';
import {
  pollUntil,
  startHosts,
  startNfsServer,
  type LabHost,
  type NfsServer,
} from '../../deploy/lab/index.js';
import { HOSTILE_NAMES } from '../fakes/hostile-inputs.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';

async function dockerVolumes(h: LabHost): Promise<string[]> {
  const r = await h.check(['docker', 'volume', 'ls', '--quiet', '--filter', 'label=nfsvol.managed=true']);
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe('faults on the lab hosts', () => {
  let server: NfsServer;
  let hosts: LabHost[] = [];
  let user: CliUser;

  beforeAll(async () => {
    [server, hosts] = await Promise.all([startNfsServer(), startHosts(2)]);
    user = await cliUser();
    expectCode(await user.run(['init', server.url(3), '--nfs-version', '4.1']), 0, 'init');
    for (const [i, h] of hosts.entries()) {
      const kh = join(user.home, `known_hosts-${i}`);
      await writeFile(kh, `${h.knownHostsLine}\n`);
      const add = [
        ...['host', 'add', `h${i + 1}`, '--ssh', `${h.user}@${h.sshHost}:${h.sshPort}`],
        ...['--identity', h.privateKeyPath, '--known-hosts', kh, '--nfs-address', h.nfsAddress],
      ];
      expectCode(await user.run(add), 0, `host add h${i + 1}`);
    }
  });

  afterAll(async () => {
    await Promise.allSettled([...hosts.map((h) => h.stop()), server?.stop()]);
  });

  it('fault 4: hostile names and options are refused or quoted, and no injected command runs anywhere', async () => {
    const [h1, h2] = hosts as [LabHost, LabHost];
    const canary = `/tmp/nfsvol-canary-${randomBytes(4).toString('hex')}`;
    const injections = [
      `$(touch ${canary})`,
      `;touch ${canary}`,
      `a;touch ${canary}`,
      `\`touch ${canary}\``,
      `a\ntouch ${canary}`,
      `a && touch ${canary}`,
      `a|touch ${canary}`,
      `'; touch ${canary}; '`,
    ];
    const before = (await readdir(server.exportDir)).sort();

    // Refused before anything runs: exit 2, one line naming the problem.
    const refused: string[][] = [
      // A NUL cannot be in an argument vector at all (execve): that one stays with the unit tests.
      ...[...HOSTILE_NAMES.filter((n) => !n.includes('\0')), ...injections].map((n) => [
        'volume',
        'create',
        n,
      ]),
      ...injections.flatMap((n) => [
        ['volume', 'inspect', n],
        ['volume', 'rm', n, '--force'],
        ['volume', 'mount', 'ok', '--host', n, '--path', '/mnt/x'],
        ['host', 'add', n, '--ssh', `root@127.0.0.1:${h1.sshPort}`],
        ['sync', '--host', n],
      ]),
      ['host', 'add', 'h9', '--ssh', `root@$(touch ${canary})`],
      ['volume', 'create', 'ok', '--uid', `$(touch ${canary})`],
      ['volume', 'create', 'ok', '--gid', `1;touch ${canary}`],
      ['volume', 'create', 'ok', '--mode', `0755;touch ${canary}`],
      ['volume', 'create', 'ok', '--label', `$(touch ${canary})=x`],
      ['volume', 'create', 'ok', '--label', `k=a\ntouch ${canary}`],
      ['volume', 'create', 'ok', '--on-delete', `retain;touch ${canary}`],
      ['volume', 'mount', 'ok', '--host', 'h1', '--path', `../tmp/x`],
      ['volume', 'mount', 'ok', '--host', 'h1', '--path', `/mnt/a\ntouch ${canary}`],
    ];
    const results = await mapLimit(refused, 3, async (args) => ({ args, r: await user.run(args) }));
    for (const { args, r } of results) {
      expectCode(r, 2, JSON.stringify(args));
      expect(r.stdout).toBe('');
      // One line naming the problem (yargs' own choice errors take a second line for the choices).
      expect(r.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
      expect(r.stderr).toMatch(/^nfsvol: \S/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    expect((await readdir(server.exportDir)).sort()).toEqual(before);

    // Accepted, and kept as literal data: a label value with '=' and shell syntax, and a mount
    // path with shell syntax (a plain directory name to the host).
    const label = `note=a=b $(touch ${canary}) \`touch ${canary}\`; touch ${canary}`;
    expectCode(
      await user.run(['volume', 'create', 'ok', '--label', label, '--label', 'opts=x=y=z']),
      0,
      'create ok',
    );
    const ins = await user.run(['volume', 'inspect', 'ok', '--json']);
    expect((JSON.parse(ins.stdout) as { labels: Record<string, string> }).labels).toEqual({
      note: label.slice('note='.length),
      opts: 'x=y=z',
    });
    const path = `/mnt/$(touch ${canary.slice(1)})`;
    expectCode(await user.run(['volume', 'mount', 'ok', '--host', 'h1', '--path', path]), 0, 'mount');
    expect((await h1.exec(['mountpoint', '-q', path])).code).toBe(0);
    expectCode(await user.run(['volume', 'unmount', 'ok', '--host', 'h1']), 0, 'unmount');

    // No injected command ran: not on either host, not on this machine.
    for (const h of [h1, h2]) {
      expect((await h.exec(['test', '-e', canary])).code).toBe(1);
      expect((await h.exec(['sh', '-c', 'ls /tmp | grep -c canary || true'])).stdout.trim()).toBe('0');
    }
    expect(existsSync(canary)).toBe(false);
    expect(await dockerVolumes(h1)).toEqual(['ok']);
  });

  it('fault 2: a link cut during sync: the other host finishes, the cut one is pending (exit 3); sync completes it later', async () => {
    const [h1, h2] = hosts as [LabHost, LabHost];
    const vols = ['l1', 'l2', 'l3'];
    expectCode(await user.run(['volume', 'create', ...vols, '-q']), 0, 'create');
    // Definitions lost out of band on both hosts: `sync` has work to do on each.
    for (const h of [h1, h2]) await h.check(['docker', 'volume', 'rm', ...vols]);

    const syncing = user.run(['sync']);
    await h2.setLink(false);
    // The link comes back even when an assertion below fails, so the next test has both hosts.
    await using _restore = { [Symbol.asyncDispose]: () => h2.setLink(true) };
    const r = await syncing;
    expectCode(r, 3, 'sync with h2 cut');
    expect(r.stdout).toMatch(/^host h1: ok, 3 defined/m);
    expect(r.stdout).toMatch(/^host h2: FAILED .*\(HOST_UNREACHABLE\); pending$/m);
    expect(await dockerVolumes(h1)).toEqual(expect.arrayContaining(vols));
    const ls = JSON.parse((await user.run(['host', 'ls', '--json'])).stdout) as {
      name: string;
      pending: string[];
    }[];
    expect(ls.find((h) => h.name === 'h1')?.pending).toEqual([]);
    expect(ls.find((h) => h.name === 'h2')?.pending.length).toBeGreaterThan(0);

    await h2.setLink(true);
    await pollUntil(
      'h2 answers over SSH again',
      async () =>
        (await h2.exec(['true'], { timeoutMs: 5_000 }).catch(() => undefined))?.code === 0 ? true : undefined,
      {
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
    const again = await user.run(['sync']);
    expectCode(again, 0, 'sync after the link returns');
    expect(again.stdout).toMatch(/^host h2: ok, 3 defined/m);
    expect(await dockerVolumes(h2)).toEqual(expect.arrayContaining(vols));
    const after = JSON.parse((await user.run(['host', 'ls', '--json'])).stdout) as { pending: string[] }[];
    expect(after.every((h) => h.pending.length === 0)).toBe(true);
  });

  it('fault 3: power cut while a container writes: everything synced before the cut is intact on the other host', async () => {
    const [h1, h2] = hosts as [LabHost, LabHost];
    expectCode(await user.run(['volume', 'create', 'pc', '-q']), 0, 'create pc');
    // Chunks of 256 KiB, each synced (fsync of the file system) before its checksum is printed.
    const script =
      'i=0; while [ $i -lt 400 ]; do i=$((i+1)); ' +
      'dd if=/dev/urandom of=/data/c$i bs=64k count=4 2>/dev/null && sync && ' +
      'echo "synced $i $(md5sum /data/c$i | cut -d" " -f1)"; done';
    await h1.check([
      'docker',
      'run',
      '-d',
      '--name',
      'writer',
      '--network',
      'none',
      '-v',
      'pc:/data',
      'busybox',
      'sh',
      '-c',
      script,
    ]);
    const acknowledged = await pollUntil(
      'five synced chunks',
      async () => {
        const logs = (await h1.check(['docker', 'logs', 'writer'])).stdout;
        const lines = logs.split('\n').filter((l) => /^synced \d+ [0-9a-f]{32}$/.test(l));
        return lines.length >= 5 ? lines : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100 },
    );
    await h1.powerOff();
    const acked = acknowledged.map((l) => {
      const [, n, md5] = l.split(' ');
      return { file: `c${n}`, md5: md5 ?? '' };
    });
    // The writer was cut mid-way, not after it finished.
    expect(acked.length).toBeLessThan(400);

    // The container recreated on h2 with the same -v NAME:/data reads every acknowledged chunk.
    const read = await h2.check([
      'docker',
      'run',
      '--rm',
      '--network',
      'none',
      '-v',
      'pc:/data',
      'busybox',
      'md5sum',
      ...acked.map((a) => `/data/${a.file}`),
    ]);
    const seen = read.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[0]);
    expect(seen).toEqual(acked.map((a) => a.md5));
    // And so do the bytes on the export.
    for (const a of acked) {
      const bytes = await readFile(join(server.exportDir, 'pc', a.file));
      expect(bytes.length).toBe(256 * 1024);
      expect(createHash('md5').update(bytes).digest('hex')).toBe(a.md5);
    }
  });
});
