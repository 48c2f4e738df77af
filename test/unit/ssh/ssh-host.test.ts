import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Server, utils, type ParsedKey } from 'ssh2';
import {
  HostKeyMismatchError,
  SshCommandError,
  SshConnectError,
  SshTimeoutError,
} from '../../../driver/attach/ssh/errors.js';
import { fingerprint, hostKeyOf } from '../../../driver/attach/ssh/known-hosts.js';
import { CappedBuffer } from '../../../driver/attach/ssh/capped-buffer.js';
import { SshHost } from '../../../driver/attach/ssh/ssh-host.js';
import { pinnedKeyVerifier } from '../../../driver/attach/ssh/host-key-policy.js';
import { sshKeygen } from './ssh-fixtures.js';

/**
 * A real ssh2 server on loopback. It accepts any public key and "runs" a few fake commands, so
 * the client side (quoting, channels, caps, host keys, retries) is exercised over real SSH.
 */
const serverKey = sshKeygen();
const otherKey = sshKeygen();
const clientKey = sshKeygen();

function blobOf(pub: string): Buffer {
  const parsed = utils.parseKey(pub);
  if (parsed instanceof Error) throw parsed;
  return (Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed).getPublicSSH();
}

let server: Server;
let port = 0;
let connections = 0;
let commands: string[] = [];
let maxConcurrent = 0;
const clients = new Set<{ end(): void }>();

beforeAll(async () => {
  let concurrent = 0;
  server = new Server({ hostKeys: [serverKey.private] }, (client) => {
    connections++;
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('authentication', (ctx) =>
      ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey']),
    );
    client.on('session', (accept) => {
      const session = accept();
      session.on('exec', (acceptExec, _reject, info) => {
        const stream = acceptExec();
        commands.push(info.command);
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        const done = (code: number): void => {
          concurrent--;
          stream.exit(code);
          stream.end();
        };
        const cmd = info.command;
        if (cmd === 'big') {
          const chunk = Buffer.alloc(64 * 1024, 'x');
          for (let i = 0; i < 40; i++) stream.write(chunk);
          done(0);
        } else if (cmd === 'binary') {
          stream.write(Buffer.from([0x6f, 0x6b, 0xff, 0xfe, 0xc3]));
          done(0);
        } else if (cmd === 'fail') {
          stream.stderr.write('something broke\n');
          done(3);
        } else if (cmd === 'hang') {
          // never answers
        } else if (cmd.startsWith('sleep ')) {
          setTimeout(() => done(0), Number(cmd.slice(6)));
        } else if (cmd === 'cat') {
          const chunks: Buffer[] = [];
          stream.on('data', (d: Buffer) => chunks.push(d));
          stream.on('end', () => {
            stream.write(Buffer.concat(chunks));
            done(0);
          });
        } else {
          stream.write(`${cmd}\n`);
          done(0);
        }
      });
    });
    client.on('openssh.streamlocal', (accept, reject, info) => {
      if (info.socketPath !== '/echo.sock') {
        reject();
        return;
      }
      const ch = accept();
      ch.on('data', (d: Buffer) => ch.write(d));
      ch.on('end', () => ch.end());
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  // server.close waits for every connection: end those a test left half-closed (a refused host
  // key, an aborted command) instead of waiting for their peers to notice.
  for (const c of clients) c.end();
  await new Promise<void>((r) => server.close(() => r()));
});

function host(
  verifyKey = serverKey.public,
  options: { connectRetries?: number; portOverride?: number } = {},
): SshHost {
  return new SshHost(
    {
      name: 'h1',
      host: '127.0.0.1',
      port: options.portOverride ?? port,
      user: 'root',
      privateKey: clientKey.private,
    },
    {
      verifyHostKey: pinnedKeyVerifier('h1', hostKeyOf(blobOf(verifyKey))),
      readyTimeoutMs: 5_000,
      ...(options.connectRetries === undefined ? {} : { connectRetries: options.connectRetries }),
      maxChannels: 3,
    },
  );
}

describe('SshHost over a real ssh2 server', () => {
  it('quotes argv and reuses one connection for many concurrent commands, capped at maxChannels', async () => {
    commands = [];
    maxConcurrent = 0;
    const before = connections;
    await using h = host();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => h.run(['echo', `a b ${i}`, "it's"])),
    );
    expect(results.map((r) => r.stdout.trim())).toEqual(
      Array.from({ length: 8 }, (_, i) => `echo 'a b ${i}' 'it'\\''s'`),
    );
    expect(connections - before).toBe(1);
    expect(maxConcurrent).toBeLessThanOrEqual(3);
  });

  it('non-zero exit is SshCommandError with host, exit code and stderr; check:false returns it', async () => {
    await using h = host();
    const err = await h.run(['fail']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshCommandError);
    expect(err).toMatchObject({
      host: 'h1',
      exitCode: 3,
      stderr: 'something broke\n',
      code: 'SSH_COMMAND_FAILED',
    });
    expect(await h.run(['fail'], { check: false })).toMatchObject({ exitCode: 3 });
  });

  it('caps captured output and decodes invalid UTF-8 without throwing', async () => {
    await using h = host();
    const big = await h.run(['big'], { maxOutputBytes: 100_000 });
    expect(big.stdout.length).toBe(100_000);
    expect(big.truncated).toBe(true);
    const bin = await h.run(['binary']);
    expect(bin.stdout).toBe('ok\ufffd\ufffd\ufffd');
  });

  it('sends stdin', async () => {
    await using h = host();
    expect((await h.run(['cat'], { stdin: 'hello' })).stdout).toBe('hello');
  });

  it('times out a command that never answers, and the connection stays usable', async () => {
    await using h = host();
    await expect(h.run(['hang'], { timeoutMs: 200 })).rejects.toBeInstanceOf(SshTimeoutError);
    expect((await h.run(['echo', 'still'])).stdout).toBe('echo still\n');
  });

  it('aborts on signal', async () => {
    await using h = host();
    const ac = new AbortController();
    const p = h.run(['sleep', '5000'], { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 100);
    await expect(p).rejects.toThrow('stop');
  });

  it('refuses a host whose key differs from the pinned one, naming both fingerprints, without retrying', async () => {
    const before = connections;
    await using h = host(otherKey.public);
    const err = await h.run(['echo', 'x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect((err as Error).message).toContain(fingerprint(blobOf(serverKey.public)));
    expect((err as Error).message).toContain(fingerprint(blobOf(otherKey.public)));
    expect(connections - before).toBe(1);
    expect(commands).not.toContain('echo x');
  });

  it('retries a refused connection (transient) and then reports HOST_UNREACHABLE', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await using h = host(serverKey.public, { connectRetries: 1, portOverride: closedPort });
    const t0 = Date.now();
    const err = await h.run(['echo']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshConnectError);
    expect(err).toMatchObject({ code: 'HOST_UNREACHABLE', retriable: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });
});

describe('SshHost against a host that accepts TCP but never speaks SSH (a cut link behind a NAT)', () => {
  it('times out the handshake, retries once only, reports HOST_UNREACHABLE, and no stray error event escapes', async () => {
    const sockets: Socket[] = [];
    const mute = createServer((sock) => sockets.push(sock));
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
    const mutePort = (mute.address() as AddressInfo).port;
    try {
      await using h = new SshHost(
        { name: 'cut', host: '127.0.0.1', port: mutePort, user: 'root', privateKey: clientKey.private },
        { verifyHostKey: async () => undefined, readyTimeoutMs: 300, connectRetries: 3 },
      );
      const err = await h.run(['true']).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'HOST_UNREACHABLE', retriable: true });
      expect(sockets.length).toBe(2);
      // The peer now drops the half-open connections: late errors must not crash the process.
      for (const s of sockets) s.destroy();
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await new Promise<void>((r) => mute.close(() => r()));
    }
  });
});

describe('SshHost.connectUnixSocket', () => {
  it('forwards a channel to a Unix socket on the host, and a refused one is SSH_CHANNEL_REFUSED', async () => {
    await using h = host();
    const ch = await h.connectUnixSocket('/echo.sock');
    const echoed = new Promise<string>((resolve) => ch.once('data', (d: Buffer) => resolve(d.toString())));
    ch.write('ping');
    expect(await echoed).toBe('ping');
    ch.end();
    await expect(h.connectUnixSocket('/nope.sock')).rejects.toMatchObject({ code: 'SSH_CHANNEL_REFUSED' });
    // Slots are given back: more channels than maxChannels can be opened one after another.
    for (let i = 0; i < 5; i++) {
      const c = await h.connectUnixSocket('/echo.sock');
      await new Promise<void>((r) => {
        c.resume();
        c.once('close', () => r());
        c.end();
      });
    }
  });
});

describe('SshHost against a host that never answers a channel-open request', () => {
  /** An ssh2 server that authenticates, then leaves every session and forward request unanswered. */
  async function muteChannels(): Promise<{
    port: number;
    connections: () => number;
    requests: () => number;
    close: () => Promise<void>;
  }> {
    let count = 0;
    let requests = 0;
    const mute = new Server({ hostKeys: [serverKey.private] }, (client) => {
      count++;
      client.on('authentication', (ctx) => ctx.accept());
      client.on('session', () => void requests++);
      client.on('openssh.streamlocal', () => undefined);
      client.on('error', () => undefined);
    });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
    return {
      port: (mute.address() as AddressInfo).port,
      connections: () => count,
      requests: () => requests,
      close: () => new Promise<void>((r) => mute.close(() => r())),
    };
  }

  it('fails a command and a Unix-socket forward with SSH_CHANNEL_TIMEOUT (retriable), then connects afresh', async () => {
    const mute = await muteChannels();
    try {
      await using h = new SshHost(
        { name: 'wedged', host: '127.0.0.1', port: mute.port, user: 'root', privateKey: clientKey.private },
        { verifyHostKey: async () => undefined, channelOpenTimeoutMs: 300 },
      );
      const err = await h.run(['true']).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SSH_CHANNEL_TIMEOUT', retriable: true });
      expect((err as Error).message).toBe("wedged: no answer to opening a channel for 'true' within 300 ms");
      const fwd = await h.connectUnixSocket('/run/docker.sock').catch((e: unknown) => e);
      expect(fwd).toMatchObject({ code: 'SSH_CHANNEL_TIMEOUT', retriable: true });
      expect((fwd as Error).message).toContain('a channel to /run/docker.sock');
      expect(mute.connections()).toBe(2);
    } finally {
      await mute.close();
    }
  });

  it('gives up after 30 s at the default', async () => {
    const mute = await muteChannels();
    try {
      await using h = new SshHost(
        { name: 'wedged', host: '127.0.0.1', port: mute.port, user: 'root', privateKey: clientKey.private },
        { verifyHostKey: async () => undefined },
      );
      // A fake clock for the wait; the handshake and the request travel over real sockets.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const outcome = h.run(['true']).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      let state: unknown = 'pending';
      void outcome.then((v) => (state = v));
      const turns = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
      };
      for (let i = 0; i < 100_000 && mute.requests() === 0; i++) await turns(1);
      expect(mute.requests()).toBe(1);
      await vi.advanceTimersByTimeAsync(29_999);
      await turns(20);
      expect(state).toBe('pending');
      await vi.advanceTimersByTimeAsync(1);
      await turns(20);
      expect(state).toMatchObject({ code: 'SSH_CHANNEL_TIMEOUT', retriable: true });
    } finally {
      vi.useRealTimers();
      await mute.close();
    }
  });
});

describe('CappedBuffer', () => {
  it('keeps at most max bytes across chunks', () => {
    const b = new CappedBuffer(5);
    b.push(Buffer.from('abc'));
    b.push(Buffer.from('defg'));
    b.push(Buffer.from('h'));
    expect(b.text()).toBe('abcde');
    expect(b.truncated).toBe(true);
  });
});
