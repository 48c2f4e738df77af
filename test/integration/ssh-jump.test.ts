// SSH as users have it, on the lab: a Docker host reachable only through a bastion (ProxyJump in
// ~/.ssh/config), and the authorized_keys options that decide which Docker path nfsvol can take.
// Real OpenSSH servers in qemu microVMs, the real CLI as a process with its own HOME.
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHosts, startNfsServer, type LabHost, type NfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';

describe('SSH on the lab: ProxyJump through a bastion, and authorized_keys restrictions', () => {
  let server: NfsServer;
  let hosts: LabHost[] = [];
  let user: CliUser;

  beforeAll(async () => {
    [server, hosts] = await Promise.all([startNfsServer(), startHosts(2)]);
    user = await cliUser();
    const [bastion, app] = hosts as [LabHost, LabHost];
    const ssh = join(user.home, '.ssh');
    await mkdir(ssh, { recursive: true, mode: 0o700 });
    // The app host is given by an address only the bastion can reach: 10.0.2.2 is the machine's
    // loopback as a VM sees it, and no address of this machine at all.
    await writeFile(
      join(ssh, 'config'),
      [
        'Host bastion',
        '  HostName 127.0.0.1',
        `  Port ${bastion.sshPort}`,
        '  User root',
        `  IdentityFile ${bastion.privateKeyPath}`,
        'Host app',
        '  HostName 10.0.2.2',
        `  Port ${app.sshPort}`,
        '  User root',
        `  IdentityFile ${app.privateKeyPath}`,
        '  ProxyJump bastion',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(ssh, 'known_hosts'),
      `${bastion.knownHostsLine}\n[10.0.2.2]:${app.sshPort} ${app.hostPublicKey}\n`,
    );
    expectCode(await user.run(['init', server.url(3), '--nfs-version', '4.1', '-q']), 0, 'init');
  });

  afterAll(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
    await server?.stop();
  });

  it('host add by alias goes through the bastion; every later command does too', async () => {
    const add = await user.run(['host', 'add', 'app', '--ssh', 'app', '--nfs-address', '10.0.2.2']);
    expectCode(add, 0, 'host add app');
    expect(add.stdout).toMatch(/added host app \(root@app:\d+, key SHA256:\S+, docker \S+\)/);
    const check = await user.run(['host', 'check', 'app']);
    expectCode(check, 0, 'host check app');
    expect(check.stdout.match(/^PASS/gm)).toHaveLength(4);
    expect(check.stdout).toMatch(/PASS {2}docker +server \S+, via the Engine API over the forwarded socket/);

    const created = await user.run(['volume', 'create', 'jumped']);
    expectCode(created, 0, 'volume create');
    const app = hosts[1] as LabHost;
    const names = (await app.check(['docker', 'volume', 'ls', '--quiet'])).stdout.split('\n');
    expect(names).toContain('jumped');
  });

  it('a record whose key this machine does not list is refused before any connection, and host trust fixes it', async () => {
    // Another machine of this user: same ssh config, but its known_hosts lacks the app host.
    const other = await cliUser();
    await mkdir(join(other.home, '.ssh'), { recursive: true, mode: 0o700 });
    await writeFile(join(other.home, '.ssh', 'config'), await readFile(join(user.home, '.ssh', 'config')));
    await writeFile(join(other.home, '.ssh', 'known_hosts'), `${(hosts[0] as LabHost).knownHostsLine}\n`);
    await mkdir(join(other.home, '.config', 'nfsvol'), { recursive: true });
    await writeFile(other.config, await readFile(user.config));

    const refused = await other.run(['host', 'check', 'app']);
    expectCode(refused, 1, 'check on a machine that does not vouch');
    expect(refused.stdout).toMatch(/FAIL {2}ssh .*not in .*known_hosts.*nfsvol host trust app/);
    const trusted = await other.run(['host', 'trust', 'app', '--yes']);
    expectCode(trusted, 0, 'host trust');
    // Debian's /etc/ssh/ssh_config says HashKnownHosts yes: the line is hashed, and ssh finds it.
    const kh = join(other.home, '.ssh', 'known_hosts');
    expect(await readFile(kh, 'utf8')).not.toContain('10.0.2.2');
    const found = execFileSync(
      'ssh-keygen',
      ['-F', `[10.0.2.2]:${(hosts[1] as LabHost).sshPort}`, '-f', kh],
      {
        encoding: 'utf8',
      },
    );
    expect(found).toContain((hosts[1] as LabHost).hostPublicKey.split(' ')[1]);
    expectCode(await other.run(['host', 'check', 'app']), 0, 'check after trust');
  });

  it('"restrict" in authorized_keys stops the socket forwarding (docker CLI is used); "restrict,port-forwarding" allows it', async () => {
    const bastion = hosts[0] as LabHost;
    const ssh = `root@127.0.0.1:${bastion.sshPort}`;
    const kh = join(user.home, '.ssh', 'known_hosts');
    const add = await user.run([
      'host',
      'add',
      'direct',
      '--ssh',
      ssh,
      '--identity',
      bastion.privateKeyPath,
      '--known-hosts',
      kh,
      '--nfs-address',
      bastion.nfsAddress,
    ]);
    expectCode(add, 0, 'host add direct');
    const pub = (await readFile(`${bastion.privateKeyPath}.pub`, 'utf8')).trim();
    const setKeyOptions = async (options: string): Promise<void> => {
      const line = options === '' ? pub : `${options} ${pub}`;
      await bastion.check(['sh', '-c', 'cat > /root/.ssh/authorized_keys'], { input: `${line}\n` });
      bastion.disconnect();
    };
    try {
      await setKeyOptions('restrict');
      const restricted = await user.run(['host', 'check', 'direct']);
      expect(restricted.stdout).toMatch(/PASS {2}docker +server \S+, via the docker CLI \(.+\)/);

      await setKeyOptions('restrict,port-forwarding');
      const allowed = await user.run(['host', 'check', 'direct']);
      expect(allowed.stdout).toMatch(/PASS {2}docker +server \S+, via the Engine API/);
    } finally {
      await setKeyOptions('');
    }
  });
});
