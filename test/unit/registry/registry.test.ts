import { describe, expect, it } from 'vitest';
import {
  CorruptRecordError,
  IncompleteRecordError,
  LockTimeoutError,
  NewerSchemaError,
  NotInitializedError,
  RecordExistsError,
  RecordNotFoundError,
} from '../../../driver/registry/errors.js';
import { SCHEMA_VERSION, type NfsSettings, type VolumeRecord } from '../../../driver/registry/records.js';
import { Registry } from '../../../driver/registry/registry.js';
import { FakeNfsError, MemoryNfs } from '../../fakes/memory-nfs.js';

const nfs: NfsSettings = {
  version: '4.1',
  server: '127.0.0.1',
  port: 2049,
  exportPath: '/export',
  mountOptions: [],
};

function vol(name: string, extra: Partial<VolumeRecord> = {}): VolumeRecord {
  return {
    schema: SCHEMA_VERSION,
    kind: 'volume',
    name,
    createdAt: '2026-01-01T00:00:00.000Z',
    createdBy: 'op',
    uid: 0,
    gid: 0,
    mode: 0o755,
    labels: {},
    onDelete: 'retain',
    ...extra,
  };
}

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
    await reg.volumes.create('a', vol('a', { createdBy: 'first' }));
    await expect(reg.volumes.create('a', vol('a', { createdBy: 'second' }))).rejects.toBeInstanceOf(
      RecordExistsError,
    );
    expect((await reg.volumes.get('a')).createdBy).toBe('first');
    expect(fs.calls.get('createExclusive')).toBeGreaterThan(0);
  });

  it('replaces through a temporary file and RENAME, leaving no temporary files', async () => {
    const { fs, reg } = await fresh();
    await reg.volumes.create('a', vol('a'));
    await reg.volumes.replace('a', vol('a', { labels: { x: 'y' } }));
    expect((await reg.volumes.get('a')).labels).toEqual({ x: 'y' });
    expect(fs.list('.nfsvol/tmp')).toEqual([]);
    expect(fs.calls.get('rename')).toBe(1);
    expect(fs.calls.get('writeFile')).toBe(1);
  });

  it('a failed RENAME leaves the old record intact and cleans its temporary file', async () => {
    const { fs, reg } = await fresh();
    await reg.volumes.create('a', vol('a'));
    fs.inject('rename', () => new FakeNfsError('NFS3ERR_IO', 'disk on fire'));
    await expect(reg.volumes.replace('a', vol('a', { labels: { x: 'y' } }))).rejects.toThrow(/NFS3ERR_IO/);
    expect((await reg.volumes.get('a')).labels).toEqual({});
    expect(fs.list('.nfsvol/tmp')).toEqual([]);
  });

  it('refuses to replace a corrupt or newer record and does not touch it', async () => {
    const { fs, reg } = await fresh();
    fs.put('.nfsvol/volumes/a.json', '{"schema": 2, "kind": "volume", "future": true}');
    const err = await reg.volumes.replace('a', vol('a')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NewerSchemaError);
    expect((err as NewerSchemaError).file).toBe('.nfsvol/volumes/a.json');
    expect(fs.peek('.nfsvol/volumes/a.json')?.toString()).toContain('future');

    fs.put('.nfsvol/volumes/b.json', '\u00ff\u00fe garbage');
    await expect(reg.volumes.replace('b', vol('b'))).rejects.toBeInstanceOf(CorruptRecordError);
    expect(fs.peek('.nfsvol/volumes/b.json')?.toString()).toContain('garbage');
  });

  it('names the file and the field for structurally bad records', async () => {
    const { fs, reg } = await fresh();
    fs.put('.nfsvol/volumes/a.json', JSON.stringify({ ...vol('a'), onDelete: 'shred' }));
    await expect(reg.volumes.get('a')).rejects.toThrow(/volumes\/a\.json.*onDelete/);
    fs.put('.nfsvol/volumes/b.json', JSON.stringify({ ...vol('b'), kind: 'host' }));
    await expect(reg.volumes.get('b')).rejects.toThrow(/expected a volume record/);
    fs.put('.nfsvol/volumes/c.json', '[]');
    await expect(reg.volumes.get('c')).rejects.toThrow(CorruptRecordError);
  });

  it('holds values read from the export to the rules the command line is held to', async () => {
    const { fs, reg } = await fresh();
    fs.put('.nfsvol/volumes/a.json', JSON.stringify(vol('../x')));
    await expect(reg.volumes.get('a')).rejects.toThrow(/volumes\/a\.json is corrupt: .*left untouched/);
    fs.put('.nfsvol/volumes/b.json', JSON.stringify(vol('b;touch /tmp/canary')));
    await expect(reg.volumes.get('b')).rejects.toBeInstanceOf(CorruptRecordError);
    expect(fs.peek('.nfsvol/volumes/b.json')?.toString()).toContain('canary');
  });

  it('an empty record (EXCLUSIVE create without its write) is incomplete and retriable', async () => {
    const { fs, reg } = await fresh();
    fs.put('.nfsvol/volumes/a.json', '');
    const err = await reg.volumes.get('a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IncompleteRecordError);
    expect((err as IncompleteRecordError).retriable).toBe(true);
    // Listing skips records being created; a replace may complete it.
    expect(await reg.volumes.list()).toEqual([]);
    await reg.volumes.replace('a', vol('a'));
    expect((await reg.volumes.get('a')).name).toBe('a');
  });

  it('get of a missing record is NOT_FOUND; remove is idempotent', async () => {
    const { reg } = await fresh();
    await expect(reg.volumes.get('nope')).rejects.toBeInstanceOf(RecordNotFoundError);
    expect(await reg.volumes.tryGet('nope')).toBeUndefined();
    await reg.volumes.create('a', vol('a'));
    expect(await reg.volumes.remove('a')).toBe(true);
    expect(await reg.volumes.remove('a')).toBe(false);
  });

  it('list fails with the file name when one record is corrupt', async () => {
    const { fs, reg } = await fresh();
    await reg.volumes.create('a', vol('a'));
    fs.put('.nfsvol/volumes/b.json', 'x');
    await expect(reg.volumes.list()).rejects.toThrow('.nfsvol/volumes/b.json');
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

describe('withLock', () => {
  it('serialises read-modify-write so concurrent increments lose no update', async () => {
    const { reg } = await fresh();
    await reg.volumes.create('counter', vol('counter', { uid: 0 }));
    await Promise.all(
      Array.from({ length: 20 }, () =>
        reg.withLock('counter', async () => {
          const cur = await reg.volumes.get('counter');
          await reg.volumes.replace('counter', { ...cur, uid: cur.uid + 1 });
        }),
      ),
    );
    expect((await reg.volumes.get('counter')).uid).toBe(20);
  });

  it('breaks a stale lock and times out on a fresh one', async () => {
    const fs = new MemoryNfs();
    let now = 1_000_000;
    await Registry.init(fs, nfs);
    const reg = await Registry.open(fs, { now: () => now, lockStaleMs: 1000, lockTimeoutMs: 50 });
    fs.put(
      '.nfsvol/locks/x.lock',
      JSON.stringify({ schema: 1, kind: 'lock', owner: 'dead', acquiredAt: now - 5000 }),
    );
    expect(await reg.withLock('x', async () => 'ran')).toBe('ran');
    expect(fs.has('.nfsvol/locks/x.lock')).toBe(false);

    fs.put(
      '.nfsvol/locks/y.lock',
      JSON.stringify({ schema: 1, kind: 'lock', owner: 'alive', acquiredAt: now }),
    );
    const p = reg.withLock('y', async () => 'ran');
    now += 100;
    await expect(p).rejects.toBeInstanceOf(LockTimeoutError);
    expect(fs.has('.nfsvol/locks/y.lock')).toBe(true);
  });

  it('releases the lock when the body throws', async () => {
    const { fs, reg } = await fresh();
    await expect(
      reg.withLock('z', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(fs.has('.nfsvol/locks/z.lock')).toBe(false);
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
  it('reads each record once; later listings take unchanged records from the cache', async () => {
    const { fs, reg } = await fresh();
    for (let i = 0; i < 20; i++) await reg.volumes.create(`v${i}`, vol(`v${i}`));
    const reads = (): number => fs.calls.get('readFile') ?? 0;
    const r0 = reads();
    expect(await reg.volumes.list()).toHaveLength(20);
    const r1 = reads();
    expect(r1 - r0).toBeGreaterThanOrEqual(20);
    expect(fs.has('.nfsvol/volumes.cache.json')).toBe(true);
    expect((await reg.volumes.list()).map((v) => v.name)).toHaveLength(20);
    expect(reads() - r1).toBe(1); // the cache file only
  });

  it('a replaced, removed or added record is seen at once', async () => {
    const { reg } = await fresh();
    await reg.volumes.create('a', vol('a'));
    await reg.volumes.create('b', vol('b'));
    await reg.volumes.list();
    await reg.volumes.replace('a', vol('a', { labels: { changed: 'yes' } }));
    await reg.volumes.remove('b');
    await reg.volumes.create('c', vol('c'));
    const listed = await reg.volumes.list();
    expect(listed.map((v) => [v.name, v.labels])).toEqual([
      ['a', { changed: 'yes' }],
      ['c', {}],
    ]);
  });

  it('a corrupt or forged cache costs reads, never correctness', async () => {
    const { fs, reg } = await fresh();
    await reg.volumes.create('a', vol('a'));
    fs.put('.nfsvol/volumes.cache.json', 'garbage');
    expect((await reg.volumes.list()).map((v) => v.name)).toEqual(['a']);
    // A cache entry whose stamp does not match the directory entry is ignored.
    fs.put(
      '.nfsvol/volumes.cache.json',
      JSON.stringify({
        schema: 1,
        kind: 'volume-cache',
        entries: [['a', 'wrong', JSON.stringify(vol('forged'))]],
      }),
    );
    expect((await reg.volumes.list()).map((v) => v.name)).toEqual(['a']);
  });
});
