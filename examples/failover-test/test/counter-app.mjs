// The application under test: a counter that adds one to /data/count every half second and says
// where it started. Its image is made offline from Debian's busybox-static (no registry needed)
// and handed to the Docker hosts as a `docker save` tarball.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const APP_IMAGE = 'nfsvol-example/counter:1';

const COUNTER = `#!/bin/sh
n=$(cat /data/count 2>/dev/null || echo 0)
echo "starting at $n"
while true; do
  n=$((n + 1))
  echo "$n" > /data/count.tmp && mv /data/count.tmp /data/count
  sleep 0.5
done
`;

/** Builds the app image on this machine's dockerd and saves it; returns the tarball's path. */
export async function buildCounterImage() {
  const dir = await mkdtemp(join(tmpdir(), 'counter-app-'));
  const root = join(dir, 'rootfs');
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'data'));
  await copyFile('/bin/busybox', join(root, 'bin', 'busybox'));
  for (const tool of ['sh', 'cat', 'echo', 'mv', 'sleep']) await symlink('busybox', join(root, 'bin', tool));
  await writeFile(join(root, 'counter.sh'), COUNTER, { mode: 0o755 });
  const rootTar = join(dir, 'rootfs.tar');
  await run('tar', ['-C', root, '-cf', rootTar, '.']);
  await run('docker', ['import', '--change', 'ENTRYPOINT ["/bin/sh", "/counter.sh"]', rootTar, APP_IMAGE]);
  const saved = join(dir, 'counter-image.tar');
  await run('docker', ['save', '-o', saved, APP_IMAGE]);
  await run('docker', ['rmi', APP_IMAGE]);
  return { tarball: saved, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Polls `probe` every 500 ms until it returns a value, for at most `ms`. */
export async function eventually(what, probe, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await delay(500);
  }
}

/** The count the app last wrote, as the container on `host` reads it; undefined if none yet. */
export async function readCount(host) {
  const r = await host.docker(['exec', 'counter', 'cat', '/data/count']);
  const n = Number(r.stdout.trim());
  return r.code === 0 && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Starts the app on `host` with the nfsvol volume `counter` as /data. */
export async function startApp(host) {
  const r = await host.docker([
    'run',
    '-d',
    '--name',
    'counter',
    '--network',
    'none',
    '-v',
    'counter:/data',
    APP_IMAGE,
  ]);
  if (r.code !== 0) throw new Error(`docker run on ${host.name}: ${r.stderr}`);
}
