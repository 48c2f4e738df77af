// Single-writer volumes on real Docker hosts: the plugin runs on two lab microVMs over one
// export. While h1's container holds the volume, dockerd on h2 is refused with h1's name; when
// h1 is powered off (it stops renewing its writer lease), h2 mounts once the lease has run out,
// and the container there finds every line h1's container wrote.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';
import { labHostAddArgs } from '../support/lab-host.js';
import { labPluginLog, startLabPlugin } from '../support/lab-plugin.js';

/** The default writer lease: the wait a powered-off holder imposes. */
const LEASE_S = 15;

describe('single-writer volumes through the plugin on two lab hosts', () => {
  let server: NfsServer;
  let h1: LabHost;
  let h2: LabHost;
  let user: CliUser;

  beforeAll(async () => {
    let hosts: LabHost[];
    [server, hosts] = await Promise.all([startNfsServer(), startHosts(2)]);
    [h1, h2] = hosts as [LabHost, LabHost];
    user = await cliUser();
    expectCode(await user.run(['init', server.url(4.1), '-q']), 0, 'init');
    expectCode(await user.run([...(await labHostAddArgs(user.home, 'h1', h1)), '-q']), 0, 'host add h1');
    expectCode(await user.run([...(await labHostAddArgs(user.home, 'h2', h2)), '-q']), 0, 'host add h2');
    await Promise.all([startLabPlugin(h1, 'h1', user.config), startLabPlugin(h2, 'h2', user.config)]);
  }, 900_000);

  afterAll(async () => {
    await Promise.all([h1?.stop(), h2?.stop()]);
    await server?.stop();
  });

  it("h2 is refused with the holder's name while h1 runs; after h1 is powered off h2 mounts once the lease runs out and continues the data", async () => {
    // Made with the CLI, used through the plugin: one registry.
    expectCode(await user.run(['volume', 'create', 'pg', '--access', 'single-writer', '-q']), 0, 'create');
    const hostsOut = await user.run(['host', 'ls', '--format', '{{.Name}} {{.Docker}}']);
    expect(hostsOut.stdout).toBe('h1 plugin\nh2 plugin\n');
    const check = await user.run(['host', 'check', 'h2']);
    expectCode(check, 0, 'host check h2');
    expect(check.stdout).toMatch(/^PASS {2}plugin +socket \/run\/docker\/plugins\/nfsvol.sock is there/m);
    // No local definition anywhere: dockerd learns of pg from the plugin.
    expectCode(await user.run(['sync', '-q']), 0, 'sync');
    expect((await h1.check(['docker', 'volume', 'ls', '--format', '{{.Driver}} {{.Name}}'])).stdout).toBe(
      'nfsvol pg\n',
    );

    await h1.check([
      'docker',
      'run',
      '-d',
      '--name',
      'writer',
      '-v',
      'pg:/data',
      'busybox',
      'sh',
      '-c',
      'i=0; while true; do i=$((i+1)); echo $i >> /data/counter; sleep 0.5; done',
    ]);
    const log = join(server.exportDir, 'pg', 'counter');
    for (let i = 0; !(await readFile(log, 'utf8').catch(() => '')); i++) {
      if (i > 100) throw new Error(`h1's container did not write: ${await labPluginLog(h1)}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const refused = await h2.exec(['docker', 'run', '--rm', '-v', 'pg:/data', 'busybox', 'true']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/VOLUME_HELD: pg is single-writer and held by h1/);
    // A second container on the holder shares its mount.
    expect(
      (await h1.check(['docker', 'run', '--rm', '-v', 'pg:/data', 'busybox', 'head', '-1', '/data/counter']))
        .stdout,
    ).toBe('1\n');

    await h1.powerOff();
    const off = performance.now();
    const lastBefore = Number((await readFile(log, 'utf8')).trim().split('\n').at(-1));
    let took: number;
    let tail: string;
    for (let attempt = 1; ; attempt++) {
      const r = await h2.exec(
        [
          'docker',
          'run',
          '--rm',
          '-v',
          'pg:/data',
          'busybox',
          'sh',
          '-c',
          'echo h2 >> /data/counter && tail -2 /data/counter',
        ],
        { timeoutMs: 180_000 },
      );
      if (r.code === 0) {
        took = (performance.now() - off) / 1000;
        tail = r.stdout;
        console.log(
          `h2 mounted pg ${took.toFixed(1)} s after h1 was powered off (attempt ${attempt}; lease ${LEASE_S} s)`,
        );
        break;
      }
      expect(r.stderr).toMatch(/VOLUME_HELD/);
      if (attempt > 10) throw new Error(`h2 never mounted pg: ${r.stderr}\n${await labPluginLog(h2)}`);
    }
    // Not before the lease ran out, and h1's writes are all there, h2's line after them.
    expect(took).toBeGreaterThanOrEqual(LEASE_S);
    const lines = tail.trim().split('\n');
    expect(lines.at(-1)).toBe('h2');
    expect(Number(lines.at(-2))).toBeGreaterThanOrEqual(lastBefore);
  });
});
