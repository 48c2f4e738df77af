import { describe, expect, it, vi } from 'vitest';
import {
  RpcConnection,
  RpcError,
  authSys,
  decodeRpcReply,
  type Procedure,
  type Program,
} from '../../../../driver/nfs/rpc/index.js';
import { XdrWriter } from '../../../../driver/nfs/xdr/index.js';
import { FakeRpcServer, type Action } from '../../../support/fake-rpc-server.js';
import { settled, until, useFakeClock } from '../fake-time.js';

const PROG: Program = { name: 'TEST', prog: 400000, vers: 1 };
const ECHO: Procedure<number, number> = {
  name: 'ECHO',
  proc: 1,
  idempotent: true,
  encode: (w, v) => void w.u32(v),
  decode: (r) => r.u32(),
};
const ECHO_ONCE: Procedure<number, number> = { ...ECHO, name: 'ECHO_ONCE', idempotent: false };
const echo = (v: number): Action => ({ reply: (w) => void w.u32(v) });
/** Asks for n bytes; the reply may be assembled in a buffer the caller lends. */
const BLOB: Procedure<number, Uint8Array> = {
  name: 'BLOB',
  proc: 2,
  idempotent: true,
  encode: (w, n) => void w.u32(n),
  decode: (r) => r.opaque(1 << 20, 'blob'),
  replyBound: (n) => n + 4096,
};

describe('RpcConnection', () => {
  it('multiplexes many calls on one connection, matched by xid, with a cap on calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    await using server = await FakeRpcServer.start(async (call) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      const v = call.args.u32();
      await new Promise((r) => setTimeout(r, (v * 7) % 5)); // answer out of order
      inFlight--;
      return echo(v * 2);
    });
    await using conn = new RpcConnection({ host: '127.0.0.1', port: server.port, maxInFlight: 8 });
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => conn.call(PROG, ECHO, i)));
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i * 2));
    expect(peak).toBe(8);
    expect(server.remotePorts).toHaveLength(1);
  });

  it('sends AUTH_SYS credentials with the configured uid, gid and groups', async () => {
    const cred = authSys({ uid: 1000, gid: 100, gids: [4, 27], machineName: 'm1', stamp: 7 });
    const w = new XdrWriter();
    w.u32(7).string('m1').u32(1000).u32(100).u32(2).u32(4).u32(27);
    expect(Buffer.from(cred.body).equals(Buffer.from(w.finish()))).toBe(true);
    expect(() => authSys({ gids: Array.from({ length: 17 }, () => 1) })).toThrow(/at most 16/);
    expect(() => authSys({ uid: -1 })).toThrow(/uid/);
  });

  it('times out a call with a retriable typed error and keeps the connection usable', async () => {
    await using server = await FakeRpcServer.start((call) => {
      const v = call.args.u32();
      return v === 0 ? { silent: true } : echo(v);
    });
    await using conn = new RpcConnection({ host: '127.0.0.1', port: server.port, timeoutMs: 100 });
    const err = await conn.call(PROG, ECHO, 0).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RPC_TIMEOUT', retriable: true });
    expect(await conn.call(PROG, ECHO, 5)).toBe(5);
  });

  it('fails calls in flight when the server drops the connection, then reconnects', async () => {
    let drop = true;
    await using server = await FakeRpcServer.start((call) => {
      const v = call.args.u32();
      if (drop) {
        drop = false;
        return { hangUp: true };
      }
      return echo(v);
    });
    await using conn = new RpcConnection({ host: '127.0.0.1', port: server.port });
    const err = await conn.call(PROG, ECHO, 1).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RPC_CONNECTION_LOST', retriable: true });
    expect(await conn.call(PROG, ECHO, 2)).toBe(2);
    expect(server.remotePorts).toHaveLength(2);
  });

  it('retries idempotent calls after a drop, never non-idempotent ones', async () => {
    let drops = 0;
    await using server = await FakeRpcServer.start((call) => {
      const v = call.args.u32();
      if (drops < 2) {
        drops++;
        return { hangUp: true };
      }
      return echo(v);
    });
    await using conn = new RpcConnection({ host: '127.0.0.1', port: server.port, retries: 3 });
    expect(await conn.call(PROG, ECHO, 9)).toBe(9);
    drops = 0;
    await expect(conn.call(PROG, ECHO_ONCE, 9)).rejects.toMatchObject({ code: 'RPC_CONNECTION_LOST' });
  });

  it('refuses a reply whose record length field is huge, without waiting for it', async () => {
    await using server = await FakeRpcServer.start(() => ({ raw: Buffer.from('fffffff0', 'hex') }));
    await using conn = new RpcConnection({ host: '127.0.0.1', port: server.port, maxRecordSize: 1 << 20 });
    await expect(conn.call(PROG, ECHO, 1)).rejects.toMatchObject({ code: 'RPC_RECORD_TOO_LARGE' });
  });

  it('turns garbage and truncated replies into RPC_PROTOCOL errors', async () => {
    await using server = await FakeRpcServer.start((call) => {
      const v = call.args.u32();
      const xid = Buffer.alloc(4);
      xid.writeUInt32BE(call.xid);
      if (v === 1)
        return { raw: Buffer.concat([Buffer.from('80000008', 'hex'), xid, Buffer.from('00000007', 'hex')]) };
      return {
        raw: Buffer.concat([Buffer.from('8000000c', 'hex'), xid, Buffer.from('0000000100000000', 'hex')]),
      };
    });
    await using conn = new RpcConnection({ host: '127.0.0.1', port: server.port });
    await expect(conn.call(PROG, ECHO, 1)).rejects.toMatchObject({ code: 'RPC_PROTOCOL' });
    await expect(conn.call(PROG, ECHO, 2)).rejects.toMatchObject({ code: 'RPC_PROTOCOL' });
  });

  it('assembles a large reply in the buffer the caller lends, and only there', async () => {
    const payload = Buffer.alloc(200_000, 0x5a);
    await using server = await FakeRpcServer.start((call) => {
      const n = call.args.u32();
      return { reply: (w) => void w.opaque(payload.subarray(0, n)) };
    });
    await using conn = new RpcConnection({ host: '127.0.0.1', port: server.port });
    const lent = Buffer.alloc(300_000);
    for (let i = 0; i < 3; i++) {
      const got = await conn.call(PROG, BLOB, 200_000, { replyBuffer: lent });
      expect(got.buffer).toBe(lent.buffer); // a view into the lent memory, not a copy
      expect(Buffer.from(got).equals(payload)).toBe(true);
    }
    // Too small to hold the reply: not used, the reply still arrives whole.
    const small = Buffer.alloc(1000);
    const got = await conn.call(PROG, BLOB, 200_000, { replyBuffer: small });
    expect(got.buffer).not.toBe(small.buffer);
    expect(Buffer.from(got).equals(payload)).toBe(true);
    expect(small.every((b) => b === 0)).toBe(true);
  });

  it('drops the connection when a call fails while its reply is arriving in the lent buffer', async () => {
    await using server = await FakeRpcServer.start((call) => {
      const n = call.args.u32();
      if (n === 0) return echo(0);
      // A record of 150,000 bytes, of which only 100,000 ever come.
      const head = Buffer.alloc(8);
      head.writeUInt32BE((0x80000000 | 150_000) >>> 0, 0);
      head.writeUInt32BE(call.xid, 4);
      return { raw: Buffer.concat([head, Buffer.alloc(100_000 - 4, 0x33)]) };
    });
    await using conn = new RpcConnection({ host: '127.0.0.1', port: server.port, timeoutMs: 300 });
    const lent = Buffer.alloc(200_000);
    const err = await conn.call(PROG, BLOB, 150_000, { replyBuffer: lent }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RPC_TIMEOUT' });
    const after = Buffer.from(lent);
    await new Promise((r) => setTimeout(r, 50));
    expect(lent.equals(after)).toBe(true);
    // The stream could not be trusted past that record: the next call comes on a new connection.
    expect(await conn.call(PROG, ECHO, 0)).toBe(0);
    expect(server.remotePorts).toHaveLength(2);
  });

  it('reports rejected credentials with the auth_stat name', () => {
    const w = new XdrWriter();
    w.u32(42).u32(1).u32(1).u32(1).u32(5); // REPLY, MSG_DENIED, AUTH_ERROR, AUTH_TOOWEAK
    const reply = decodeRpcReply(w.finish());
    expect(reply.ok).toBe(false);
    expect(!reply.ok && reply.error).toMatchObject({ code: 'RPC_AUTH_ERROR', authStat: 'AUTH_TOOWEAK' });
    const mismatch = new XdrWriter().u32(1).u32(1).u32(0).u32(0).u32(0).u32(2).u32(3).u32(4).finish();
    const m = decodeRpcReply(mismatch);
    expect(!m.ok && m.error.message).toMatch(/versions 3 to 4/);
  });

  it('fails a call to a silent server within its budget at the defaults, retries included', async () => {
    useFakeClock();
    try {
      let received = 0;
      await using server = await FakeRpcServer.start(() => (received++, { silent: true }));
      await using conn = new RpcConnection({ host: '127.0.0.1', port: server.port, retries: 8 });
      const outcome = conn.call(PROG, ECHO, 1);
      await until(() => received === 1, 'the call to arrive');
      await vi.advanceTimersByTimeAsync(29_999);
      expect(await settled(outcome)).toBe('pending');
      await vi.advanceTimersByTimeAsync(1);
      const got = await settled(outcome);
      expect(got).not.toBe('pending');
      const err = (got as { error: Error }).error;
      expect(err).toMatchObject({ code: 'RPC_TIMEOUT', retriable: true });
      expect(err.message).toBe(`TEST ECHO to 127.0.0.1:${server.port}: no reply within 30000 ms`);
    } finally {
      vi.useRealTimers();
    }
  });

  it('bounds retries and reconnects by the same budget: a server that drops every call', async () => {
    useFakeClock();
    try {
      let received = 0;
      await using server = await FakeRpcServer.start(() => (received++, { hangUp: true }));
      await using conn = new RpcConnection({
        host: '127.0.0.1',
        port: server.port,
        retries: 1000,
        timeoutMs: 5_000,
      });
      const outcome = conn.call(PROG, ECHO, 1);
      // Each attempt fails at once; the backoff between them runs on the fake clock.
      for (let ms = 0; ms < 5_000 && (await settled(outcome)) === 'pending'; ms += 50) {
        const before = received;
        await vi.advanceTimersByTimeAsync(50);
        await until(() => received > before || vi.getTimerCount() > 0, 'the next attempt');
      }
      const got = await settled(outcome);
      expect(got).not.toBe('pending');
      expect((got as { error: unknown }).error).toMatchObject({ retriable: true });
      expect(received).toBeGreaterThan(2);
      expect(received).toBeLessThan(1000);
    } finally {
      vi.useRealTimers();
    }
  });

  it('fails fast with a retriable error when nothing listens', async () => {
    const server = await FakeRpcServer.start(() => echo(0));
    const port = server.port;
    await server.close();
    await using conn = new RpcConnection({ host: '127.0.0.1', port });
    await expect(conn.call(PROG, ECHO, 1)).rejects.toMatchObject({ code: 'RPC_CONNECT', retriable: true });
  });

  it('binds a reserved source port when asked (as root)', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip();
    await using server = await FakeRpcServer.start((call) => echo(call.args.u32()));
    await using conn = new RpcConnection({ host: '127.0.0.1', port: server.port, reservedPort: true });
    expect(await conn.call(PROG, ECHO, 3)).toBe(3);
    expect(server.remotePorts[0]).toBeGreaterThanOrEqual(512);
    expect(server.remotePorts[0]).toBeLessThan(1024);
  });

  it('aborts a queued or in-flight call through its AbortSignal, and closes cleanly', async () => {
    await using server = await FakeRpcServer.start(() => ({ silent: true }));
    const conn = new RpcConnection({ host: '127.0.0.1', port: server.port });
    const ac = new AbortController();
    const p = conn.call(PROG, ECHO, 1, { signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'RPC_ABORTED' });
    const pending = conn.call(PROG, ECHO, 2);
    await conn.close();
    await expect(pending).rejects.toBeInstanceOf(RpcError);
    await expect(conn.call(PROG, ECHO, 3)).rejects.toMatchObject({ code: 'RPC_CLOSED' });
  });
});
