import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { StableHow } from '../../../driver/nfs/nfs3/index.js';
import type { WritePort } from '../../../driver/nfs/fs/port.js';
import { NfsWriteStream } from '../../../driver/nfs/fs/write-stream.js';

/**
 * A server as the write stream sees it: WRITEs land in "memory" under the current verifier; a
 * COMMIT makes them durable; a restart loses what was not committed and changes the verifier.
 */
class FakeServer {
  verf = Buffer.from('aaaaaaaa');
  readonly durable = new Map<number, Buffer>();
  unstable = new Map<number, Buffer>();
  commits = 0;
  fileSync = 0;
  writes = 0;
  /** Restart after this many WRITEs (once). */
  restartAfter = -1;
  /** Most bytes written but not yet committed, as the server saw them. */
  maxUncommitted = 0;
  /** The memory each WRITE's data lay in. */
  readonly memory = new Set<ArrayBufferLike>();

  private restart(): void {
    this.unstable = new Map();
    this.verf = Buffer.from('bbbbbbbb');
  }

  client(): WritePort {
    const tick = (): Promise<void> => new Promise((r) => setTimeout(r, Math.random() * 2));
    return {
      writeRange: async (_fh: unknown, _p: string, data: Uint8Array, offset: number, stable: StableHow) => {
        await tick();
        if (this.writes++ === this.restartAfter) this.restart();
        this.memory.add(data.buffer);
        const copy = Buffer.from(data);
        if (stable === StableHow.FILE_SYNC) {
          this.fileSync++;
          this.durable.set(offset, copy);
        } else {
          this.unstable.set(offset, copy);
          let n = 0;
          for (const b of this.unstable.values()) n += b.length;
          this.maxUncommitted = Math.max(this.maxUncommitted, n);
        }
        return Buffer.from(this.verf);
      },
      commit: async () => {
        await tick();
        this.commits++;
        for (const [o, b] of this.unstable) this.durable.set(o, b);
        this.unstable = new Map();
        return Buffer.from(this.verf);
      },
    };
  }

  content(): Buffer {
    const parts = [...this.durable.entries()].sort((a, b) => a[0] - b[0]);
    let off = 0;
    for (const [o, b] of parts) {
      expect(o).toBe(off);
      off += b.length;
    }
    return Buffer.concat(parts.map(([, b]) => b));
  }
}

async function write(server: FakeServer, data: Buffer, commitWindow: number): Promise<void> {
  const ws = new NfsWriteStream(server.client(), 'f', {
    chunkSize: 64 * 1024,
    concurrency: 4,
    commitWindow,
    create: async () => Uint8Array.of(1),
  });
  // Chunks as a file stream delivers them, with odd sizes so blocks straddle chunks.
  const chunks: Buffer[] = [];
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = i % 3 === 0 ? 100_000 : 40_000;
    chunks.push(data.subarray(off, off + n));
    off += n;
  }
  await pipeline(Readable.from(chunks), ws);
}

describe('NfsWriteStream', () => {
  it('writes every byte durably, COMMITs overlapping the writes, within the commit window', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 123);
    const server = new FakeServer();
    await write(server, data, 1024 * 1024);
    expect(server.content().equals(data)).toBe(true);
    expect(server.fileSync).toBe(0);
    expect(server.commits).toBeGreaterThanOrEqual(5);
    // Never more unconfirmed than the window plus the WRITEs in flight.
    expect(server.maxUncommitted).toBeLessThanOrEqual(1024 * 1024 + 4 * 64 * 1024);
  });

  it('a server restart between WRITE and COMMIT: what it lost is written again with FILE_SYNC', async () => {
    for (const restartAfter of [3, 17, 40, 79]) {
      const data = randomBytes(5 * 1024 * 1024);
      const server = new FakeServer();
      server.restartAfter = restartAfter;
      await write(server, data, 1024 * 1024);
      expect(server.content().equals(data), `restart after ${restartAfter} writes`).toBe(true);
      expect(server.fileSync).toBeGreaterThan(0);
    }
  });

  it('small pieces are gathered into blocks of its own, used again once committed, restart or not', async () => {
    for (const restartAfter of [-1, 5, 60]) {
      const lines = Array.from(
        { length: 40_000 },
        (_, i) => `["key-${i}","${i}:300:1:2","${'x'.repeat(i % 300)}"]\n`,
      );
      const server = new FakeServer();
      server.restartAfter = restartAfter;
      const ws = new NfsWriteStream(server.client(), 'f', {
        chunkSize: 16 * 1024,
        concurrency: 2,
        commitWindow: 64 * 1024,
        create: async () => Uint8Array.of(1),
      });
      await pipeline(Readable.from(lines), ws);
      expect(server.content().toString(), `restart after ${restartAfter}`).toBe(lines.join(''));
      expect(server.writes).toBeGreaterThan(300);
      // The window (4 blocks), the WRITEs in flight (2) and the block being filled, and the
      // blocks of a COMMIT in flight: never one per WRITE.
      expect(server.memory.size).toBeLessThanOrEqual(12);
    }
    // Three streams of 40,000 writes: a guard against a hang, not a speed target.
  }, 60_000);
});
