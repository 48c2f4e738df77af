import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from 'ssh2';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../cli/app.js';
import { debugSectionEnabled, setDebug } from '../../../driver/common/debug.js';
import { GETATTR } from '../../../driver/nfs/nfs3/getattr.js';
import { NULL } from '../../../driver/nfs/nfs3/null.js';
import { NFS3_PROGRAM } from '../../../driver/nfs/nfs3/program.js';
import { RpcConnection } from '../../../driver/nfs/rpc/index.js';
import { SshHost } from '../../../driver/attach/ssh/ssh-host.js';
import { FakeRpcServer } from '../../support/fake-rpc-server.js';
import { FIXTURE_CLIENT_KEY, FIXTURE_HOST_KEY } from '../../fakes/ssh-keys.js';

afterEach(() => setDebug(false));

describe('NODE_DEBUG=nfsvol tracing', { timeout: 30_000 }, () => {
  it('is on when NODE_DEBUG names nfsvol, as Node reads its sections', () => {
    for (const v of ['nfsvol', 'NFSVOL', 'net,nfsvol', 'http nfsvol', 'nfs*', '*']) {
      expect(debugSectionEnabled(v), v).toBe(true);
    }
    for (const v of [undefined, '', 'net', 'nfs', 'nfsvolx', 'x*'])
      expect(debugSectionEnabled(v), v).toBe(false);
  });

  it('traces each RPC call: program, procedure, xid, status by name, time', async () => {
    await using server = await FakeRpcServer.start((call) =>
      call.proc === 0 ? { reply: () => undefined } : { reply: (w) => void w.u32(2) },
    );
    await using conn = new RpcConnection({ host: '127.0.0.1', port: server.port });
    const lines: string[] = [];
    setDebug((l) => lines.push(l));
    await conn.call(NFS3_PROGRAM, NULL, undefined);
    const res = await conn.call(NFS3_PROGRAM, GETATTR, { object: new Uint8Array(8) });
    expect(res.ok).toBe(false);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^rpc 127\.0\.0\.1:\d+ NFS NULL xid=0x[0-9a-f]{8} OK \(\d+\.\d ms\)$/);
    expect(lines[1]).toMatch(
      /^rpc 127\.0\.0\.1:\d+ NFS GETATTR xid=0x[0-9a-f]{8} NFS3ERR_NOENT \(\d+\.\d ms\)$/,
    );
    setDebug(false);
    await conn.call(NFS3_PROGRAM, NULL, undefined);
    expect(lines).toHaveLength(2);
  });

  it('traces SSH connections and commands by argv; never a key, its path, stdin or environment values', async () => {
    const serverKey = { private: FIXTURE_HOST_KEY };
    const clientKey = { private: FIXTURE_CLIENT_KEY };
    const server = new Server({ hostKeys: [serverKey.private] }, (client) => {
      client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject()));
      client.on('session', (accept) =>
        accept().on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          stream.exit(info.command.startsWith('false') ? 1 : 0);
          stream.end();
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dir = join(await mkdtemp(join(tmpdir(), 'nfsvol-debug-')), 'SECRET-IN-PATH');
    await mkdir(dir);
    const identity = join(dir, 'id_ed25519');
    await writeFile(identity, clientKey.private, { mode: 0o600 });
    process.env['NFSVOL_TEST_SECRET'] = 'SECRET-IN-ENV';
    const lines: string[] = [];
    setDebug((l) => lines.push(l));
    const host = new SshHost(
      {
        name: 'web1',
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        user: 'root',
        identityFiles: [identity],
      },
      { verifyHostKey: async () => undefined, agent: 'SECRET-AGENT-SOCK' },
    );
    try {
      await host.run(['docker', 'volume', 'create', '--opt', 'o=addr=10.0.0.1', 'pg data'], {
        stdin: 'SECRET-IN-STDIN',
      });
      await host.run(['false', 'x'], { check: false });
    } finally {
      await host.close();
      server.close();
      delete process.env['NFSVOL_TEST_SECRET'];
    }
    expect(lines[0]).toMatch(/^ssh web1 connect root@127\.0\.0\.1:\d+ auth=publickey,agent$/);
    expect(lines[1]).toBe(
      'ssh web1 exec ["docker","volume","create","--opt","o=addr=10.0.0.1","pg data"] stdin=15 bytes',
    );
    expect(lines[2]).toMatch(/^ssh web1 "docker" exit 0 \(\d+\.\d ms\)$/);
    expect(lines[4]).toMatch(/^ssh web1 "false" exit 1 /);
    const all = lines.join('\n');
    for (const secret of ['SECRET', 'PRIVATE KEY', clientKey.private.split('\n')[1] ?? 'x', identity]) {
      expect(all).not.toContain(secret);
    }
  });

  it('nfsvol --debug or NODE_DEBUG=nfsvol in its environment turns it on, to stderr', async () => {
    const runWith = async (args: string[], env: NodeJS.ProcessEnv): Promise<boolean> => {
      let on = false;
      await runCli([...args, 'volume', 'ls'], {
        io: {
          stdout: () => undefined,
          stderr: () => undefined,
          env: { NFSVOL_CONFIG: '/nonexistent', ...env },
        },
        cluster: {
          connectNfs: async () => {
            // The command reaches the export with tracing on (or off).
            on = (await import('../../../driver/common/debug.js')).debugEnabled();
            throw new Error('no export here');
          },
        },
      });
      return on;
    };
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-debug-cli-'));
    const config = join(dir, 'config.json');
    await writeFile(
      config,
      JSON.stringify({ schema: 1, url: 'nfs://127.0.0.1/export', clusterId: 'c', createdAt: '2026-01-01' }),
    );
    expect(await runWith(['--debug'], { NFSVOL_CONFIG: config })).toBe(true);
    expect(await runWith([], { NFSVOL_CONFIG: config, NODE_DEBUG: 'net,nfsvol' })).toBe(true);
    expect(await runWith([], { NFSVOL_CONFIG: config })).toBe(false);
  });
});
