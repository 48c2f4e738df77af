// NfsServerContainer as a user's suite holds it: versions, the export directory and squashing,
// seen through nfsvol's own NFS client and the files on this machine.
import { chmod, mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectNfs } from '../../driver/index.js';
import { listLabResources, NfsServerContainer } from '../../deploy/testing/index.js';

describe('NfsServerContainer', () => {
  it('exports the given directory, root not squashed by default, and is gone after await using', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-export-'));
    let id: string;
    {
      await using nfs = await new NfsServerContainer().withExport(dir).start();
      id = nfs.getId();
      expect(nfs.versions).toEqual([3, 4.1]);
      for (const version of [3, 4.1] as const) {
        const fs = await connectNfs(nfs.getUrl(version));
        await fs.writeFile(`/v${version}`, 'hello');
        await fs.close();
        const st = await stat(join(dir, `v${version}`));
        expect(st.uid).toBe(0);
      }
    }
    const left = await listLabResources();
    expect(left.containerIds.some((c) => id.startsWith(c))).toBe(false);
  });

  it('withSquash("all") maps every user to the anonymous ids; withVersions(4.1) has no v3', async () => {
    // Squashed, root may create only where anyone may: the export's root is its directory's mode.
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-export-'));
    await chmod(dir, 0o777);
    await using nfs = await new NfsServerContainer()
      .withExport(dir)
      .withVersions(4.1)
      .withSquash('all', { anonUid: 1234, anonGid: 4321 })
      .start();
    expect(() => nfs.getUrl(3)).toThrow(/4\.1 only/);
    expect(nfs.rpcbindPort).toBe(0);
    const fs = await connectNfs(nfs.getUrl(4.1));
    await fs.writeFile('/squashed', 'x');
    await fs.close();
    const st = await stat(join(dir, 'squashed'));
    expect([st.uid, st.gid]).toEqual([1234, 4321]);
  });
});
