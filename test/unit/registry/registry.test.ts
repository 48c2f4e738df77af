import { describe, expect, it } from 'vitest';
import {
  CorruptRecordError,
  IncompleteRecordError,
  NewerSchemaError,
  NotInitializedError,
  RecordExistsError,
  RecordNotFoundError,
} from '../../../driver/core/registry/errors.js';
import { TEST_NFS, volumeRecord } from '../../fakes/records.js';
import { Registry } from '../../../driver/core/registry/registry.js';
import { FakeNfsError, MemoryNfs } from '../../fakes/memory-nfs.js';

const nfs = TEST_NFS;
const vol = volumeRecord;

async function fresh(): Promise<{ fs: MemoryNfs; reg: Registry }> {
  const fs = new MemoryNfs();
  const { registry } = await Registry.init(fs, nfs);
  return { fs, reg: registry };
}

describe('Registry.init / open', () => {
  it('lays out .nfsvol and writes cluster.json last; a second init joins the same cluster', async () => {
    const fs = new MemoryNfs();
    const a = await Registry.init(fs, nfs);
    expect(a.created).toBe(true);
    expect(fs.list('.nfsvol')).toEqual([
      'archive',
      'cluster.json',
      'hosts',
      'locks',
      'mounts',
      'pending',
      'tmp',
      'volumes',
    ]);
    const b = await Registry.init(fs, { ...nfs, version: '3' });
    expect(b.created).toBe(false);
    expect(b.registry.cluster.id).toBe(a.registry.cluster.id);
    expect(b.registry.cluster.nfs.version).toBe('4.1');
  });

  it('concurrent inits agree on one cluster id', async () => {
    const fs = new MemoryNfs();
    const all = await Promise.all(Array.from({ length: 5 }, () => Registry.init(fs, nfs)));
    expect(new Set(all.map((r) => r.registry.cluster.id)).size).toBe(1);
    expect(all.filter((r) => r.created)).toHaveLength(1);
  });

  it('open on an export without a registry is NOT_INITIALIZED', async () => {
    await expect(Registry.open(new MemoryNfs())).rejects.toBeInstanceOf(NotInitializedError);
  });

  it('a corrupt or newer cluster.json is a typed error naming the file', async () => {
    const { fs } = await fresh();
    fs.put('.nfsvol/cluster.json', '{"schema": 99, "kind": "cluster"}');
    await expect(Registry.open(fs)).rejects.toThrow(NewerSchemaError);
    await expect(Registry.open(fs)).rejects.toThrow('.nfsvol/cluster.json');
    fs.put('.nfsvol/cluster.json', '{not json');
    await expect(Registry.open(fs)).rejects.toThrow(CorruptRecordError);
  });
});

describe('RecordCollection', () => {
  it('creates exclusively: a second create fails and the first record stays', async () => {
    const { fs, reg } = await fresh();
    await reg.volumes.create('aa', vol('aa', { createdBy: 'first' }));
    await expect(reg.volumes.create('aa', vol('aa', { createdBy: 'second' }))).rejects.toBeInstanceOf(
      RecordExistsError,
    );
    expect((await reg.volumes.get('aa')).createdBy).toBe('first');
    expect(fs.calls.get('createExclusive')).toBeGreaterThan(0);
  });

  it('replaces through a temporary file and RENAME, leaving no temporary files', async () => {
    const { fs, reg } = await fresh();
    await reg.volumes.create('aa', vol('aa'));
    await reg.volumes.replace('aa', vol('aa', { labels: { x: 'y' } }));
    expect((await reg.volumes.get('aa')).labels).toEqual({ x: 'y' });
    expect(fs.list('.nfsvol/tmp')).toEqual([]);
    expect(fs.calls.get('rename')).toBe(1);
    expect(fs.calls.get('writeFile')).toBe(1);
  });

  it('a failed RENAME leaves the old record intact and cleans its temporary file', async () => {
    const { fs, reg } = await fresh();
    await reg.volumes.create('aa', vol('aa'));
    fs.inject('rename', () => new FakeNfsError('NFS3ERR_IO', 'disk on fire'));
    await expect(reg.volumes.replace('aa', vol('aa', { labels: { x: 'y' } }))).rejects.toThrow(/NFS3ERR_IO/);
    expect((await reg.volumes.get('aa')).labels).toEqual({});
    expect(fs.list('.nfsvol/tmp')).toEqual([]);
  });

  it('refuses to replace a corrupt or newer record and does not touch it', async () => {
    const { fs, reg } = await fresh();
    fs.put('.nfsvol/volumes/aa.json', '{"schema": 2, "kind": "volume", "future": true}');
    const err = await reg.volumes.replace('aa', vol('aa')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NewerSchemaError);
    expect((err as NewerSchemaError).file).toBe('.nfsvol/volumes/aa.json');
    expect(fs.peek('.nfsvol/volumes/aa.json')?.toString()).toContain('future');

    fs.put('.nfsvol/volumes/bb.json', '\u00ff\u00fe garbage');
    await expect(reg.volumes.replace('bb', vol('bb'))).rejects.toBeInstanceOf(CorruptRecordError);
    expect(fs.peek('.nfsvol/volumes/bb.json')?.toString()).toContain('garbage');
  });

  it('names the file and the field for structurally bad records', async () => {
    const { fs, reg } = await fresh();
    fs.put('.nfsvol/volumes/aa.json', JSON.stringify({ ...vol('aa'), onDelete: 'shred' }));
    await expect(reg.volumes.get('aa')).rejects.toThrow(/volumes\/aa\.json.*onDelete/);
    fs.put('.nfsvol/volumes/bb.json', JSON.stringify({ ...vol('bb'), kind: 'host' }));
    await expect(reg.volumes.get('bb')).rejects.toThrow(/expected a volume record/);
    fs.put('.nfsvol/volumes/cc.json', '[]');
    await expect(reg.volumes.get('cc')).rejects.toThrow(CorruptRecordError);
  });

  it('holds values read from the export to the rules the command line is held to', async () => {
    const { fs, reg } = await fresh();
    fs.put('.nfsvol/volumes/aa.json', JSON.stringify(vol('../x')));
    await expect(reg.volumes.get('aa')).rejects.toThrow(/volumes\/aa\.json is corrupt: .*left untouched/);
    fs.put('.nfsvol/volumes/bb.json', JSON.stringify(vol('b;touch /tmp/canary')));
    await expect(reg.volumes.get('bb')).rejects.toBeInstanceOf(CorruptRecordError);
    expect(fs.peek('.nfsvol/volumes/bb.json')?.toString()).toContain('canary');
  });

  it('an empty record (EXCLUSIVE create without its write) is incomplete and retriable', async () => {
    const { fs, reg } = await fresh();
    fs.put('.nfsvol/volumes/aa.json', '');
    const err = await reg.volumes.get('aa').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IncompleteRecordError);
    expect((err as IncompleteRecordError).retriable).toBe(true);
    // Listing skips records being created; a replace may complete it.
    expect(await reg.volumes.list()).toEqual([]);
    await reg.volumes.replace('aa', vol('aa'));
    expect((await reg.volumes.get('aa')).name).toBe('aa');
  });

  it('get of a missing record is NOT_FOUND; remove is idempotent', async () => {
    const { reg } = await fresh();
    await expect(reg.volumes.get('nope')).rejects.toBeInstanceOf(RecordNotFoundError);
    expect(await reg.volumes.tryGet('nope')).toBeUndefined();
    await reg.volumes.create('aa', vol('aa'));
    expect(await reg.volumes.remove('aa')).toBe(true);
    expect(await reg.volumes.remove('aa')).toBe(false);
  });

  it('list fails with the file name when one record is corrupt', async () => {
    const { fs, reg } = await fresh();
    await reg.volumes.create('aa', vol('aa'));
    fs.put('.nfsvol/volumes/bb.json', 'x');
    await expect(reg.volumes.list()).rejects.toThrow('.nfsvol/volumes/bb.json');
  });

  it('10 writers x 20 records on separate Registry instances lose nothing', async () => {
    const fs = new MemoryNfs();
    await Registry.init(fs, nfs);
    const writers = await Promise.all(Array.from({ length: 10 }, () => Registry.open(fs)));
    await Promise.all(
      writers.map(async (reg, w) => {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => reg.volumes.create(`w${w}-v${i}`, vol(`w${w}-v${i}`))),
        );
      }),
    );
    const listed = await (await Registry.open(fs)).volumes.list();
    expect(listed).toHaveLength(200);
    expect(new Set(listed.map((v) => v.name)).size).toBe(200);
  });

  it('racing creates of one name: exactly one wins', async () => {
    const { reg } = await fresh();
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => reg.volumes.create('same', vol('same', { createdBy: `w${i}` }))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(
      results.filter((r) => r.status === 'rejected' && r.reason instanceof RecordExistsError),
    ).toHaveLength(9);
  });
});

describe('stale handles', () => {
  it('a record whose handle went stale (server restart, record replaced) is read again by name, not dropped', async () => {
    const { fs, reg } = await fresh();
    await reg.volumes.create('aa', vol('aa'));
    await reg.volumes.create('bb', vol('bb'));
    fs.inject('readFile', () => new FakeNfsError('NFS3ERR_STALE', 'stale', true), {
      path: /volumes\/aa\.json$/,
      count: 1,
    });
    expect((await reg.volumes.list()).map((v) => v.name)).toEqual(['aa', 'bb']);
    fs.inject('readFile', () => new FakeNfsError('NFS3ERR_STALE', 'stale', true), {
      path: /volumes\/bb\.json$/,
      count: 1,
    });
    expect((await reg.volumes.get('bb')).name).toBe('bb');
  });
});

describe('sweepTmp', () => {
  it('removes temporary files older than the limit and keeps fresh ones', async () => {
    const fs = new MemoryNfs();
    const now = Date.now();
    await Registry.init(fs, nfs);
    const reg = await Registry.open(fs, { now: () => now });
    fs.put('.nfsvol/tmp/old.json', 'x', new Date(now - 2 * 3_600_000));
    fs.put('.nfsvol/tmp/new.json', 'y', new Date(now - 60_000));
    expect(await reg.sweepTmp()).toBe(1);
    expect(fs.list('.nfsvol/tmp')).toEqual(['new.json']);
  });
});

describe('listing cache', () => {
  const CACHE = '.nfsvol/volumes.cache.jsonl';
  const reads = (fs: MemoryNfs): number => fs.calls.get('readFile') ?? 0;
  const listStats = async (
    reg: Registry,
  ): Promise<{ names: string[]; stats: { records: number; read: number; cached: number } }> => {
    let stats = { records: -1, read: -1, cached: -1 };
    const names = (await reg.volumes.list({ onStats: (s) => (stats = s) })).map((v) => v.name);
    return { names, stats };
  };

  it('reads each record once; later listings take unchanged records from the cache', async () => {
    const { fs, reg } = await fresh();
    for (let i = 0; i < 20; i++) await reg.volumes.replace(`v${i}`, vol(`v${i}`));
    const first = await listStats(reg);
    expect(first.names).toHaveLength(20);
    expect(first.stats).toEqual({ records: 20, read: 20, cached: 0 });
    expect(fs.has(CACHE)).toBe(true);
    const r1 = reads(fs);
    const second = await listStats(reg);
    expect(second.stats).toEqual({ records: 20, read: 0, cached: 20 });
    expect(reads(fs) - r1).toBe(1); // the cache file only
  });

  it('records this process created go into the cache: the next listing reads none of them', async () => {
    const { reg } = await fresh();
    for (let i = 0; i < 30; i++)
      await reg.volumes.create(`v${String(i).padStart(2, '0')}`, vol(`v${String(i).padStart(2, '0')}`));
    await reg.volumes.flushCache();
    const { names, stats } = await listStats(reg);
    expect(names).toHaveLength(30);
    expect(stats).toEqual({ records: 30, read: 0, cached: 30 });
  });

  it('a bulk create merges into the cache as it goes, holding a bounded number of records', async () => {
    const fs = new MemoryNfs();
    const { registry: reg } = await Registry.init(fs, nfs, { cacheFlushEvery: 50 });
    const keys = Array.from({ length: 230 }, (_, i) => `v${String(229 - i).padStart(3, '0')}`);
    for (const k of keys) await reg.volumes.create(k, vol(k));
    // Merges ran in the background along the way (4 of 50); the rest comes with flushCache.
    const before = await fs.readFile(CACHE);
    expect(before.toString().trim().split('\n').length - 1).toBeGreaterThanOrEqual(50);
    await reg.volumes.flushCache();
    const { names, stats } = await listStats(reg);
    expect(names).toEqual([...keys].sort());
    expect(stats).toEqual({ records: 230, read: 0, cached: 230 });
  });

  it('a directory larger than the in-memory sort lists the same, through runs sorted on disk', async () => {
    const fs = new MemoryNfs();
    const { registry: reg } = await Registry.init(fs, nfs, { listSortRun: 64 });
    const keys = Array.from({ length: 700 }, (_, i) => `v${String((i * 389) % 700).padStart(3, '0')}`);
    for (const k of keys) await reg.volumes.create(k, vol(k));
    await reg.volumes.flushCache();
    let summary = { count: -1, longestKey: -1 };
    const names = (await reg.volumes.list({ onKeys: (k) => (summary = k) })).map((v) => v.name);
    expect(names).toEqual([...keys].sort());
    expect(summary).toEqual({ count: 700, longestKey: 4 });
    // Without the cache: every record read by the handle its entry carried through the runs.
    await fs.rm(CACHE);
    const { names: again, stats } = await listStats(reg);
    expect(again).toEqual([...keys].sort());
    expect(stats).toEqual({ records: 700, read: 700, cached: 0 });
  });

  it('merges created records into an existing cache in key order, prefixes first', async () => {
    const { reg } = await fresh();
    for (const k of ['bb', 'dd', 'ff']) await reg.volumes.create(k, vol(k));
    await reg.volumes.flushCache();
    for (const k of ['gg', 'aa-1', 'cc', 'aa', 'ee', 'bb-0']) await reg.volumes.create(k, vol(k));
    await reg.volumes.flushCache();
    const { names, stats } = await listStats(reg);
    expect(names).toEqual(['aa', 'aa-1', 'bb', 'bb-0', 'cc', 'dd', 'ee', 'ff', 'gg']);
    expect(stats).toEqual({ records: 9, read: 0, cached: 9 });
  });

  it('streams many records in key order, window by window, and keeps every line when one changes midway', async () => {
    const { reg } = await fresh();
    const keys = Array.from({ length: 1300 }, (_, i) => `v${String(i).padStart(4, '0')}`);
    for (const k of [...keys].reverse()) await reg.volumes.create(k, vol(k));
    await reg.volumes.flushCache();
    // One record replaced in the second window, one removed in the third, one added at the end.
    await reg.volumes.replace('v0700', vol('v0700', { labels: { changed: 'yes' } }));
    await reg.volumes.remove('v1100');
    await reg.volumes.replace('v9999', vol('v9999'));
    const seen: string[] = [];
    let stats = { records: 0, read: 0, cached: 0 };
    for await (const r of reg.volumes.stream({ onStats: (s) => (stats = s) })) seen.push(r.name);
    const want = [...keys.filter((k) => k !== 'v1100'), 'v9999'];
    expect(seen).toEqual(want);
    expect(stats).toEqual({ records: 1300, read: 2, cached: 1298 });
    // The rewritten cache has every line, before and after the change.
    const again = await listStats(reg);
    expect(again.stats).toEqual({ records: 1300, read: 0, cached: 1300 });
    expect((await reg.volumes.get('v0700')).labels).toEqual({ changed: 'yes' });
  });

  it('a replaced, removed or added record is seen at once', async () => {
    const { reg } = await fresh();
    await reg.volumes.create('aa', vol('aa'));
    await reg.volumes.create('bb', vol('bb'));
    await reg.volumes.flushCache();
    await reg.volumes.list();
    await reg.volumes.replace('aa', vol('aa', { labels: { changed: 'yes' } }));
    await reg.volumes.remove('bb');
    await reg.volumes.create('cc', vol('cc'));
    const listed = await reg.volumes.list();
    expect(listed.map((v) => [v.name, v.labels])).toEqual([
      ['aa', { changed: 'yes' }],
      ['cc', {}],
    ]);
  });

  it('a corrupt, forged, unsorted or foreign cache costs reads, never correctness', async () => {
    const { fs, reg } = await fresh();
    await reg.volumes.replace('aa', vol('aa'));
    await reg.volumes.replace('bb', vol('bb'));
    const head = '{"format":"nfsvol-listing-cache","schema":1,"kind":"volume"}';
    const forged = JSON.stringify(vol('forged'));
    for (const bad of [
      'garbage',
      `${head}\n["a","wrong-stamp",${JSON.stringify(forged)}]\n`,
      `${head}\n["b","x","{}"]\n["a","x","{}"]\n`,
      `${head.replace('volume', 'host')}\n`,
      `${head}\n${'x'.repeat(300_000)}`,
      JSON.stringify({ schema: 1, kind: 'volume-cache', entries: [] }), // the old format
    ]) {
      fs.put(CACHE, bad);
      const { names, stats } = await listStats(reg);
      expect(names).toEqual(['aa', 'bb']);
      expect(stats.read).toBe(2);
    }
    // A line whose stamp matches but whose text is corrupt is a miss, not an error.
    await reg.volumes.list();
    const text = fs
      .peek(CACHE)!
      .toString()
      .replace(/"name\\":\\"a\\"/, 'broken');
    fs.put(CACHE, text);
    expect((await listStats(reg)).names).toEqual(['aa', 'bb']);
  });

  it('a cache that cannot be written is skipped: the listing still succeeds', async () => {
    const { fs, reg } = await fresh();
    await reg.volumes.replace('aa', vol('aa'));
    fs.inject('rename', () => new FakeNfsError('NFS3ERR_ACCES', 'read-only'), {
      path: /cache/,
      count: 5,
    });
    expect((await reg.volumes.list()).map((v) => v.name)).toEqual(['aa']);
    expect(fs.list('.nfsvol/tmp')).toEqual([]);
  });
});
