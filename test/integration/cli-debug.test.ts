// NODE_DEBUG=nfsvol on the lab: the real CLI against nfs-ganesha and a Docker host VM traces its
// RPC calls and SSH commands, and no secret reaches the trace: not the key file's path, not the
// key, not a value from the environment.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';

describe('NODE_DEBUG=nfsvol on the lab', () => {
  let server: NfsServer;
  let host: LabHost;
  let user: CliUser;
  const saved = { NODE_DEBUG: process.env['NODE_DEBUG'], SECRET: process.env['NFSVOL_TEST_SECRET'] };

  beforeAll(async () => {
    let hosts: LabHost[];
    [server, hosts] = await Promise.all([startNfsServer(), startHosts(1)]);
    host = hosts[0]!;
    user = await cliUser();
  });

  afterAll(async () => {
    for (const [k, v] of [
      ['NODE_DEBUG', saved.NODE_DEBUG],
      ['NFSVOL_TEST_SECRET', saved.SECRET],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await host?.stop();
    await server?.stop();
  });

  it('traces RPC calls and SSH commands on stderr, never a secret', async () => {
    // The CLI process inherits this environment (test/support/cli.ts passes process.env on).
    process.env['NODE_DEBUG'] = 'nfsvol';
    process.env['NFSVOL_TEST_SECRET'] = 'SECRET-IN-ENV';
    const keyDir = join(user.home, 'SECRET-IN-PATH');
    await mkdir(keyDir, { mode: 0o700 });
    const identity = join(keyDir, 'id_key');
    await copyFile(host.privateKeyPath, identity);
    const kh = join(user.home, 'known_hosts');
    await writeFile(kh, `${host.knownHostsLine}\n`);

    const init = await user.run(['init', server.url(3), '--nfs-version', '3']);
    expectCode(init, 0, 'init');
    const rpc = init.stderr.split('\n').filter((l) => / rpc /.test(l));
    expect(rpc.length).toBeGreaterThan(3);
    for (const l of rpc) {
      expect(l).toMatch(
        /^NFSVOL \d+: rpc [\d.]+:\d+ (NFS|MOUNT) [A-Z]+ xid=0x[0-9a-f]{8} [A-Z0-9_]+ \(\d+\.\d ms\)$/,
      );
    }
    expect(rpc.some((l) => / MOUNT MNT .* OK /.test(l))).toBe(true);
    expect(rpc.some((l) => / NFS (MKDIR|CREATE) .* OK /.test(l))).toBe(true);

    const add = await user.run([
      'host',
      'add',
      'web1',
      '--ssh',
      `root@127.0.0.1:${host.sshPort}`,
      '--identity',
      identity,
      '--known-hosts',
      kh,
      '--nfs-address',
      host.nfsAddress,
    ]);
    expectCode(add, 0, 'host add');
    expect(add.stderr).toMatch(
      /^NFSVOL \d+: ssh web1 connect root@127\.0\.0\.1:\d+ auth=publickey(,agent)?$/m,
    );
    expect(add.stderr).toMatch(/^NFSVOL \d+: ssh web1 exec \["docker",/m);
    expect(add.stderr).toMatch(/^NFSVOL \d+: ssh web1 "docker" exit 0 \(\d+\.\d ms\)$/m);

    const key = await readFile(identity, 'utf8');
    const keyBody = key.split('\n').find((l) => l.length > 40) ?? 'no key line';
    for (const out of [init.stderr + init.stdout, add.stderr + add.stdout]) {
      for (const secret of ['SECRET', identity, keyBody, 'PRIVATE KEY']) expect(out).not.toContain(secret);
    }
  }, 600_000);
});
