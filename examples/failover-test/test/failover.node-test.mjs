// The same failover test with node:test, to show nfsvol/testing is tied to no test runner.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCluster } from 'nfsvol/testing';
import { buildCounterImage, eventually, readCount, startApp } from './counter-app.mjs';

let lab;
let cleanup = async () => undefined;

before(async () => {
  const image = await buildCounterImage();
  cleanup = image.cleanup;
  lab = await startCluster({ hosts: 2, nfsVersion: '4.1', images: [image.tarball] });
});

after(async () => {
  await lab?.stop();
  await cleanup();
});

test('the counter continues on host 2 after host 1 loses power', async () => {
  const created = await lab.cli(['volume', 'create', 'counter']);
  assert.equal(created.code, 0, created.stderr);
  const [h1, h2] = lab.hosts;

  await startApp(h1);
  const reached = await eventually('host 1 counts to 3', async () => {
    const n = await readCount(h1);
    return n !== undefined && n >= 3 ? n : undefined;
  });

  await h1.powerOff();

  await startApp(h2);
  const afterFailover = await eventually('host 2 counts past host 1', async () => {
    const n = await readCount(h2);
    return n !== undefined && n > reached ? n : undefined;
  });
  const logs = await h2.docker(['logs', 'counter']);
  const startedAt = Number(/starting at (\d+)/.exec(logs.stdout)?.[1]);
  assert.ok(startedAt >= reached, `host 2 started at ${startedAt}, host 1 had reached ${reached}`);
  assert.ok(afterFailover > reached);
});
