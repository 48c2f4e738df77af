import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/app.js';
import { Cluster } from '../../../driver/cluster/cluster.js';
import { SCHEMA_VERSION, type HostRecord } from '../../../driver/core/records.js';
import { fingerprint, hostKeyOf } from '../../../driver/attach/ssh/known-hosts.js';
import type { SshLocalOptions } from '../../../driver/attach/ssh/ssh-config.js';
import { MemoryNfs, sharedView } from '../../fakes/memory-nfs.js';
import { TestSshServer, sshKeygen, type TestKey } from './ssh-fixtures.js';

const URL = 'nfs://127.0.0.1:2049/export';
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => undefined);
});

interface Setup {
  home: string;
  knownHosts: string;
  /** ~/.ssh/id_ed25519: found as a default identity (there is no agent). */
  id: TestKey;
  fs: MemoryNfs;
  ssh: SshLocalOptions;
  open(extra?: Partial<SshLocalOptions>): Promise<Cluster>;
}

async function setup(): Promise<Setup> {
  const home = await mkdtemp(join(tmpdir(), 'nfsvol-trust-'));
  await mkdir(join(home, '.ssh'), { mode: 0o700 });
  const id = sshKeygen('ed25519', join(home, '.ssh'), 'id_ed25519');
  const fs = new MemoryNfs();
  // This machine: a scratch home with its own ~/.ssh, no system files, no agent.
  const ssh: SshLocalOptions = { home, systemConfig: null, systemKnownHosts: [], agent: null };
  const open = async (extra: Partial<SshLocalOptions> = {}): Promise<Cluster> => {
    const c = await Cluster.open(URL, { connectNfs: async () => sharedView(fs), ssh: { ...ssh, ...extra } });
    cleanup.push(() => c.close());
    return c;
  };
  const { cluster } = await Cluster.init({
    connectNfs: async () => sharedView(fs),
    url: URL,
    nfsVersion: '3',
    ssh,
  });
  await cluster.close();
  return { home, knownHosts: join(home, '.ssh', 'known_hosts'), id, fs, ssh, open };
}

async function server(authorized: readonly Buffer[] = []): Promise<TestSshServer> {
  const s = await new TestSshServer(sshKeygen(), authorized).start();
  cleanup.push(() => s.stop());
  return s;
}

/** What someone who can write the export puts in `.nfsvol/hosts/`: any address, any key. */
function forgedRecord(name: string, s: TestSshServer, extra: Record<string, unknown> = {}): HostRecord {
  return {
    schema: SCHEMA_VERSION,
    kind: 'host',
    name,
    addedAt: new Date(0).toISOString(),
    ssh: { user: 'root', address: '127.0.0.1', port: s.port },
    hostKey: hostKeyOf(s.hostKey.blob),
    ...extra,
  } as HostRecord;
}

describe('host records from the export are not trusted on their own', () => {
  it('a record naming a machine this one never vouched for is HOST_UNTRUSTED: no connection, no login, with how to trust it', async () => {
    const t = await setup();
    const evil = await server();
    const c = await t.open();
    // The record even lies about its fingerprint: the message must show the key's real one.
    await c.registry.hosts.create(
      'evil',
      forgedRecord('evil', evil, {
        hostKey: { ...hostKeyOf(evil.hostKey.blob), fingerprint: `SHA256:${'A'.repeat(43)}` },
      }),
    );

    const report = await c.sync();
    expect(report.ok).toBe(false);
    const err = report.hosts[0]?.error;
    expect(err?.code).toBe('HOST_UNTRUSTED');
    expect(err?.message).toContain(fingerprint(evil.hostKey.blob));
    expect(err?.message).toContain(`[127.0.0.1]:${evil.port}`);
    expect(err?.message).toContain('nfsvol host trust evil');
    expect(err?.message).not.toContain('looks-fine');
    const check = await c.checkHost('evil');
    expect(check.checks[0]).toMatchObject({ check: 'ssh', ok: false, error: { code: 'HOST_UNTRUSTED' } });
    expect((await c.listHosts())[0]?.fingerprint).toBe(fingerprint(evil.hostKey.blob));
    // Not even a TCP connection, so certainly no login with this user's keys.
    expect(evil.connections).toBe(0);
    expect(evil.auths).toEqual([]);
  });

  it('host trust shows the key, adds it to known_hosts when confirmed, and then the host is used', async () => {
    const t = await setup();
    const h = await server([t.id.blob]);
    const c = await t.open();
    await c.registry.hosts.create('web1', forgedRecord('web1', h));

    const declined = await c.trustHost('web1', async (q) => {
      expect(q).toMatchObject({
        host: 'web1',
        fingerprint: fingerprint(h.hostKey.blob),
        keyType: 'ssh-ed25519',
        knownHostsName: `[127.0.0.1]:${h.port}`,
        file: t.knownHosts,
      });
      return false;
    });
    expect(declined.status).toBe('declined');
    expect(await c.checkHost('web1')).toMatchObject({ ok: false });

    expect((await c.trustHost('web1', async () => true)).status).toBe('added');
    expect(await readFile(t.knownHosts, 'utf8')).toContain(`[127.0.0.1]:${h.port} ssh-ed25519 `);
    const check = await c.checkHost('web1');
    expect(check.checks[0]).toMatchObject({ check: 'ssh', ok: true });
    expect(h.auths.some((a) => a.method === 'publickey' && a.key === t.id.blob.toString('base64'))).toBe(
      true,
    );
    expect((await c.trustHost('web1', async () => true)).status).toBe('listed');
  });

  it('a key known_hosts contradicts is refused by host trust (the user sorts that out, not the record)', async () => {
    const t = await setup();
    const h = await server();
    await writeFile(t.knownHosts, `[127.0.0.1]:${h.port} ${sshKeygen().public}\n`);
    const c = await t.open();
    await c.registry.hosts.create('web1', forgedRecord('web1', h));
    await expect(c.trustHost('web1', async () => true)).rejects.toMatchObject({ code: 'HOST_KEY_MISMATCH' });
    expect((await c.sync()).hosts[0]?.error?.code).toBe('HOST_UNTRUSTED');
    expect(h.connections).toBe(0);
  });

  it('the system known_hosts vouches too', async () => {
    const t = await setup();
    const h = await server([t.id.blob]);
    const system = join(t.home, 'ssh_known_hosts');
    await writeFile(system, `[127.0.0.1]:${h.port} ${h.hostKey.public}\n`);
    const c = await t.open({ systemKnownHosts: [system] });
    await c.registry.hosts.create('web1', forgedRecord('web1', h));
    expect((await c.checkHost('web1')).checks[0]).toMatchObject({ ok: true });
  });

  it('an identityFile in a record is ignored: a FIFO there does not hang, the local identity logs in', async () => {
    const t = await setup();
    const h = await server([t.id.blob]);
    const fifo = join(t.home, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await writeFile(t.knownHosts, `[127.0.0.1]:${h.port} ${h.hostKey.public}\n`);
    const c = await t.open();
    await c.registry.hosts.create('web1', forgedRecord('web1', h, { identityFile: fifo }));
    expect((await c.registry.hosts.get('web1')) as unknown).not.toHaveProperty('identityFile');
    expect((await c.checkHost('web1')).checks[0]).toMatchObject({ check: 'ssh', ok: true });
    expect([...new Set(h.auths.filter((a) => a.method === 'publickey').map((a) => a.key))]).toEqual([
      t.id.blob.toString('base64'),
    ]);
  }, 20_000);

  it('a local identity that is a FIFO is refused at once, not read', async () => {
    const t = await setup();
    const h = await server([t.id.blob]);
    const fifo = join(t.home, 'fifo');
    execFileSync('mkfifo', [fifo]);
    await writeFile(t.knownHosts, `[127.0.0.1]:${h.port} ${h.hostKey.public}\n`);
    const c = await t.open({ hosts: { web1: { identity: fifo } } });
    await c.registry.hosts.create('web1', forgedRecord('web1', h));
    const check = await c.checkHost('web1');
    expect(check.checks[0]?.error).toMatchObject({ code: 'SSH_IDENTITY_UNUSABLE' });
    expect(check.checks[0]?.detail).toContain('not a regular file');
    expect(h.auths).toEqual([]);
  }, 20_000);
});

describe('which key logs in', () => {
  it("the ssh-agent when there is no key file; the host's --identity first when both are there", async () => {
    const t = await setup();
    const agentKey = sshKeygen('ed25519', t.home, 'agent_key');
    const named = sshKeygen('ed25519', t.home, 'named_key');
    const sock = join(t.home, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    cleanup.push(async () => {
      agent.kill();
    });
    for (let i = 0; i < 100; i++) {
      try {
        execFileSync('ssh-add', [agentKey.file], { env: { SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const h = await server([agentKey.blob, named.blob]);
    await writeFile(t.knownHosts, `[127.0.0.1]:${h.port} ${h.hostKey.public}\n`);
    const viaAgent = await t.open({ agent: sock });
    await viaAgent.registry.hosts.create('web1', forgedRecord('web1', h));
    expect((await viaAgent.checkHost('web1')).checks[0]).toMatchObject({ ok: true });
    const offered = (): string[] => [
      ...new Set(h.auths.filter((a) => a.method === 'publickey').map((a) => a.key ?? '')),
    ];
    expect(offered()).toEqual([agentKey.blob.toString('base64')]);

    h.auths.length = 0;
    const both = await t.open({ agent: sock, hosts: { web1: { identity: named.file } } });
    expect((await both.checkHost('web1')).checks[0]).toMatchObject({ ok: true });
    expect(offered()[0]).toBe(named.blob.toString('base64'));
  }, 20_000);
});

describe('nfsvol host trust (CLI)', () => {
  it('asks on a terminal, refuses to guess without one, and --yes adds the key', async () => {
    const t = await setup();
    const h = await server([t.id.blob]);
    const config = join(t.home, 'config.json');
    const cli = async (
      ask: ((q: string) => Promise<string | undefined>) | undefined,
      ...args: string[]
    ): Promise<{ code: number; stdout: string; stderr: string }> => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(args, {
        io: {
          stdout: (s) => (stdout += s),
          stderr: (s) => (stderr += s),
          env: { NFSVOL_CONFIG: config, HOME: t.home },
          ask: ask ?? (async () => undefined),
        },
        cluster: { connectNfs: async () => sharedView(t.fs), ssh: t.ssh },
      });
      return { code, stdout, stderr };
    };
    expect((await cli(undefined, 'init', URL, '-q')).code).toBe(0);
    const c = await t.open();
    await c.registry.hosts.create('web1', forgedRecord('web1', h));

    const sync = await cli(undefined, 'sync');
    expect(sync.code).not.toBe(0);
    expect(sync.stdout + sync.stderr).toContain('HOST_UNTRUSTED');

    const noTty = await cli(undefined, 'host', 'trust', 'web1');
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('--yes');
    expect(noTty.stderr).toContain(fingerprint(h.hostKey.blob));

    const questions: string[] = [];
    const no = await cli(async (q) => (questions.push(q), 'n'), 'host', 'trust', 'web1');
    expect(no.code).toBe(1);
    expect(questions[0]).toContain(t.knownHosts);
    expect(no.stderr).toContain(fingerprint(h.hostKey.blob));

    const yes = await cli(undefined, 'host', 'trust', 'web1', '--yes');
    expect(yes).toMatchObject({ code: 0 });
    expect(yes.stdout).toContain(`added key ${fingerprint(h.hostKey.blob)}`);
    expect(h.connections).toBe(0);
    const check = await cli(undefined, 'host', 'check', 'web1');
    expect(check.stdout).toMatch(/PASS {2}ssh/);
  }, 30_000);

  it('host add remembers --identity and --known-hosts per host in the local config, never in the registry', async () => {
    const t = await setup();
    const other = sshKeygen('ed25519', t.home, 'other_key');
    const [h1, h2] = [await server([other.blob]), await server([other.blob])];
    const config = join(t.home, 'config.json');
    const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      let stdout = '';
      let stderr = '';
      const code = await runCli(args, {
        io: { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: { NFSVOL_CONFIG: config } },
        cluster: { connectNfs: async () => sharedView(t.fs), ssh: t.ssh },
      });
      return { code, stdout, stderr };
    };
    expect((await cli('init', URL, '-q')).code).toBe(0);
    for (const [i, h] of [h1, h2].entries()) {
      const kh = join(t.home, `known_hosts-${i}`);
      await writeFile(kh, `[127.0.0.1]:${h.port} ${h.hostKey.public}\n`);
      const add = await cli(
        ...['host', 'add', `h${i + 1}`, '--ssh', `root@127.0.0.1:${h.port}`],
        ...['--identity', other.file, '--known-hosts', kh, '-q'],
      );
      expect(add).toMatchObject({ code: 0 });
    }
    const saved = JSON.parse(await readFile(config, 'utf8')) as { hosts: Record<string, unknown> };
    expect(saved.hosts).toEqual({
      h1: { identity: other.file, knownHosts: join(t.home, 'known_hosts-0') },
      h2: { identity: other.file, knownHosts: join(t.home, 'known_hosts-1') },
    });
    const record = JSON.stringify(await (await t.open()).registry.hosts.get('h1'));
    expect(record).not.toContain(other.file);
    for (const name of ['h1', 'h2']) {
      expect((await cli('host', 'check', name)).stdout).toMatch(/PASS {2}ssh/);
    }
    // Only the other key is authorized: the default ~/.ssh/id_ed25519 was not what logged in.
    expect(h1.auths.some((a) => a.key === other.blob.toString('base64'))).toBe(true);
    expect((await cli('host', 'rm', 'h1', '-q')).code).toBe(0);
    expect(Object.keys((JSON.parse(await readFile(config, 'utf8')) as { hosts: object }).hosts)).toEqual([
      'h2',
    ]);
  }, 30_000);
});
