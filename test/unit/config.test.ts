import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigNotFoundError, loadConfig, resolveConfigPath, saveConfig } from '../../driver/core/config.js';
import { CorruptRecordError, NewerSchemaError } from '../../driver/core/registry/errors.js';

describe('config', () => {
  it('resolves --config, then $NFSVOL_CONFIG, then XDG, then ~/.config', () => {
    expect(resolveConfigPath({ flag: '/a.json', env: { NFSVOL_CONFIG: '/b.json' } })).toBe('/a.json');
    expect(resolveConfigPath({ env: { NFSVOL_CONFIG: '/b.json' } })).toBe('/b.json');
    expect(resolveConfigPath({ env: { XDG_CONFIG_HOME: '/x' } })).toBe('/x/nfsvol/config.json');
    expect(resolveConfigPath({ env: {}, home: '/home/u' })).toBe('/home/u/.config/nfsvol/config.json');
  });

  it('round-trips and writes 0600 atomically', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-cfg-'));
    const file = join(dir, 'deep', 'config.json');
    await expect(loadConfig(file)).rejects.toBeInstanceOf(ConfigNotFoundError);
    await saveConfig(file, { schema: 1, url: 'nfs://h/export', clusterId: 'c1' });
    expect(await loadConfig(file)).toEqual({ schema: 1, url: 'nfs://h/export', clusterId: 'c1' });
    const hosts = { web1: { identity: '/k/id', knownHosts: '/k/kh' }, web2: {} };
    await saveConfig(file, { schema: 1, url: 'nfs://h/export', clusterId: 'c1', hosts });
    expect((await loadConfig(file)).hosts).toEqual(hosts);
  });

  it.each([
    ['{oops', CorruptRecordError],
    ['[]', CorruptRecordError],
    ['{"schema":1,"url":"http://x","clusterId":"c"}', CorruptRecordError],
    ['{"schema":"1","url":"nfs://h/e","clusterId":"c"}', CorruptRecordError],
    ['{"schema":7,"url":"nfs://h/e","clusterId":"c"}', NewerSchemaError],
    ['{"schema":1,"url":"nfs://h/e","clusterId":"c","hosts":[]}', CorruptRecordError],
    [
      '{"schema":1,"url":"nfs://h/e","clusterId":"c","hosts":{"h":{"identity":"rel/key"}}}',
      CorruptRecordError,
    ],
    ['{"schema":1,"url":"nfs://h/e","clusterId":"c","hosts":{"h":{"knownHosts":7}}}', CorruptRecordError],
  ])('%s: typed error naming the file, never overwritten', async (content, type) => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-cfg-'));
    const file = join(dir, 'config.json');
    await writeFile(file, content);
    const err = await loadConfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toContain(file);
    await expect(saveConfig(file, { schema: 1, url: 'nfs://h/e', clusterId: 'c' })).rejects.toBeInstanceOf(
      type,
    );
    expect(await readFile(file, 'utf8')).toBe(content);
  });
});
