// Peers that misbehave. An "NFS server" that answers garbage, a truncated reply,
// a huge record length, or nothing; an SSH host whose commands print floods of unexpected bytes.
// The real CLI process must end with one clear line and a typed code, within a bound, with a
// bounded peak RSS. (The codec and transport are covered frame by frame in test/unit/nfs/rpc and
// test/unit/nfs/xdr; the SSH output cap in test/unit/ssh/ssh-host.test.ts.)
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Server as SshServer, utils } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { startNfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Measured {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
  readonly maxRssMiB: number;
}

/**
 * The CLI as a process; a preloaded module writes the process's own peak RSS
 * (`process.resourceUsage().maxRSS`, KiB, what GNU time's %M reports) when it exits.
 */
async function cliMeasured(home: string, args: readonly string[]): Promise<Measured> {
  const rssFile = join(home, `rss-${Date.now()}.txt`);
  const preload = join(home, 'peak-rss.mjs');
  await writeFile(
    preload,
    "import { writeFileSync } from 'node:fs';\n" +
      "process.on('exit', () => writeFileSync(process.env.NFSVOL_TEST_RSS_FILE, String(process.resourceUsage().maxRSS)));\n",
  );
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--import', pathToFileURL(preload).href, join(ROOT, 'cli/main.ts'), ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          HOME: home,
          NFSVOL_CONFIG: '',
          SSH_AUTH_SOCK: '',
          NFSVOL_TEST_RSS_FILE: rssFile,
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(kill);
      const seconds = (performance.now() - t0) / 1000;
      void readFile(rssFile, 'utf8').then((t) => {
        resolve({ code: code ?? -1, stdout, stderr, seconds, maxRssMiB: Number(t.trim()) / 1024 });
      }, reject);
    });
  });
}

type Mode = 'garbage' | 'truncated' | 'huge' | 'silent';

/** A TCP server on loopback that reads one RPC call and answers it the way `mode` says. */
async function badRpcServer(mode: Mode): Promise<{ port: number; server: NetServer }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 8) return;
      const xid = buf.subarray(4, 8); // after the record marker
      buf = Buffer.alloc(0);
      if (mode === 'garbage') {
        // A well-framed record with the right xid, then bytes that are no RPC reply.
        s.write(Buffer.concat([Buffer.from('80000018', 'hex'), xid, Buffer.alloc(20, 0xff)]));
      } else if (mode === 'truncated') {
        // Promises 100 bytes, sends 8, hangs up.
        s.end(Buffer.concat([Buffer.from('80000064', 'hex'), xid, Buffer.from('00000001', 'hex')]));
      } else if (mode === 'huge') {
        // Claims a record of ~2 GiB and then sends nothing more.
        s.write(Buffer.from('fffffff0', 'hex'));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  return { port: (server.address() as AddressInfo).port, server };
}

describe('faults: misbehaving peers', () => {
  it('fault 5: an NFS server that answers garbage, truncated or huge replies, or nothing: a typed error, bounded time and memory', async () => {
    const home = await mkdtemp(join(tmpdir(), 'nfsvol-badnfs-'));
    const expected: Record<Mode, RegExp> = {
      garbage: /\((RPC_PROTOCOL|XDR_\w+)\)$/,
      truncated: /\((RPC_CONNECTION_LOST|RPC_PROTOCOL|XDR_\w+)\)$/,
      huge: /\(RPC_RECORD_TOO_LARGE\)$/,
      silent: /\(RPC_TIMEOUT\)$/,
    };
    for (const mode of ['garbage', 'truncated', 'huge', 'silent'] as const) {
      const { port, server } = await badRpcServer(mode);
      try {
        const url = `nfs://127.0.0.1/export?version=3&nfsport=${port}&mountport=${port}&timeout=2000`;
        const r = await cliMeasured(home, ['init', url]);
        expect(r.code, `${mode}: ${r.stderr}`).toBe(1);
        const lines = r.stderr.trimEnd().split('\n');
        expect(lines, mode).toHaveLength(1);
        expect(lines[0], mode).toMatch(/^nfsvol: /);
        expect(lines[0], mode).toMatch(expected[mode]);
        expect(r.seconds, mode).toBeLessThan(60);
        expect(r.maxRssMiB, mode).toBeLessThan(400);
      } finally {
        await new Promise<void>((r) => server.close(() => r()));
      }
    }
  });

  it('fault 5: an SSH host whose commands print floods of unexpected bytes: HOST_BAD_OUTPUT, bounded time and memory', async () => {
    await using nfs = await startNfsServer();
    const user = await cliUser();
    expectCode(await user.run(['init', nfs.url(3)]), 0, 'init');
    expectCode(await user.run(['volume', 'create', 'v1', '-q']), 0, 'create');

    const hostKey = utils.generateKeyPairSync('ed25519');
    const clientKey = utils.generateKeyPairSync('ed25519');
    const identity = join(user.home, 'id_ed25519');
    await writeFile(identity, clientKey.private);
    await chmod(identity, 0o600);
    const seen: string[] = [];
    // Every command "succeeds" and prints 16 MiB of binary noise on stdout and stderr; the
    // docker.sock forwarding is refused, so nfsvol falls back to the docker CLI and parses that.
    const noise = Buffer.alloc(1 << 20);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 131 + 7) & 0xff;
    const ssh = new SshServer({ hostKeys: [hostKey.private] }, (client) => {
      client.on('authentication', (ctx) =>
        ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey']),
      );
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          seen.push(info.command);
          const stream = acceptExec();
          let i = 0;
          const pump = (): void => {
            while (i < 16) {
              i++;
              stream.stderr.write(noise);
              if (!stream.write(noise)) {
                stream.once('drain', pump);
                return;
              }
            }
            stream.exit(0);
            stream.end();
          };
          stream.on('error', () => undefined);
          pump();
        });
      });
      client.on('openssh.streamlocal', (_accept, reject) => reject());
      client.on('error', () => undefined);
    });
    await new Promise<void>((r) => ssh.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (ssh.address() as AddressInfo).port;
      const add = await cliMeasured(user.home, [
        ...['host', 'add', 'noisy', '--ssh', `root@127.0.0.1:${port}`, '--identity', identity],
        ...['--known-hosts', join(user.home, 'known_hosts'), '--accept-new-host-key'],
      ]);
      // Refused with one clear line; the host's bytes never reach the terminal raw.
      expect(add.code, `host add: ${add.stdout}${add.stderr}`).toBe(1);
      expect(add.stderr).toMatch(
        /^nfsvol: noisy: docker version printed ".*", not a version \(HOST_BAD_OUTPUT\)\n$/,
      );
      expect(`${add.stdout}${add.stderr}`).toMatch(/^[\x20-\x7e\n]*$/);
      expect(add.seconds).toBeLessThan(120);
      expect(add.maxRssMiB).toBeLessThan(400);
      expect(seen.some((c) => /docker.*version/.test(c))).toBe(true);
      // Nothing was registered.
      const ls = await user.run(['host', 'ls', '--json']);
      expectCode(ls, 0, 'host ls');
      expect(JSON.parse(ls.stdout)).toEqual([]);
    } finally {
      await new Promise<void>((r) => ssh.close(() => r()));
    }
  });
});
