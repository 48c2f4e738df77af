import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from '../../../cli/app.js';
import type { CliIo } from '../../../cli/context.js';
import { FakeDockerHost, fakeOpener } from '../../fakes/fake-host.js';
import { MemoryNfs, sharedView } from '../../fakes/memory-nfs.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** What a test may add to the CLI's io: a terminal, a clock, a closed stdout, an environment. */
export type IoExtras = Partial<Pick<CliIo, 'stderrTty' | 'clock' | 'stdoutClosed' | 'env'>> & {
  /** Called with each chunk written to stdout, as it is written. */
  readonly onStdout?: (text: string) => void;
};

export interface Cli {
  readonly fs: MemoryNfs;
  readonly hosts: Map<string, FakeDockerHost>;
  readonly dir: string;
  readonly config: string;
  readonly cli: (...args: string[]) => Promise<Run>;
  readonly cliWith: (extras: IoExtras, ...args: string[]) => Promise<Run>;
  /** Calls to the export so far: a command refused up front must not add any. */
  readonly nfsCalls: () => number;
}

/** The CLI in-process over an in-memory export and two fake Docker hosts, initialised. */
export async function initialisedCli(): Promise<Cli> {
  const dir = await mkdtemp(join(tmpdir(), 'nfsvol-cli-'));
  const fs = new MemoryNfs();
  const hosts = new Map<string, FakeDockerHost>();
  for (const port of [2201, 2202]) hosts.set(`127.0.0.1:${port}`, new FakeDockerHost(`127.0.0.1:${port}`));
  const config = join(dir, 'config.json');
  const cliWith = async (extras: IoExtras, ...args: string[]): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    const { onStdout, env, ...io } = extras;
    const code = await runCli(args, {
      io: {
        stdout: (t) => {
          stdout += t;
          onStdout?.(t);
        },
        stderr: (t) => (stderr += t),
        env: { NFSVOL_CONFIG: config, ...env },
        ...io,
      },
      cluster: { connectNfs: async () => sharedView(fs), openHost: fakeOpener(hosts) },
    });
    return { code, stdout, stderr };
  };
  const cli = (...args: string[]): Promise<Run> => cliWith({}, ...args);
  expect((await cli('init', 'nfs://127.0.0.1:2049/export', '--nfs-version', '3', '-q')).code).toBe(0);
  for (const [i, port] of [2201, 2202].entries()) {
    const r = await cli(
      'host',
      'add',
      `h${i + 1}`,
      '--ssh',
      `root@127.0.0.1:${port}`,
      '--known-hosts',
      join(dir, 'known_hosts'),
      '--accept-new-host-key',
      '--quiet',
    );
    expect(r).toMatchObject({ code: 0, stderr: '' });
  }
  const nfsCalls = (): number => [...fs.calls.values()].reduce((a, b) => a + b, 0);
  return { fs, hosts, dir, config, cli, cliWith, nfsCalls };
}
