// The lab's fault injection works as the reliability tests will rely on: a host's link cut and
// restored, its host key changed (and refused by a client that pinned the old one), and the NFS
// server restarted under a mounted client.
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';

const run = promisify(execFile);

/** The OpenSSH client with strict host-key checking against one known_hosts line. */
async function sshWithKnownHost(
  host: LabHost,
  knownHostsLine: string,
): Promise<{ code: number; stderr: string; stdout: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'lab-kh-'));
  await writeFile(join(dir, 'known_hosts'), `${knownHostsLine}\n`);
  const args = [
    ...['-i', host.privateKeyPath, '-p', String(host.sshPort)],
    ...['-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes'],
    ...['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', `${host.user}@${host.sshHost}`, 'hostname'],
  ];
  try {
    const { stdout, stderr } = await run('ssh', args);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('lab: fault injection', () => {
  let server: NfsServer;
  let host: LabHost;

  beforeAll(async () => {
    let hosts: LabHost[];
    [server, hosts] = await Promise.all([startNfsServer(), startHosts(1)]);
    const [first] = hosts;
    if (first === undefined) throw new Error('one host expected');
    host = first;
  });

  afterAll(async () => {
    await Promise.allSettled([server?.stop(), host?.stop()]);
  });

  it('setLink(false) cuts the host off, setLink(true) brings it back', async () => {
    await host.setLink(false);
    const cut = await host.exec(['true'], { timeoutMs: 5_000 }).then(
      () => 'answered',
      (error: unknown) => (error as { code?: string }).code,
    );
    expect(cut).toBe('SSH_ERROR');
    await host.setLink(true);
    expect((await host.check(['echo', 'back'])).stdout).toBe('back\n');
  });

  it('the host key is the one announced in advance; after regenerateHostKey() the old pin is refused', async () => {
    const oldLine = host.knownHostsLine;
    expect(oldLine).toMatch(/^\[127\.0\.0\.1\]:\d+ ssh-ed25519 [A-Za-z0-9+/=]+$/);
    expect((await sshWithKnownHost(host, oldLine)).stdout.trim()).toBe(host.name);

    await host.regenerateHostKey();
    expect(host.knownHostsLine).not.toBe(oldLine);
    const refused = await sshWithKnownHost(host, oldLine);
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    expect((await sshWithKnownHost(host, host.knownHostsLine)).stdout.trim()).toBe(host.name);

    // The new key is on the config disk too: it survives a power cycle.
    await host.powerOff();
    await host.powerOn();
    expect((await sshWithKnownHost(host, host.knownHostsLine)).code).toBe(0);
  });

  it('a mounted NFSv4.1 client carries on across server.restart()', async () => {
    const mnt = '/mnt/restart';
    await host.check(['mkdir', '-p', mnt]);
    await host.check([
      'mount',
      '-t',
      'nfs4',
      '-o',
      `vers=4.1,port=${server.nfsPort}`,
      '10.0.2.2:/export',
      mnt,
    ]);
    await host.check(['sh', '-c', 'echo before >"$1/restart.txt"', 'sh', mnt]);
    await server.restart();
    expect((await host.check(['cat', `${mnt}/restart.txt`])).stdout).toBe('before\n');
    await host.check(['sh', '-c', 'echo after >>"$1/restart.txt"', 'sh', mnt]);
    expect((await host.check(['cat', `${mnt}/restart.txt`])).stdout).toBe('before\nafter\n');
    await host.check(['umount', mnt]);
  });
});
