// nfsvol/testing refuses bad options at the builder, naming the option, before anything starts.
import { afterEach, describe, expect, it } from 'vitest';
import { labCacheDir } from '../../../deploy/lab/index.js';
import { NfsServerContainer, startDockerHosts, startCluster } from '../../../deploy/testing/index.js';
import type { NfsServerVersion } from '../../../deploy/testing/index.js';

describe('NfsServerContainer builders', () => {
  it('takes (3, 4.1) or (4.1) and refuses NFSv3 alone or unknown versions', () => {
    expect(() => new NfsServerContainer().withVersions(3, 4.1)).not.toThrow();
    expect(() => new NfsServerContainer().withVersions(4.1)).not.toThrow();
    expect(() => new NfsServerContainer().withVersions(3)).toThrow(/withVersions/);
    expect(() => new NfsServerContainer().withVersions(4 as NfsServerVersion)).toThrow(/3 and 4\.1/);
  });

  it('takes squash modes none, root and all with numeric ids', () => {
    expect(() => new NfsServerContainer().withSquash('root')).not.toThrow();
    expect(() => new NfsServerContainer().withSquash('all', { anonUid: 1000, anonGid: 1000 })).not.toThrow();
    expect(() => new NfsServerContainer().withSquash('some' as 'all')).toThrow(/withSquash: mode/);
    expect(() => new NfsServerContainer().withSquash('all', { anonUid: -1 })).toThrow(/anonUid/);
  });
});

describe('startDockerHosts and startCluster', () => {
  it('refuse a bad host count or NFS version before starting anything', async () => {
    await expect(startDockerHosts(0)).rejects.toThrow(/n must be an integer from 1 to 16/);
    await expect(startCluster({ nfsVersion: '4' as '4.1' })).rejects.toThrow(/nfsVersion/);
  });
});

describe('the image cache', () => {
  const saved = process.env['NFSVOL_LAB_CACHE'];
  afterEach(() => {
    if (saved === undefined) delete process.env['NFSVOL_LAB_CACHE'];
    else process.env['NFSVOL_LAB_CACHE'] = saved;
  });

  it('is $NFSVOL_LAB_CACHE when set, else the checkout’s .lab-cache (never node_modules)', () => {
    process.env['NFSVOL_LAB_CACHE'] = '/tmp/some-cache';
    expect(labCacheDir()).toBe('/tmp/some-cache');
    delete process.env['NFSVOL_LAB_CACHE'];
    expect(labCacheDir()).toMatch(/\.lab-cache$/);
    expect(labCacheDir()).not.toMatch(/node_modules/);
  });
});
