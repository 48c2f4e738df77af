/**
 * What every `NfsFs` does, written once and run against each implementation: the in-memory fake
 * the unit tests hand to the registry (test/unit/nfs/nfs-fs.contract.test.ts), and nfsvol's NFSv3
 * and NFSv4.1 clients on nfs-ganesha (test/integration/nfs-fs.contract.test.ts). The server is
 * the reference: when the fake and the server disagree, the fake is wrong.
 *
 * Assertions look at what a caller sees: results, attributes, and the class and status of an
 * error (through `hasNfsStatus`, which matches NFS3ERR_X and NFS4ERR_X alike), never message text.
 */
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NfsvolError, ValidationError } from '../../driver/common/errors.js';
import { hasNfsStatus } from '../../driver/core/nfs-status.js';
import { NfsError } from '../../driver/nfs/nfs-error.js';
import type { DirEntry, FileStat, NfsFs } from '../../driver/nfs/types.js';

/** One implementation under test, fresh for each case. */
export interface NfsFsSubject {
  readonly fs: NfsFs;
  /** Export-relative path of an empty directory the case works in (made by the setup). */
  readonly dir: string;
  /** Releases what the setup made. */
  readonly teardown?: () => Promise<void>;
}

export interface NfsFsContractOptions {
  /**
   * Cases this implementation is known to fail, by title, each with the reason shown in the
   * skipped test's name. A title that names no case is an error, so a stale entry is noticed.
   */
  readonly known?: Readonly<Record<string, string>>;
}

/** Awaits `p`, which must fail with an `NfsError` whose status ends in ERR_<one of names>. */
async function rejectsWithStatus(p: Promise<unknown>, ...names: string[]): Promise<NfsError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected an NfsError ${names.join(' or ')}`).toBeInstanceOf(NfsError);
  const status = (err as NfsError).status;
  expect(hasNfsStatus(err, ...names), `status ${status}, expected ${names.join(' or ')}`).toBe(true);
  expect((err as NfsError).retriable).toBe(false);
  return err as NfsError;
}

/**
 * Awaits `p`, which must fail with an `NfsError` of status NFS_TOO_LARGE: the client's own
 * bound, raised before it holds more than the caller allowed.
 */
async function rejectsTooLarge(p: Promise<unknown>): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NfsError);
  expect((err as NfsError).status).toBe('NFS_TOO_LARGE');
}

/** Awaits `p`, which must fail with an `NfsvolError` of `code` (not an NFS status from the server). */
async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<NfsvolError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NfsvolError);
  expect((err as NfsvolError).code).toBe(code);
  return err as NfsvolError;
}

async function collect(entries: AsyncIterable<DirEntry>): Promise<DirEntry[]> {
  const out: DirEntry[] = [];
  for await (const e of entries) out.push(e);
  return out;
}

function byName(entries: readonly DirEntry[]): Map<string, DirEntry> {
  return new Map(entries.map((e) => [e.name, e]));
}

/** `size` bytes in which every 256 hold each byte value once, shifted from one 256 to the next. */
function binary(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 7 + (i >> 8)) & 0xff;
  return b;
}

export function describeNfsFsContract(
  label: string,
  setup: () => Promise<NfsFsSubject>,
  options: NfsFsContractOptions = {},
): void {
  const known = options.known ?? {};
  const titles = new Set<string>();

  describe(`NfsFs contract: ${label}`, () => {
    let subject: NfsFsSubject;
    let fs: NfsFs;
    /** `name` inside the case's directory. */
    let p: (name: string) => string;

    beforeEach(async () => {
      subject = await setup();
      fs = subject.fs;
      p = (name) => `${subject.dir}/${name}`;
    });
    afterEach(async () => {
      await subject?.teardown?.();
    });

    const test = (title: string, fn: () => Promise<void>): void => {
      titles.add(title);
      const reason = known[title];
      if (reason !== undefined) it.skip(`${title} [known difference: ${reason}]`, fn);
      else it(title, fn);
    };

    describe('stat and exists', () => {
      test('stat reports a file: type, permission bits, owner, size, identity', async () => {
        await fs.writeFile(p('f'), 'hello', { mode: 0o640, uid: 1234, gid: 5678 });
        const st = await fs.stat(p('f'));
        expect(st).toMatchObject({ type: 'file', mode: 0o640, uid: 1234, gid: 5678, size: 5, nlink: 1 });
        expect(typeof st.fileid).toBe('bigint');
        expect(st.used).toBeGreaterThanOrEqual(0);
        for (const t of [st.atime, st.mtime, st.ctime]) expect(t).toBeInstanceOf(Date);
        expect((await fs.stat(p('f'))).fileid).toBe(st.fileid);
      });

      test('stat reports a directory and a symlink as themselves, not what a link points to', async () => {
        await fs.mkdir(p('d'), { mode: 0o750 });
        await fs.writeFile(p('target'), 'x');
        await fs.symlink('target', p('link'));
        expect(await fs.stat(p('d'))).toMatchObject({ type: 'directory', mode: 0o750 });
        expect((await fs.stat(p('d'))).nlink).toBeGreaterThanOrEqual(2);
        // A symlink's size is the length of the target it names.
        expect(await fs.stat(p('link'))).toMatchObject({ type: 'symlink', size: 'target'.length });
        expect((await fs.stat(subject.dir)).type).toBe('directory');
      });

      test('a leading slash, "." and doubled slashes name the same path', async () => {
        await fs.writeFile(p('f'), 'x');
        const st = await fs.stat(p('f'));
        expect((await fs.stat(`/${subject.dir}/f`)).fileid).toBe(st.fileid);
        expect((await fs.stat(`${subject.dir}//./f`)).fileid).toBe(st.fileid);
      });

      test('stat of a missing path fails with NOENT; exists resolves to undefined', async () => {
        await rejectsWithStatus(fs.stat(p('missing')), 'NOENT');
        await rejectsWithStatus(fs.stat(p('missing/deeper')), 'NOENT');
        expect(await fs.exists(p('missing'))).toBeUndefined();
        await fs.writeFile(p('f'), 'abc');
        expect(await fs.exists(p('f'))).toMatchObject({ type: 'file', size: 3 });
      });

      test('a path through a file fails with NOTDIR, in stat and in exists', async () => {
        await fs.writeFile(p('f'), 'x');
        await rejectsWithStatus(fs.stat(p('f/x')), 'NOTDIR');
        await rejectsWithStatus(fs.exists(p('f/x')), 'NOTDIR');
      });

      test('a path with "..", a NUL or a name over 255 bytes is refused before anything is sent', async () => {
        const err = await rejectsWithCode(fs.stat(`${subject.dir}/../x`), 'VALIDATION');
        expect(err).toBeInstanceOf(ValidationError);
        await rejectsWithCode(fs.mkdir(p('a/../b')), 'VALIDATION');
        await rejectsWithCode(fs.writeFile(p('nul\0name'), 'x'), 'VALIDATION');
        await rejectsWithCode(fs.writeFile(p('n'.repeat(256)), 'x'), 'VALIDATION');
        await fs.writeFile(p('n'.repeat(255)), 'x');
        expect((await fs.readdir(subject.dir)).map((e) => e.name)).toEqual(['n'.repeat(255)]);
      });
    });

    describe('mkdir and mkdirp', () => {
      test('mkdir creates a directory with the mode, uid and gid asked for', async () => {
        const made = await fs.mkdir(p('d'), { mode: 0o2770, uid: 1234, gid: 5678 });
        expect(made).toMatchObject({ type: 'directory', mode: 0o2770, uid: 1234, gid: 5678 });
        const st = await fs.stat(p('d'));
        expect(st).toMatchObject({ type: 'directory', mode: 0o2770, uid: 1234, gid: 5678 });
        expect(st.fileid).toBe(made.fileid);
        expect(await fs.readdir(p('d'))).toEqual([]);
      });

      test('mkdir defaults to mode 0755', async () => {
        expect((await fs.mkdir(p('d'))).mode).toBe(0o755);
        expect((await fs.stat(p('d'))).mode).toBe(0o755);
      });

      test('mkdir of a name that exists fails with EXIST, whether a directory or a file', async () => {
        await fs.mkdir(p('d'), { mode: 0o700 });
        await fs.writeFile(p('f'), 'keep');
        await rejectsWithStatus(fs.mkdir(p('d')), 'EXIST');
        await rejectsWithStatus(fs.mkdir(p('f')), 'EXIST');
        expect((await fs.stat(p('d'))).mode).toBe(0o700);
        expect((await fs.readFile(p('f'))).toString()).toBe('keep');
      });

      test('mkdir under a missing parent fails with NOENT, under a file with NOTDIR', async () => {
        await rejectsWithStatus(fs.mkdir(p('missing/d')), 'NOENT');
        await fs.writeFile(p('f'), 'x');
        await rejectsWithStatus(fs.mkdir(p('f/d')), 'NOTDIR');
      });

      test('mkdir of the export root fails with NFS_BAD_PATH: it has no parent', async () => {
        await rejectsWithCode(fs.mkdir('/'), 'NFS_BAD_PATH');
      });

      test('mkdirp creates every missing level with the mode asked for, and resolves to the last', async () => {
        const made = await fs.mkdirp(p('a/b/c'), { mode: 0o700 });
        expect(made).toMatchObject({ type: 'directory', mode: 0o700 });
        expect(made.fileid).toBe((await fs.stat(p('a/b/c'))).fileid);
        for (const d of ['a', 'a/b', 'a/b/c']) expect((await fs.stat(p(d))).mode).toBe(0o700);
      });

      test('mkdirp of existing directories succeeds and leaves their attributes alone', async () => {
        await fs.mkdir(p('a'), { mode: 0o750 });
        const again = await fs.mkdirp(p('a'), { mode: 0o700 });
        expect(again).toMatchObject({ type: 'directory', mode: 0o750 });
        await fs.mkdirp(p('a/b'), { mode: 0o711 });
        expect((await fs.stat(p('a'))).mode).toBe(0o750);
        expect((await fs.stat(p('a/b'))).mode).toBe(0o711);
        expect((await fs.mkdirp(p('a/b'))).mode).toBe(0o711);
      });

      test('mkdirp through or onto a file fails with NOTDIR', async () => {
        await fs.writeFile(p('f'), 'x');
        await rejectsWithStatus(fs.mkdirp(p('f')), 'NOTDIR');
        await rejectsWithStatus(fs.mkdirp(p('f/g/h')), 'NOTDIR');
      });
    });

    describe('readdir and readdirIter', () => {
      test('an empty directory lists nothing: no "." or ".."', async () => {
        expect(await fs.readdir(subject.dir)).toEqual([]);
        expect(await collect(fs.readdirIter(subject.dir))).toEqual([]);
      });

      test('entries carry their names, ids and, when sent, attributes and a handle readFile accepts', async () => {
        await fs.writeFile(p('file'), 'content', { mode: 0o600 });
        await fs.mkdir(p('dir'), { mode: 0o711 });
        await fs.symlink('file', p('link'));
        const entries = byName(await fs.readdir(subject.dir));
        expect([...entries.keys()].sort()).toEqual(['dir', 'file', 'link']);
        const expected: Record<string, Partial<FileStat>> = {
          file: { type: 'file', mode: 0o600, size: 7 },
          dir: { type: 'directory', mode: 0o711 },
          link: { type: 'symlink' },
        };
        for (const [name, want] of Object.entries(expected)) {
          const e = entries.get(name)!;
          expect(e.fileid).toBe((await fs.stat(p(name))).fileid);
          if (e.stat) expect(e.stat).toMatchObject({ ...want, fileid: e.fileid });
        }
        const file = entries.get('file')!;
        if (file.handle) {
          expect((await fs.readFile(p('file'), { handle: file.handle })).toString()).toBe('content');
        }
      });

      test('readdir and readdirIter list a directory of many entries across small pages', async () => {
        const names = Array.from({ length: 300 }, (_, i) => `entry-with-a-longish-name-${i}`);
        for (let i = 0; i < names.length; i += 50) {
          await Promise.all(names.slice(i, i + 50).map((n) => fs.writeFile(p(n), n)));
        }
        const listed = await fs.readdir(subject.dir, { pageBytes: 4096 });
        expect(listed.map((e) => e.name).sort()).toEqual([...names].sort());
        const iterated = await collect(fs.readdirIter(subject.dir, { pageBytes: 4096 }));
        expect(iterated.map((e) => e.name).sort()).toEqual([...names].sort());
        expect(new Set(iterated.map((e) => e.fileid)).size).toBe(names.length);
      });

      test('a listing of more entries than maxEntries fails with NFS_TOO_LARGE', async () => {
        await Promise.all(Array.from({ length: 20 }, (_, i) => fs.writeFile(p(`f${i}`), '')));
        await rejectsTooLarge(fs.readdir(subject.dir, { maxEntries: 5 }));
        await rejectsTooLarge(collect(fs.readdirIter(subject.dir, { maxEntries: 5 })));
        expect(await fs.readdir(subject.dir, { maxEntries: 100 })).toHaveLength(20);
      });

      test('readdir of a missing directory fails with NOENT, of a file with NOTDIR', async () => {
        await rejectsWithStatus(fs.readdir(p('missing')), 'NOENT');
        await rejectsWithStatus(collect(fs.readdirIter(p('missing'))), 'NOENT');
        await fs.writeFile(p('f'), 'x');
        await rejectsWithStatus(fs.readdir(p('f')), 'NOTDIR');
      });
    });

    describe('readFile and writeFile', () => {
      test('an empty file reads back empty', async () => {
        await fs.writeFile(p('empty'), '');
        expect((await fs.readFile(p('empty'))).length).toBe(0);
        expect((await fs.stat(p('empty'))).size).toBe(0);
      });

      test('binary data reads back byte for byte, small and spanning many READs and WRITEs', async () => {
        for (const size of [256, 3 * 1024 * 1024 + 5]) {
          const data = binary(size);
          await fs.writeFile(p(`bin-${size}`), data);
          expect((await fs.readFile(p(`bin-${size}`))).equals(data)).toBe(true);
          expect((await fs.stat(p(`bin-${size}`))).size).toBe(size);
        }
      });

      test('writeFile creates with the mode, uid and gid asked for, default mode 0644', async () => {
        await fs.writeFile(p('a'), 'x', { mode: 0o600, uid: 70, gid: 80 });
        expect(await fs.stat(p('a'))).toMatchObject({ mode: 0o600, uid: 70, gid: 80 });
        await fs.writeFile(p('b'), 'x');
        expect((await fs.stat(p('b'))).mode).toBe(0o644);
      });

      test('writeFile over a file replaces its content, same file, shorter or longer', async () => {
        await fs.writeFile(p('f'), 'hello world');
        const before = await fs.stat(p('f'));
        await fs.writeFile(p('f'), 'hi');
        expect((await fs.readFile(p('f'))).toString()).toBe('hi');
        const after = await fs.stat(p('f'));
        expect(after).toMatchObject({ size: 2, fileid: before.fileid });
        expect(after.mtime.getTime()).toBeGreaterThanOrEqual(before.mtime.getTime());
        await fs.writeFile(p('f'), 'a longer text than before');
        expect((await fs.readFile(p('f'))).toString()).toBe('a longer text than before');
        await fs.writeFile(p('f'), '');
        expect((await fs.stat(p('f'))).size).toBe(0);
      });

      test('writeFile over a file keeps its mode and owner, even when others are asked for', async () => {
        // Options describe the file writeFile creates; an existing file is only truncated and written.
        await fs.writeFile(p('f'), 'one', { mode: 0o600, uid: 70, gid: 80 });
        await fs.writeFile(p('f'), 'two');
        expect(await fs.stat(p('f'))).toMatchObject({ mode: 0o600, uid: 70, gid: 80 });
        await fs.writeFile(p('f'), 'three', { mode: 0o640, uid: 71, gid: 81 });
        expect(await fs.stat(p('f'))).toMatchObject({ mode: 0o600, uid: 70, gid: 80, size: 5 });
      });

      test('writeFile under a missing parent fails with NOENT, under a file with NOTDIR, onto a directory with ISDIR', async () => {
        await rejectsWithStatus(fs.writeFile(p('missing/f'), 'x'), 'NOENT');
        await fs.writeFile(p('f'), 'x');
        await rejectsWithStatus(fs.writeFile(p('f/g'), 'x'), 'NOTDIR');
        await fs.mkdir(p('d'));
        await rejectsWithStatus(fs.writeFile(p('d'), 'x'), 'ISDIR');
        expect((await fs.stat(p('d'))).type).toBe('directory');
      });

      test('readFile of a missing file fails with NOENT, of a directory with ISDIR', async () => {
        await rejectsWithStatus(fs.readFile(p('missing')), 'NOENT');
        await fs.mkdir(p('d'));
        await rejectsWithStatus(fs.readFile(p('d')), 'ISDIR');
      });

      test('readFile reads a file of exactly maxBytes, and fails with NFS_TOO_LARGE past it', async () => {
        await fs.writeFile(p('small'), Buffer.alloc(100, 1));
        expect((await fs.readFile(p('small'), { maxBytes: 100 })).length).toBe(100);
        await rejectsTooLarge(fs.readFile(p('small'), { maxBytes: 99 }));
        await fs.writeFile(p('big'), binary(3 * 1024 * 1024));
        await rejectsTooLarge(fs.readFile(p('big'), { maxBytes: 1024 * 1024 }));
      });
    });

    describe('createExclusive', () => {
      test('creates a file with its data, mode and owner; resolves to its attributes when it has them', async () => {
        const made = await fs.createExclusive(p('lock'), '{"owner":1}\n', { mode: 0o600, uid: 70, gid: 80 });
        const st = await fs.stat(p('lock'));
        expect(st).toMatchObject({ type: 'file', size: 12, mode: 0o600, uid: 70, gid: 80 });
        if (made) expect(made).toMatchObject({ type: 'file', size: 12, fileid: st.fileid, mode: 0o600 });
        expect((await fs.readFile(p('lock'))).toString()).toBe('{"owner":1}\n');
      });

      test('the attributes it resolves to are those a later listing and stat show', async () => {
        // The registry's listing cache keys a record on fileid, size, mtime and ctime from here.
        for (const [name, data] of [
          ['with-data', '{"a":1}\n'],
          ['empty', undefined],
        ] as const) {
          const made = await fs.createExclusive(p(name), data, { mode: 0o640 });
          if (!made) continue;
          const listed = byName(await fs.readdir(subject.dir)).get(name)?.stat ?? (await fs.stat(p(name)));
          for (const st of [listed, await fs.stat(p(name))]) {
            expect(made).toMatchObject({ fileid: st.fileid, size: st.size, mode: 0o640 });
            expect(made.mtime.getTime()).toBe(st.mtime.getTime());
            expect(made.ctime.getTime()).toBe(st.ctime.getTime());
          }
        }
      });

      test('without data it creates an empty file', async () => {
        await fs.createExclusive(p('empty'));
        expect(await fs.stat(p('empty'))).toMatchObject({ type: 'file', size: 0, mode: 0o644 });
      });

      test('a second create of the same name fails with EXIST and leaves the first file alone', async () => {
        await fs.createExclusive(p('lock'), 'first');
        const err = await rejectsWithStatus(fs.createExclusive(p('lock'), 'second'), 'EXIST');
        expect(err.status).toMatch(/^NFS[34]ERR_EXIST$/);
        expect((await fs.readFile(p('lock'))).toString()).toBe('first');
      });

      test('creating over a file written by writeFile fails with EXIST', async () => {
        await fs.writeFile(p('f'), 'plain');
        await rejectsWithStatus(fs.createExclusive(p('f'), 'x'), 'EXIST');
        expect((await fs.readFile(p('f'))).toString()).toBe('plain');
      });

      test('creating over a directory fails with EXIST', async () => {
        await fs.mkdir(p('d'));
        await rejectsWithStatus(fs.createExclusive(p('d')), 'EXIST');
        expect((await fs.stat(p('d'))).type).toBe('directory');
      });

      test('of many racing creators exactly one wins; the others see EXIST', async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => fs.createExclusive(p('race'), `racer ${i}`)),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results)
          if (r.status === 'rejected') expect(hasNfsStatus(r.reason, 'EXIST')).toBe(true);
        expect((await fs.readFile(p('race'))).toString()).toMatch(/^racer \d$/);
      });

      test('under a missing parent it fails with NOENT, under a file with NOTDIR', async () => {
        await rejectsWithStatus(fs.createExclusive(p('missing/lock')), 'NOENT');
        await fs.writeFile(p('f'), 'x');
        await rejectsWithStatus(fs.createExclusive(p('f/lock')), 'NOTDIR');
      });
    });

    describe('rename', () => {
      test('renames a file in its directory and into another, keeping content and identity', async () => {
        await fs.writeFile(p('a'), 'data');
        const id = (await fs.stat(p('a'))).fileid;
        await fs.rename(p('a'), p('b'));
        expect(await fs.exists(p('a'))).toBeUndefined();
        expect((await fs.stat(p('b'))).fileid).toBe(id);
        await fs.mkdir(p('sub'));
        await fs.rename(p('b'), p('sub/c'));
        expect((await fs.readFile(p('sub/c'))).toString()).toBe('data');
        expect((await fs.readdir(subject.dir)).map((e) => e.name)).toEqual(['sub']);
      });

      test('renames a directory with what it holds', async () => {
        await fs.mkdirp(p('d/inner'));
        await fs.writeFile(p('d/inner/f'), 'x');
        await fs.rename(p('d'), p('e'));
        expect((await fs.readFile(p('e/inner/f'))).toString()).toBe('x');
        await rejectsWithStatus(fs.stat(p('d/inner/f')), 'NOENT');
      });

      test('over an existing file it replaces that file', async () => {
        await fs.writeFile(p('new'), 'new');
        await fs.writeFile(p('old'), 'old');
        const id = (await fs.stat(p('new'))).fileid;
        await fs.rename(p('new'), p('old'));
        expect((await fs.readFile(p('old'))).toString()).toBe('new');
        expect((await fs.stat(p('old'))).fileid).toBe(id);
        expect((await fs.readdir(subject.dir)).map((e) => e.name)).toEqual(['old']);
      });

      test('a directory over an empty directory replaces it; over a non-empty one fails with NOTEMPTY', async () => {
        await fs.mkdir(p('a'));
        await fs.writeFile(p('a/f'), 'x');
        await fs.mkdir(p('empty'));
        await fs.rename(p('a'), p('empty'));
        expect((await fs.readFile(p('empty/f'))).toString()).toBe('x');
        await fs.mkdir(p('b'));
        await rejectsWithStatus(fs.rename(p('b'), p('empty')), 'NOTEMPTY');
        expect(await fs.exists(p('b'))).toBeDefined();
      });

      test('a file over a directory fails with ISDIR, empty or not; a directory over a file with NOTDIR', async () => {
        await fs.writeFile(p('f'), 'x');
        await fs.mkdir(p('d'));
        await fs.mkdir(p('full'));
        await fs.writeFile(p('full/x'), 'x');
        await rejectsWithStatus(fs.rename(p('f'), p('d')), 'ISDIR');
        await rejectsWithStatus(fs.rename(p('f'), p('full')), 'ISDIR');
        await rejectsWithStatus(fs.rename(p('d'), p('f')), 'NOTDIR');
        expect((await fs.stat(p('f'))).type).toBe('file');
        expect((await fs.stat(p('d'))).type).toBe('directory');
      });

      test('a directory into itself fails with INVAL', async () => {
        await fs.mkdirp(p('d/sub'));
        await rejectsWithStatus(fs.rename(p('d'), p('d/sub/d')), 'INVAL');
        expect((await fs.stat(p('d/sub'))).type).toBe('directory');
      });

      test('a name onto itself changes nothing, a file or a directory that is not empty', async () => {
        await fs.writeFile(p('f'), 'same');
        await fs.rename(p('f'), p('f'));
        expect((await fs.readFile(p('f'))).toString()).toBe('same');
        await fs.mkdir(p('d'));
        await fs.writeFile(p('d/x'), 'x');
        await fs.rename(p('d'), p('d'));
        expect((await fs.readdir(p('d'))).map((e) => e.name)).toEqual(['x']);
      });

      test('a missing source, or a missing target directory, fails with NOENT; a path through a file with NOTDIR', async () => {
        await rejectsWithStatus(fs.rename(p('missing'), p('x')), 'NOENT');
        await fs.writeFile(p('f'), 'x');
        await rejectsWithStatus(fs.rename(p('f'), p('missing/f')), 'NOENT');
        await rejectsWithStatus(fs.rename(p('f/x'), p('y')), 'NOTDIR');
        await rejectsWithStatus(fs.rename(p('f'), p('f/y')), 'NOTDIR');
        expect(await fs.exists(p('f'))).toBeDefined();
      });
    });

    describe('rm', () => {
      test('removes a file, a symlink (not what it points to) and an empty directory', async () => {
        await fs.writeFile(p('f'), 'x');
        await fs.symlink('f', p('link'));
        await fs.mkdir(p('d'));
        await fs.rm(p('link'));
        expect((await fs.readFile(p('f'))).toString()).toBe('x');
        await fs.rm(p('f'));
        await fs.rm(p('d'));
        expect(await fs.readdir(subject.dir)).toEqual([]);
      });

      test('a non-empty directory fails with NOTEMPTY unless recursive', async () => {
        await fs.mkdirp(p('d/a/b'));
        await fs.writeFile(p('d/f'), 'x');
        await rejectsWithStatus(fs.rm(p('d')), 'NOTEMPTY');
        expect((await fs.readFile(p('d/f'))).toString()).toBe('x');
        await fs.rm(p('d'), { recursive: true });
        expect(await fs.exists(p('d'))).toBeUndefined();
      });

      test('recursive removes a tree of many entries and links, and a plain file too', async () => {
        await fs.mkdirp(p('t/x/y'));
        await Promise.all(Array.from({ length: 150 }, (_, i) => fs.writeFile(p(`t/x/f${i}`), `${i}`)));
        await fs.symlink('../t', p('t/x/y/loop'));
        await fs.writeFile(p('keep'), 'outside');
        await fs.rm(p('t'), { recursive: true });
        expect((await fs.readdir(subject.dir)).map((e) => e.name)).toEqual(['keep']);
        await fs.rm(p('keep'), { recursive: true });
        expect(await fs.readdir(subject.dir)).toEqual([]);
      });

      test('a missing path fails with NOENT, recursive or not; a path through a file with NOTDIR', async () => {
        await rejectsWithStatus(fs.rm(p('missing')), 'NOENT');
        await rejectsWithStatus(fs.rm(p('missing'), { recursive: true }), 'NOENT');
        await fs.writeFile(p('f'), 'x');
        await rejectsWithStatus(fs.rm(p('f/x')), 'NOTDIR');
      });

      test('the export root cannot be removed: NFS_BAD_PATH', async () => {
        await rejectsWithCode(fs.rm('/'), 'NFS_BAD_PATH');
      });
    });

    describe('chmod, chown, symlink, readlink', () => {
      test('chmod sets the permission bits of a file and a directory, special bits included', async () => {
        await fs.writeFile(p('f'), 'x');
        await fs.mkdir(p('d'));
        await fs.chmod(p('f'), 0o600);
        await fs.chmod(p('d'), 0o2750);
        expect((await fs.stat(p('f'))).mode).toBe(0o600);
        expect((await fs.stat(p('d'))).mode).toBe(0o2750);
        await fs.chmod(p('f'), 0o4755);
        expect((await fs.stat(p('f'))).mode).toBe(0o4755);
        await fs.mkdir(p('sticky'), { mode: 0o1777 });
        expect((await fs.stat(p('sticky'))).mode).toBe(0o1777);
      });

      test('chmod moves ctime forward, never back, and leaves the content alone', async () => {
        await fs.writeFile(p('f'), 'x');
        const before = await fs.stat(p('f'));
        await fs.chmod(p('f'), 0o640);
        const after = await fs.stat(p('f'));
        expect(after.ctime.getTime()).toBeGreaterThanOrEqual(before.ctime.getTime());
        expect(after.size).toBe(1);
      });

      test('chown sets the owner and group', async () => {
        await fs.writeFile(p('f'), 'x');
        await fs.chown(p('f'), 4321, 8765);
        expect(await fs.stat(p('f'))).toMatchObject({ uid: 4321, gid: 8765 });
      });

      test('chmod and chown of a missing path fail with NOENT', async () => {
        await rejectsWithStatus(fs.chmod(p('missing'), 0o600), 'NOENT');
        await rejectsWithStatus(fs.chown(p('missing'), 1, 1), 'NOENT');
      });

      test('symlink stores its target as given, even one that does not exist', async () => {
        await fs.symlink('no/such/target', p('dangling'));
        await fs.symlink('/absolute/path', p('abs'));
        expect(await fs.readlink(p('dangling'))).toBe('no/such/target');
        expect(await fs.readlink(p('abs'))).toBe('/absolute/path');
      });

      test('symlink onto an existing name fails with EXIST', async () => {
        await fs.writeFile(p('f'), 'x');
        await fs.mkdir(p('d'));
        await rejectsWithStatus(fs.symlink('target', p('f')), 'EXIST');
        await rejectsWithStatus(fs.symlink('target', p('d')), 'EXIST');
        expect((await fs.stat(p('f'))).type).toBe('file');
      });

      test('readlink of a file or a directory fails with INVAL, of a missing path with NOENT', async () => {
        await fs.writeFile(p('f'), 'x');
        await fs.mkdir(p('d'));
        await rejectsWithStatus(fs.readlink(p('f')), 'INVAL');
        await rejectsWithStatus(fs.readlink(p('d')), 'INVAL');
        await rejectsWithStatus(fs.readlink(p('missing')), 'NOENT');
      });
    });

    describe('usage and statfs', () => {
      test('usage counts the files and directories below a directory, not the directory itself', async () => {
        expect(await fs.usage(subject.dir)).toMatchObject({ files: 0, directories: 0, apparentBytes: 0 });
        await fs.mkdirp(p('a/b'));
        await fs.writeFile(p('one'), Buffer.alloc(1000, 1));
        await fs.writeFile(p('a/b/two'), Buffer.alloc(234, 2));
        await fs.symlink('one', p('a/link'));
        const u = await fs.usage(subject.dir);
        expect(u).toMatchObject({ files: 3, directories: 2 });
        // A symlink counts as a file whose size is its target's length.
        expect(u.apparentBytes).toBe(1000 + 234 + 'one'.length);
        expect(u.bytes).toBeGreaterThanOrEqual(0);
      });

      test('usage of a file counts that one file', async () => {
        await fs.writeFile(p('f'), Buffer.alloc(4321, 1));
        expect(await fs.usage(p('f'))).toMatchObject({ files: 1, directories: 0, apparentBytes: 4321 });
      });

      test('usage of a missing path fails with NOENT', async () => {
        await rejectsWithStatus(fs.usage(p('missing')), 'NOENT');
      });

      test('statfs reports consistent totals', async () => {
        const s = await fs.statfs();
        expect(s.totalBytes).toBeGreaterThan(0);
        expect(s.freeBytes).toBeLessThanOrEqual(s.totalBytes);
        expect(s.availableBytes).toBeLessThanOrEqual(s.freeBytes);
        expect(s.freeFiles).toBeLessThanOrEqual(s.totalFiles);
        expect(await fs.statfs(subject.dir)).toMatchObject({ totalBytes: s.totalBytes });
      });
    });

    describe('streams', () => {
      test('a write stream writes what was piped into it; a read stream reads it back', async () => {
        const data = binary(2 * 1024 * 1024 + 17);
        const chunks = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) =>
          data.subarray(i * 65536, (i + 1) * 65536),
        );
        await pipeline(Readable.from(chunks), fs.createWriteStream(p('s')));
        expect((await fs.stat(p('s'))).size).toBe(data.length);
        expect((await buffer(fs.createReadStream(p('s')))).equals(data)).toBe(true);
      });

      test('a write stream creates its file with the mode and owner asked for', async () => {
        await pipeline(
          Readable.from([Buffer.from('x')]),
          fs.createWriteStream(p('s'), { mode: 0o600, uid: 70, gid: 80 }),
        );
        expect(await fs.stat(p('s'))).toMatchObject({ mode: 0o600, uid: 70, gid: 80, size: 1 });
        await pipeline(Readable.from([Buffer.from('y')]), fs.createWriteStream(p('d')));
        expect((await fs.stat(p('d'))).mode).toBe(0o644);
      });

      test('a write stream over an existing file replaces its content', async () => {
        await fs.writeFile(p('s'), 'a much longer old content');
        await pipeline(Readable.from([Buffer.from('new')]), fs.createWriteStream(p('s')));
        expect((await fs.readFile(p('s'))).toString()).toBe('new');
      });

      test('a read stream of a missing file errors with NOENT', async () => {
        await rejectsWithStatus(buffer(fs.createReadStream(p('missing'))), 'NOENT');
      });
    });

    // A test rather than a check at collection: nested describes register their cases later.
    it('every known difference names a case of the contract', () => {
      expect(Object.keys(known).filter((t) => !titles.has(t))).toEqual([]);
    });
  });
}
