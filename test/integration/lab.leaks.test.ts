// Nothing of the lab outlives its owner: after stop()/dispose, and after the owning process is
// killed (SIGINT, SIGTERM, or SIGKILL, which no handler can catch), no qemu and no container remain.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import {
  buildImages,
  labCacheDir,
  LabSession,
  listLabResources,
  pollUntil,
  startHosts,
  startNfsServer,
} from '../../deploy/lab/index.js';

const childScript = join(import.meta.dirname, 'lab', 'leak-child.ts');

/** Starts leak-child.ts and resolves with the session it printed. */
async function startChild(signalTarget: { pid?: number }): Promise<{ id: string; dir: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, '--host'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  signalTarget.pid = child.pid;
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    if (line.startsWith('{')) return JSON.parse(line) as { id: string; dir: string };
  }
  throw new Error('leak-child exited before printing its session');
}

describe('lab: nothing leaks', () => {
  it('stop() and dispose leave no qemu and no container', async () => {
    const session = await LabSession.current();
    {
      await using server = await startNfsServer();
      const [host] = await startHosts(1);
      await using _host = host;
      const during = await listLabResources(session.id);
      expect(during.qemuPids.length).toBeGreaterThanOrEqual(1);
      expect(during.containerIds.some((id) => server.containerId.startsWith(id))).toBe(true);
    }
    expect(await listLabResources(session.id)).toEqual({ qemuPids: [], containerIds: [] });
  });

  it.each(['SIGKILL', 'SIGTERM', 'SIGINT'] as const)(
    'a test process killed with %s leaves no qemu, no container and no state',
    async (signal) => {
      const target: { pid?: number } = {};
      const { id, dir } = await startChild(target);
      const before = await listLabResources(id);
      expect(before.qemuPids).toHaveLength(1);
      expect(before.containerIds).toHaveLength(1);
      if (target.pid === undefined) throw new Error('no child pid');
      process.kill(target.pid, signal);
      // The reaper notices its pipe closing and cleans up; qemu dies at once (pdeathsig).
      await pollUntil(
        `cleanup of session ${id}`,
        async () => {
          const left = await listLabResources(id);
          return left.qemuPids.length === 0 && left.containerIds.length === 0 && !existsSync(dir)
            ? true
            : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    },
  );

  it('no process keeps the build lock once a build is over (dockerd started by a build must not inherit it)', async () => {
    await buildImages('nfs');
    const lock = join(labCacheDir(), 'build.lock');
    const holders: string[] = [];
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // gone, or not ours to read
      }
      for (const fd of fds) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === lock) holders.push(pid);
        } catch {
          // closed meanwhile
        }
      }
    }
    // Another test file's build may be running right now; it holds the lock only while it builds.
    const lasting = holders.filter((pid) => {
      try {
        return !/build\.sh|flock/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      } catch {
        return false;
      }
    });
    expect(lasting).toEqual([]);
  });
});
