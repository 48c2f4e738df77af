import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster } from '../../../driver/cluster/cluster.js';
import { planSsh } from '../../../driver/attach/ssh/plan.js';
import { SshConfigView, type SshLocalOptions } from '../../../driver/attach/ssh/ssh-config.js';
import { MemoryNfs, sharedView } from '../../fakes/memory-nfs.js';
import { TestSshServer, sshKeygen } from './ssh-fixtures.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

async function home(config: string, system?: string): Promise<{ dir: string; local: SshLocalOptions }> {
  const dir = await mkdtemp(join(tmpdir(), 'nfsvol-sshcfg-'));
  await mkdir(join(dir, '.ssh'), { mode: 0o700 });
  await writeFile(join(dir, '.ssh', 'config'), config);
  let systemConfig: string | null = null;
  if (system !== undefined) {
    systemConfig = join(dir, 'etc-ssh_config');
    await writeFile(systemConfig, system);
  }
  return {
    dir,
    local: { home: dir, systemConfig, systemKnownHosts: [], agent: null, localUser: 'me' },
  };
}

describe('~/.ssh/config as ssh reads it', () => {
  it('applies Host aliases, HostName, Port, User and IdentityFile with ~ and % tokens; first value wins', async () => {
    const { dir, local } = await home(
      [
        'Host web1',
        '  HostName 10.0.0.11',
        '  Port 2222',
        '  User deploy',
        '  IdentityFile ~/.ssh/web_%r_%h',
        'Host *.lan',
        '  User admin',
        'Host *',
        '  User fallback',
        '  IdentityFile %d/.ssh/all',
        '  Port 22',
      ].join('\n'),
    );
    const view = await SshConfigView.load(local);
    expect(view.resolve('web1')).toMatchObject({
      hostname: '10.0.0.11',
      port: 2222,
      user: 'deploy',
      identityFiles: [join(dir, '.ssh/web_deploy_10.0.0.11'), join(dir, '.ssh/all')],
    });
    // Host names are matched in lower case, as ssh lowercases them.
    expect(view.resolve('DB.lan')).toMatchObject({ hostname: 'DB.lan', user: 'admin', port: 22 });

    // What the user typed wins over the config; the rest comes from it.
    const plan = planSsh(view, local, 'web1', { address: 'web1', port: 2200 });
    expect(plan.target).toMatchObject({ host: '10.0.0.11', port: 2200, user: 'deploy', agent: null });
    expect(plan.target.optionalIdentityFiles).toEqual([
      join(dir, '.ssh/web_deploy_10.0.0.11'),
      join(dir, '.ssh/all'),
    ]);
    expect([plan.keyHost, plan.keyPort]).toEqual(['10.0.0.11', 2200]);
    expect(plan.knownHosts.path).toBe(join(dir, '.ssh', 'known_hosts'));
  });

  it('without IdentityFile the default identities are tried; without User the local user', async () => {
    const { dir, local } = await home('Host other\n  User x\n');
    const plan = planSsh(await SshConfigView.load(local), local, 'h', { address: 'plain.example' });
    expect(plan.target.user).toBe('me');
    expect(plan.target.port).toBe(22);
    expect(plan.target.optionalIdentityFiles).toEqual(
      ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(dir, '.ssh', f)),
    );
  });

  it('reads the system config after the user one, with Includes, and HashKnownHosts / known_hosts files from it', async () => {
    const { dir, local } = await home(
      'Include conf.d/*.conf\nHost web1\n  Port 2001\n',
      'Host *\n  HashKnownHosts yes\n  Port 22\n  User sys\n  GlobalKnownHostsFile /etc/x_known\n',
    );
    await mkdir(join(dir, '.ssh', 'conf.d'));
    await writeFile(join(dir, '.ssh', 'conf.d', '10-web.conf'), 'Host web1\n  HostName web1.internal\n');
    await writeFile(join(dir, '.ssh', 'conf.d', 'ignored.txt'), 'Host web1\n  HostName wrong\n');
    const view = await SshConfigView.load(local);
    expect(view.resolve('web1')).toMatchObject({
      hostname: 'web1.internal',
      port: 2001,
      user: 'sys',
      hashKnownHosts: true,
      globalKnownHostsFiles: ['/etc/x_known'],
    });
  });

  it('Match exec is never run; ProxyCommand and chains of bastions are refused with a clear error', async () => {
    const marker = join(tmpdir(), `nfsvol-match-exec-${process.pid}`);
    const { local } = await home(
      [
        `Match exec "touch ${marker}"`,
        '  User pwned',
        'Host viacmd',
        '  ProxyCommand nc %h %p',
        'Host twohops',
        '  ProxyJump a,b',
        'Host b1',
        '  ProxyJump b2',
        'Host nested',
        '  ProxyJump b1',
      ].join('\n'),
    );
    const view = await SshConfigView.load(local);
    expect(view.resolve('x').user).toBeUndefined();
    await expect(readFile(marker)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(() => planSsh(view, local, 'h', { address: 'viacmd' })).toThrow(/ProxyCommand/);
    expect(() => planSsh(view, local, 'h', { address: 'twohops' })).toThrow(/several bastions/);
    expect(() => planSsh(view, local, 'h', { address: 'nested' })).toThrow(/one bastion/);
  });
});

describe('host add through ~/.ssh/config: alias, bastion (ProxyJump), default identity, hashed known_hosts', () => {
  it('reaches a host only through its bastion, logs in with the right users and keys, and later commands do the same', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-jump-'));
    await mkdir(join(dir, '.ssh'), { mode: 0o700 });
    // Only id_ecdsa exists: the defaults are tried in turn.
    const id = sshKeygen('ecdsa', join(dir, '.ssh'), 'id_ecdsa');
    const bastion = await new TestSshServer(sshKeygen(), [id.blob]).start();
    const target = await new TestSshServer(sshKeygen(), [id.blob]).start();
    cleanup.push(
      () => bastion.stop(),
      () => target.stop(),
    );
    await writeFile(
      join(dir, '.ssh', 'config'),
      [
        'Host app',
        '  HostName 127.0.0.1',
        `  Port ${target.port}`,
        '  User deploy',
        '  ProxyJump jumper@gate',
        'Host gate',
        '  HostName 127.0.0.1',
        `  Port ${bastion.port}`,
        'Host *',
        '  HashKnownHosts yes',
      ].join('\n'),
    );
    const knownHosts = join(dir, '.ssh', 'known_hosts');
    // The bastion is known already (as ssh would have it after a first `ssh gate`).
    await writeFile(knownHosts, `[127.0.0.1]:${bastion.port} ${bastion.hostKey.public}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', knownHosts], { stdio: 'ignore' });

    const fs = new MemoryNfs();
    const ssh: SshLocalOptions = { home: dir, systemConfig: null, systemKnownHosts: [], agent: null };
    const opts = { connectNfs: async () => sharedView(fs), ssh };
    const { cluster } = await Cluster.init({ ...opts, url: 'nfs://127.0.0.1/export', nfsVersion: '3' });
    cleanup.push(() => cluster.close());

    await expect(cluster.addHost({ name: 'app', ssh: 'app' })).rejects.toMatchObject({
      code: 'HOST_KEY_UNKNOWN',
    });
    const res = await cluster.addHost({ name: 'app', ssh: 'app', acceptNewHostKey: true });
    expect(res.dockerVersion).toBe('24.0.7');
    expect(res.host.ssh).toEqual({ user: 'deploy', address: 'app', port: target.port });
    expect(bastion.forwards).toContain(`127.0.0.1:${target.port}`);
    expect(bastion.auths.every((a) => a.user === 'jumper')).toBe(true);
    expect(target.auths.some((a) => a.user === 'deploy' && a.key === id.blob.toString('base64'))).toBe(true);
    // The target's key was pinned hashed, where ssh itself finds it.
    const text = await readFile(knownHosts, 'utf8');
    expect(text).not.toContain('127.0.0.1');
    expect(
      execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${target.port}`, '-f', knownHosts], {
        encoding: 'utf8',
      }),
    ).toContain(target.hostKey.blob.toString('base64'));

    // Another command, another process: the record is vouched for by known_hosts, the bastion again.
    const forwards = bastion.forwards.length;
    const c2 = await Cluster.open('nfs://127.0.0.1/export', opts);
    cleanup.push(() => c2.close());
    const check = await c2.checkHost('app');
    expect(check.checks.slice(0, 2)).toMatchObject([
      { check: 'ssh', ok: true },
      { check: 'docker', ok: true },
    ]);
    expect(check.checks[1]?.detail).toMatch(/via the docker CLI \(.*\)/);
    expect(bastion.forwards.length).toBeGreaterThan(forwards);
  }, 30_000);
});
