// Host certificates on the lab: a lab host's sshd presents a certificate (ssh-keygen -s, a CA
// made here), and a user whose known_hosts holds only the CA's `@cert-authority` line registers
// and uses the host without ever pinning its key by hand; a CA that did not sign it vouches for
// nothing. Real OpenSSH sshd in a qemu microVM, OpenSSH's ssh-keyscan here.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';

const run = promisify(execFile);

describe('@cert-authority: a host certificate signed by a listed CA', () => {
  let server: NfsServer;
  let host: LabHost;
  let user: CliUser;

  beforeAll(async () => {
    let hosts: LabHost[];
    [server, hosts] = await Promise.all([startNfsServer(), startHosts(1)]);
    host = hosts[0]!;
    user = await cliUser();
    const ca = join(user.home, 'host-ca');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lab host CA', '-f', ca]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'another CA', '-f', `${ca}-other`]);
    const pub = join(user.home, 'lab1.pub');
    await writeFile(pub, `${host.hostPublicKey}\n`);
    // Principal: the name the host is reached by, as ssh checks it.
    await run('ssh-keygen', ['-q', '-s', ca, '-I', 'lab1', '-h', '-n', host.sshHost, '-V', '-5m:+1d', pub]);
    const cert = await readFile(join(user.home, 'lab1-cert.pub'));
    await host.check(['sh', '-c', 'cat > /etc/ssh/ssh_host_ed25519_key-cert.pub'], { input: cert });
    await host.check([
      'sh',
      '-c',
      'echo "HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub" >> /etc/ssh/sshd_config && kill -HUP "$(cat /run/sshd.pid)"',
    ]);
    // sshd re-executes on SIGHUP: wait until it offers the certificate.
    for (let i = 0; ; i++) {
      const scan = await run('ssh-keyscan', ['-c', '-p', String(host.sshPort), host.sshHost]).catch(() => ({
        stdout: '',
      }));
      if (scan.stdout.includes('ssh-ed25519-cert-v01@openssh.com')) break;
      if (i > 50) throw new Error('sshd does not offer its certificate');
      await new Promise((r) => setTimeout(r, 200));
    }
    expectCode(await user.run(['init', server.url(4.1), '-q']), 0, 'init');
  }, 900_000);

  afterAll(async () => {
    await host?.stop();
    await server?.stop();
  });

  const addArgs = (kh: string) => [
    'host',
    'add',
    'h1',
    '--ssh',
    `root@${host.sshHost}:${host.sshPort}`,
    '--identity',
    host.privateKeyPath,
    '--known-hosts',
    kh,
    '--nfs-address',
    host.nfsAddress,
  ];
  const caLine = async (file: string) =>
    `@cert-authority [${host.sshHost}]:${host.sshPort} ${(await readFile(`${file}.pub`, 'utf8')).trim()}\n`;

  it('another CA vouches for nothing; the signing CA lets host add and every later command through, pinning nothing', async () => {
    const otherKh = join(user.home, 'known_hosts-other-ca');
    await writeFile(otherKh, await caLine(join(user.home, 'host-ca-other')));
    const refused = await user.run(addArgs(otherKh));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/HOST_KEY_UNKNOWN|not in/);

    const kh = join(user.home, 'known_hosts-ca');
    const listed = await caLine(join(user.home, 'host-ca'));
    await writeFile(kh, listed);
    const added = await user.run([...addArgs(kh), '-q']);
    expectCode(added, 0, 'host add with the CA');
    // Nothing pinned by hand: the CA line is all known_hosts has.
    expect(await readFile(kh, 'utf8')).toBe(listed);
    const check = await user.run(['host', 'check', 'h1']);
    expectCode(check, 0, 'host check');
    expectCode(await user.run(['volume', 'create', 'certified', '-q']), 0, 'volume create');
    expect((await host.check(['docker', 'volume', 'ls', '-q'])).stdout).toContain('certified');
  });
});
