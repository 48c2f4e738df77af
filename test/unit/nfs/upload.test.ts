import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StableHow } from '../../../driver/nfs/nfs3/index.js';
import { upload, type UploadTarget } from '../../../driver/nfs/fs/upload.js';
import { prng, randomBytes } from '../../support/prng.js';

/** A server in memory: UNSTABLE writes are lost when it "restarts" (its verifier changes). */
class FakeTarget implements UploadTarget {
  stable = Buffer.alloc(0);
  unstable = new Map<number, Buffer>();
  verf = Buffer.from('00000001', 'hex');
  calls: string[] = [];
  restartAtCommit = -1;
  failCommit = false;
  commits = 0;
  finished = '';
  abandoned = '';

  create() {
    return Promise.resolve({ fh: Uint8Array.of(1), path: 'tmp' });
  }
  writeRange(_fh: Uint8Array, _p: string, data: Uint8Array, offset: number, stable: StableHow) {
    this.calls.push(`${stable === StableHow.FILE_SYNC ? 'sync' : 'unstable'}@${offset}`);
    if (stable === StableHow.FILE_SYNC) this.land(offset, Buffer.from(data));
    else this.unstable.set(offset, Buffer.from(data)); // a copy: the caller reuses its buffer
    return Promise.resolve(Uint8Array.from(this.verf));
  }
  commit() {
    if (this.failCommit) return Promise.reject(new Error('commit refused'));
    if (this.commits++ === this.restartAtCommit) {
      this.unstable.clear(); // the restart lost what was not yet committed
      this.verf = Buffer.from('00000002', 'hex');
    }
    for (const [off, d] of this.unstable) this.land(off, d);
    this.unstable.clear();
    return Promise.resolve(Uint8Array.from(this.verf));
  }
  finish(p: string) {
    this.finished = p;
    return Promise.resolve();
  }
  abandon(p: string) {
    this.abandoned = p;
    return Promise.resolve();
  }
  private land(offset: number, d: Buffer) {
    if (this.stable.length < offset + d.length) {
      const grown = Buffer.alloc(offset + d.length);
      this.stable.copy(grown);
      this.stable = grown;
    }
    d.copy(this.stable, offset);
  }
}

let dir: string;
let file: string;
const data = Buffer.from(randomBytes(prng(21), 300_000));
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nfsvol-upload-'));
  file = join(dir, 'src');
  await writeFile(file, data);
});
afterAll(() => rm(dir, { recursive: true }));

describe('upload', () => {
  it('writes every chunk UNSTABLE, commits, and puts the file in place', async () => {
    const t = new FakeTarget();
    const progress: number[] = [];
    const res = await upload(file, t, 65536, { concurrency: 3, onProgress: (b) => progress.push(b) });
    expect(res.bytes).toBe(data.length);
    expect(t.stable.equals(data)).toBe(true);
    expect(t.calls.every((c) => c.startsWith('unstable'))).toBe(true);
    expect(progress.at(-1)).toBe(data.length);
    expect(t.finished).toBe('tmp');
  });

  it('rewrites from the local file, FILE_SYNC, what a server restart lost before the COMMIT', async () => {
    const t = new FakeTarget();
    t.restartAtCommit = 1; // the second COMMIT sees a new verifier
    await upload(file, t, 32768, { concurrency: 2, commitEvery: 65536 });
    expect(t.stable.equals(data)).toBe(true);
    expect(t.calls.some((c) => c.startsWith('sync'))).toBe(true);
    expect(t.finished).toBe('tmp');
  });

  it('fails with the COMMIT error and abandons the temporary file', async () => {
    const t = new FakeTarget();
    t.failCommit = true;
    await expect(upload(file, t, 32768, { commitEvery: 65536 })).rejects.toThrow('commit refused');
    expect(t.finished).toBe('');
    expect(t.abandoned).toBe('tmp');
  });
});
