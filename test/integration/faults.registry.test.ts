// A config file or a registry record that is corrupt or from a newer schema is
// a clear error naming the file, and nothing overwrites it (bytes compared before and after).
// The real CLI process against the lab's ganesha; bad records are written over NFS (never behind
// ganesha's back). test/unit/registry and test/unit/cli cover the same in-process with fakes.
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NfsClient } from '../../driver/nfs/index.js';
import { startNfsServer, type NfsServer } from '../../deploy/lab/index.js';
import { cliUser, expectCode, type CliUser } from '../support/cli.js';

describe('faults: corrupt and newer-schema state', () => {
  let server: NfsServer;
  let user: CliUser;
  let nfs: NfsClient;

  beforeAll(async () => {
    server = await startNfsServer();
    user = await cliUser();
    expectCode(await user.run(['init', server.url(3)]), 0, 'init');
    expectCode(await user.run(['volume', 'create', 'good', '-q']), 0, 'create good');
    nfs = await NfsClient.connect(server.url(3));
  });

  afterAll(async () => {
    await nfs?.close();
    await server?.stop();
  });

  const onExport = (p: string): Promise<Buffer> => readFile(join(server.exportDir, p));
  const volumeDirs = async (): Promise<string[]> =>
    (await readdir(server.exportDir)).filter((n) => !n.startsWith('.')).sort();

  it('fault 6: a corrupt or newer config file is named, and no command (init included) rewrites it', async () => {
    const original = await readFile(user.config);
    const other = await cliUser();
    await mkdir(dirname(other.config), { recursive: true });
    for (const [bytes, code] of [
      ['{"schema": 1, "url": ', 'REGISTRY_CORRUPT'],
      [
        JSON.stringify({ ...(JSON.parse(original.toString()) as object), schema: 99 }),
        'REGISTRY_SCHEMA_NEWER',
      ],
    ] as const) {
      await writeFile(other.config, bytes);
      for (const args of [
        ['volume', 'ls'],
        ['volume', 'create', 'via-bad-config'],
        ['init', server.url(3)],
      ]) {
        const r = await other.run(args);
        expectCode(r, 1, `${args.join(' ')} with a bad config`);
        expect(r.stderr).toBe(`${r.stderr.split('\n')[0]}\n`); // one line
        expect(r.stderr).toContain(other.config);
        expect(r.stderr).toContain(`(${code})`);
        expect((await readFile(other.config)).toString()).toBe(bytes);
      }
    }
    expect(await volumeDirs()).toEqual(['good']);
  });

  it('fault 6: a corrupt volume record is named by ls, create, inspect and rm, and stays byte for byte', async () => {
    const garbage = '{"schema":1,"kind":"volume","name":"bad",\u0000\u00ff truncated';
    await nfs.mkdir('bad');
    await nfs.writeFile('.nfsvol/volumes/bad.json', garbage);
    const before = await onExport('.nfsvol/volumes/bad.json');
    for (const args of [
      ['volume', 'ls'],
      ['volume', 'inspect', 'bad'],
      ['volume', 'create', 'bad'],
      ['volume', 'rm', 'bad'],
    ]) {
      const r = await user.run(args);
      expectCode(r, 1, args.join(' '));
      expect(`${r.stdout}${r.stderr}`).toMatch(/\.nfsvol\/volumes\/bad\.json.*\(REGISTRY_CORRUPT\)/);
      expect(await onExport('.nfsvol/volumes/bad.json')).toEqual(before);
    }
    expect(await volumeDirs()).toEqual(['bad', 'good']);
    // The other volumes are still usable one by one.
    expectCode(await user.run(['volume', 'inspect', 'good']), 0, 'inspect good');
    await nfs.rm('.nfsvol/volumes/bad.json');
  });

  it('fault 6: a record from a newer nfsvol is refused by inspect and rm, and stays byte for byte', async () => {
    const future = JSON.stringify({ schema: 99, kind: 'volume', name: 'future', newField: { x: 1 } });
    await nfs.mkdir('future');
    await nfs.writeFile('future/data', 'kept');
    await nfs.writeFile('.nfsvol/volumes/future.json', future);
    for (const args of [
      ['volume', 'inspect', 'future'],
      ['volume', 'rm', 'future', '--force'],
      ['volume', 'create', 'future'],
    ]) {
      const r = await user.run(args);
      expectCode(r, 1, args.join(' '));
      expect(`${r.stdout}${r.stderr}`).toMatch(/\.nfsvol\/volumes\/future\.json.*\(REGISTRY_SCHEMA_NEWER\)/);
      expect((await onExport('.nfsvol/volumes/future.json')).toString()).toBe(future);
    }
    expect((await onExport('future/data')).toString()).toBe('kept');
    await nfs.rm('.nfsvol/volumes/future.json');
  });

  it('fault 6: a corrupt or newer cluster.json is named, and init does not rewrite it', async () => {
    const original = await onExport('.nfsvol/cluster.json');
    for (const [bytes, code] of [
      ['not json at all', 'REGISTRY_CORRUPT'],
      [
        JSON.stringify({ ...(JSON.parse(original.toString()) as object), schema: 99 }),
        'REGISTRY_SCHEMA_NEWER',
      ],
    ] as const) {
      await nfs.writeFile('.nfsvol/cluster.json', bytes);
      const fresh = await cliUser();
      for (const [who, args] of [
        [user, ['volume', 'ls']],
        [fresh, ['init', server.url(3)]],
      ] as const) {
        const r = await who.run(args);
        expectCode(r, 1, args.join(' '));
        expect(r.stderr).toMatch(new RegExp(`\\.nfsvol/cluster\\.json.*\\(${code}\\)`));
        expect((await onExport('.nfsvol/cluster.json')).toString()).toBe(bytes);
      }
    }
    await nfs.writeFile('.nfsvol/cluster.json', original);
    expectCode(await user.run(['volume', 'ls']), 0, 'ls after repair');
  });
});
