// The CLI as a user runs it: in a real terminal (tmux), in a pipe, with a reader that leaves
// early, and with the shells' completion. Over a fake cluster (test/support/fake-cluster-cli.ts)
// or as the bundle with no cluster: no lab needed. Needs tmux, bash and zsh.
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../support/bundle-cli.js';
import type { CliResult } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FAKE = join(ROOT, 'test', 'support', 'fake-cluster-cli.ts');
const run = promisify(execFile);

/** Runs a bash script (the CLI in a pipeline): the pipeline's exit code and output. */
async function sh(script: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const r = await run('bash', ['-o', 'pipefail', '-c', script], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A tmux server of this test's own, 120x30. */
class Terminal {
  private readonly socket = `nfsvol-test-${process.pid}`;

  async start(command: string): Promise<void> {
    await run('tmux', ['-L', this.socket, 'new-session', '-d', '-s', 't', '-x', '120', '-y', '30', command], {
      cwd: ROOT,
    });
  }

  async keys(...keys: string[]): Promise<void> {
    await run('tmux', ['-L', this.socket, 'send-keys', '-t', 't', ...keys]);
  }

  async screen(): Promise<string> {
    return (await run('tmux', ['-L', this.socket, 'capture-pane', '-p', '-t', 't'])).stdout;
  }

  /** Polls the screen until `pattern` shows (a deadline, not a sleep: most waits end at once). */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      last = await this.screen();
      if (pattern.test(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${pattern} on screen:\n${last}`);
  }

  async stop(): Promise<void> {
    await run('tmux', ['-L', this.socket, 'kill-server']).catch(() => undefined);
  }
}

describe('nfsvol in a terminal and in a pipe', () => {
  let names = '';
  const terminal = new Terminal();

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-term-'));
    names = join(dir, 'names.txt');
    await writeFile(
      names,
      Array.from({ length: 3000 }, (_, i) => `n${String(i).padStart(5, '0')}`).join('\n'),
    );
  });
  afterAll(() => terminal.stop());

  it('a bulk create on a terminal draws a progress bar in place on stderr, then prints its result', async () => {
    await terminal.start(
      `FAKE_MKDIR_MS=40 node --import tsx ${FAKE} volume create --from ${names}; echo "EXIT=$?"; sleep 600`,
    );
    // Part way: the bar with its count, rate and time left.
    const during = await terminal.waitFor(
      /creating \[[=-]+\] +\d+\/3000 volumes \| [\d.]+\/s \| \d+\w* left/,
    );
    const count = Number(/(\d+)\/3000 volumes/.exec(during)?.[1]);
    expect(count).toBeLessThan(3000);
    const after = await terminal.waitFor(/EXIT=\d+/, 240_000);
    expect(after).toContain('EXIT=0');
    // One bar line, redrawn in place, left at its last state; then the result.
    expect(after.match(/nfsvol: creating \[/g)).toHaveLength(1);
    expect(after).toMatch(/nfsvol: creating \[=+\] 3000\/3000 volumes/);
    expect(after).toContain('created 3000 volume(s)');
    expect(after).not.toMatch(/Error|at .*\.js:\d+/);
  }, 300_000);

  it('in a pipe: plain progress lines on stderr, no terminal controls; stdout is the result alone', async () => {
    // execFile gives the command pipes for stdout and stderr.
    const r = await sh(`FAKE_MKDIR_MS=80 node --import tsx ${FAKE} volume create --from ${names}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^created 3000 volume\(s\)\nhost h1: ok, 3000 defined/);
    expect(r.stderr).toMatch(/^nfsvol: created \d+\/3000 volumes \([\d.]+\/s, about \d+\w* left\)$/m);
    expect(r.stderr).toMatch(/^nfsvol: created 3000\/3000 volumes \([\d.]+\/s, in \d+\w*\)$/m);
    expect(r.stdout + r.stderr).not.toContain('\u001b');
    const quiet = await sh(
      `FAKE_MKDIR_MS=10 node --import tsx ${FAKE} volume create --from ${names} --quiet`,
    );
    expect(quiet).toEqual({ code: 0, stdout: '', stderr: '' });
  }, 300_000);

  it('| head: the listing stops quietly when the reader leaves, exit 0', async () => {
    const env = { FAKE_VOLUMES: '4000' };
    for (const args of ['volume ls', 'volume ls -q', 'volume ls --format json', 'volume ls --json']) {
      const r = await sh(`node --import tsx ${FAKE} ${args} | head -1`, env);
      expect(r, args).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout.split('\n'), args).toHaveLength(2);
    }
  }, 300_000);

  describe('shell completion', () => {
    let bin = '';

    beforeAll(async () => {
      const dir = await mkdtemp(join(tmpdir(), 'nfsvol-completion-'));
      const bundle = await bundleCli(dir);
      bin = join(dir, 'bin');
      await mkdir(bin);
      await writeFile(join(bin, 'nfsvol'), `#!/bin/sh\nexec "${process.execPath}" "${bundle}" "$@"\n`);
      await chmod(join(bin, 'nfsvol'), 0o755);
    }, 120_000);

    const env = (): NodeJS.ProcessEnv => ({ PATH: `${bin}:${process.env['PATH'] ?? ''}` });

    it('bash: the script completes commands, subcommands, options and choices', async () => {
      const complete = async (...words: string[]): Promise<string[]> => {
        const r = await sh(
          `eval "$(nfsvol completion bash)"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _nfsvol_completions; printf '%s\\n' "\${COMPREPLY[@]}"`,
          env(),
        );
        expect(r.stderr).toBe('');
        return r.stdout.split('\n').filter(Boolean);
      };
      expect(await complete('nfsvol', 'vo')).toEqual(['volume']);
      expect(await complete('nfsvol', 'volume', '')).toEqual([
        'create',
        'ls',
        'inspect',
        'rm',
        'update',
        'mount',
        'unmount',
      ]);
      expect(await complete('nfsvol', 'volume', 'ls', '--fo')).toEqual(['--format']);
      expect(await complete('nfsvol', 'volume', 'create', 'x', '--on-delete', '')).toEqual([
        'retain',
        'delete',
        'archive',
      ]);
      expect(await complete('nfsvol', 'completion', '')).toEqual(expect.arrayContaining(['bash', 'zsh']));
    }, 120_000);

    it('bash and zsh, typed in a terminal: Tab completes', async () => {
      await terminal.stop();
      await terminal.start(`env PATH=${env()['PATH']} bash --norc --noprofile`);
      await terminal.keys('eval "$(nfsvol completion bash)"; clear', 'Enter');
      await terminal.keys('nfsvol vol', 'Tab', 'l', 'Tab');
      await terminal.waitFor(/nfsvol volume ls\s*$/m, 30_000);
      await terminal.stop();

      await terminal.start(`env PATH=${env()['PATH']} ZDOTDIR=/nonexistent zsh -f`);
      await terminal.keys(
        'autoload -U compinit && compinit -u && eval "$(nfsvol completion zsh)"; clear',
        'Enter',
      );
      await terminal.keys('nfsvol volume ins', 'Tab');
      await terminal.waitFor(/nfsvol volume inspect\s*$/m, 30_000);
      await terminal.stop();
    }, 120_000);
  });
});
