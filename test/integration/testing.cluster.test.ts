// nfsvol/testing as a user's suite uses it: a cluster of two real Docker hosts on a real NFS
// server, a volume created with the CLI, a counter that survives the loss of its host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLabResources, startCluster, type StartedCluster } from '../../deploy/testing/index.js';

const COUNTER = [
  'sh',
  '-c',
  'n=$(cat /data/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/count; sync; echo $n',
];

describe('nfsvol/testing startCluster', () => {
  let lab: StartedCluster;
  beforeAll(async () => {
    lab = await startCluster({ hosts: 2, nfsVersion: '4.1' });
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('registers every host with the cluster and the CLI sees the same cluster', async () => {
    const names = (await lab.cluster.listHosts()).map((h) => h.name).sort();
    expect(names).toEqual(lab.hosts.map((h) => h.name).sort());
    const ls = await lab.cli(['host', 'ls', '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    for (const h of lab.hosts) expect(ls.stdout).toContain(h.name);
  });

  it('a counter on host 1 continues on host 2 after host 1 loses power', async () => {
    const created = await lab.cli(['volume', 'create', 'counter']);
    expect(created.code, created.stderr).toBe(0);
    const [h1, h2] = lab.hosts;
    if (h1 === undefined || h2 === undefined) throw new Error('two hosts expected');
    const runOn = async (host: typeof h1): Promise<string> => {
      const r = await host.docker([
        'run',
        '--rm',
        '--network',
        'none',
        '-v',
        'counter:/data',
        'busybox',
        ...COUNTER,
      ]);
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    expect(await runOn(h1)).toBe('1');
    expect(await runOn(h1)).toBe('2');
    await h1.powerOff();
    expect(h1.running).toBe(false);
    expect(await runOn(h2)).toBe('3');
  });

  it('leaves nothing of its own running after stop', async () => {
    const ids = [lab.nfs.getId()];
    await lab.stop();
    const left = await listLabResources();
    for (const id of ids) expect(left.containerIds.some((c) => id.startsWith(c))).toBe(false);
    for (const h of lab.hosts) expect(h.running).toBe(false);
  });
});
