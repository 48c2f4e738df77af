import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { StreamOptions } from '../../../driver/nfs/types.js';
import { readCache } from '../../../driver/core/registry/listing-cache.js';
import type { NfsSettings, VolumeRecord } from '../../../driver/core/records.js';
import { Registry } from '../../../driver/core/registry/registry.js';
import { volumeRecord } from '../../fakes/records.js';
import { MemoryNfs } from '../../fakes/memory-nfs.js';

/**
 * A MemoryNfs whose read streams deliver `chunkSize` bytes at a time, as the real client's READs
 * do: the fake's default hands over a file in one piece, where no character can be split.
 */
class ChunkedNfs extends MemoryNfs {
  override createReadStream(path: string, options?: StreamOptions): Readable {
    const size = options?.chunkSize ?? 64 * 1024;
    const file = this.readFile(path);
    return Readable.from(
      (async function* () {
        const data = await file;
        for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
      })(),
    );
  }
}

const nfs: NfsSettings = {
  version: '3',
  server: '127.0.0.1',
  port: 2049,
  exportPath: '/export',
  mountOptions: [],
};
const CACHE = '.nfsvol/volumes.cache.jsonl';
/** The cache's READ size (listing-cache.ts): a character straddling it is the case that failed. */
const READ_CHUNK = 32 * 1024;

const vol = (name: string, labels: Record<string, string>): VolumeRecord => volumeRecord(name, { labels });

describe('listing cache text', () => {
  it('labels in French and Japanese survive a character split across two READs, and are written back intact', async () => {
    const fs = new ChunkedNfs();
    const { registry: reg } = await Registry.init(fs, nfs);
    // Labels mostly of multibyte characters (2 bytes for é, 3 for kana and kanji), so most of the
    // file's chunk boundaries fall inside a character.
    const labels = (i: number): Record<string, string> => ({
      team: `données-${i}-été`,
      'team.ja': `データベース${i}号機、${'共有ボリューム'.repeat(20)}`,
    });
    const names = Array.from({ length: 600 }, (_, i) => `v${String(i).padStart(4, '0')}`);
    for (const [i, n] of names.entries()) await reg.volumes.replace(n, vol(n, labels(i)));

    const first = await reg.volumes.list();
    expect(first.map((v) => v.labels)).toEqual(names.map((_, i) => labels(i)));
    const cache = fs.peek(CACHE);
    expect(cache?.length).toBeGreaterThan(4 * READ_CHUNK);
    // The test means something only if a boundary falls inside a character: a UTF-8
    // continuation byte (10xxxxxx) starts some chunk.
    const split = [];
    for (let at = READ_CHUNK; at < (cache?.length ?? 0); at += READ_CHUNK) {
      if (((cache?.[at] ?? 0) & 0xc0) === 0x80) split.push(at);
    }
    expect(split.length).toBeGreaterThan(0);

    let stats = { records: 0, read: 0, cached: 0 };
    const second = await reg.volumes.list({ onStats: (s) => (stats = s) });
    expect(stats).toEqual({ records: 600, read: 0, cached: 600 });
    expect(second.map((v) => v.labels)).toEqual(names.map((_, i) => labels(i)));

    // A change rewrites the cache from what was read: no U+FFFD may have crept into it.
    await reg.volumes.replace('v0000', vol('v0000', { team: 'changée' }));
    await reg.volumes.list();
    const text = fs.peek(CACHE)?.toString('utf8') ?? '';
    expect(text).not.toContain('\ufffd');
    const lines: string[] = [];
    for await (const l of readCache(fs, CACHE, 'volume')) lines.push(l.text);
    expect(lines).toHaveLength(600);
    expect(lines.join('\n')).not.toContain('\ufffd');
    expect(JSON.parse(lines[599] ?? '{}')).toMatchObject({ labels: labels(599) });
  });
});
