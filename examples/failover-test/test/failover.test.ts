// vitest: the counter runs on host 1, host 1 loses power, the counter is recreated on host 2 and
// continues from the count host 1 had reached, because its volume is on NFS.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startCluster, type StartedCluster } from 'nfsvol/testing';
import { buildCounterImage, eventually, readCount, startApp } from './counter-app.mjs';

let lab: StartedCluster;
let cleanup: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  const image = await buildCounterImage();
  cleanup = image.cleanup;
  lab = await startCluster({ hosts: 2, nfsVersion: '4.1', images: [image.tarball] });
});

afterAll(async () => {
  await lab?.stop();
  await cleanup();
});

test('the counter continues on host 2 after host 1 loses power', async () => {
  const created = await lab.cli(['volume', 'create', 'counter']);
  expect(created.code, created.stderr).toBe(0);
  const [h1, h2] = lab.hosts;
  if (h1 === undefined || h2 === undefined) throw new Error('two hosts expected');

  await startApp(h1);
  const reached = await eventually('host 1 counts to 3', async () => {
    const n = await readCount(h1);
    return n !== undefined && n >= 3 ? n : undefined;
  });

  await h1.powerOff();

  await startApp(h2);
  const after = await eventually('host 2 counts past host 1', async () => {
    const n = await readCount(h2);
    return n !== undefined && n > reached ? n : undefined;
  });
  const logs = await h2.docker(['logs', 'counter']);
  const startedAt = Number(/starting at (\d+)/.exec(logs.stdout)?.[1]);
  // Every count host 1 was seen to reach is on the server, so host 2 starts at or beyond it.
  expect(startedAt).toBeGreaterThanOrEqual(reached);
  expect(after).toBeGreaterThan(reached);
});
