/**
 * What the lab benchmarks share: the real CLI as users run it (bundled once, as `npm run build`
 * makes the package's `bin`, so no TypeScript loader is timed), its peak RSS, and the OpenSSH client
 * a user's baseline script calls.
 */
import { labHostAddArgs } from '../test/support/lab-host.js';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LabHost } from '../deploy/lab/index.js';
import { cliVariants } from './_cli.js';

const run = promisify(execFile);

export const argNumber = (name: string, def: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};

export const benchArgs = (): string => {
  const rest = process.argv.slice(2);
  return rest.length ? ` ${rest.join(' ')}` : '';
};

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of the process, seconds. */
  readonly seconds: number;
  /** Peak resident set size of the CLI process (GNU time %M), KiB. */
  readonly maxRssKiB: number;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  /** Arguments for node itself, before the CLI's script. */
  readonly nodeArgs?: readonly string[];
}

export interface BenchUser {
  readonly home: string;
  /** The CLI's config file under `home` (where `init` writes it). */
  readonly config: string;
  run(args: readonly string[], opts?: RunOptions): Promise<CliRun>;
}

/** Builds this tree's CLI as `npm run build:cli` does, once, to a temporary directory; returns the bundle. */
export async function buildCli(): Promise<string> {
  return (await cliVariants())[0]!.main;
}

/**
 * A user with its own HOME and config, running a compiled CLI (`main`, this tree's by default)
 * under GNU time.
 */
export async function benchUser(main?: string): Promise<BenchUser> {
  if (!existsSync('/usr/bin/time')) {
    throw new Error('the benchmarks measure peak RSS with GNU time: apt-get install -y time');
  }
  const bundle = main ?? (await buildCli());
  const home = await mkdtemp(join(tmpdir(), 'nfsvol-bench-user-'));
  const timeFile = join(home, 'time.txt');
  return {
    home,
    config: join(home, '.config', 'nfsvol', 'config.json'),
    run: (args, opts = {}) =>
      new Promise((resolve, reject) => {
        const t0 = performance.now();
        const child = spawn(
          '/usr/bin/time',
          ['-f', '%M', '-o', timeFile, process.execPath, ...(opts.nodeArgs ?? []), bundle, ...args],
          {
            env: { ...process.env, HOME: home, NFSVOL_CONFIG: '', SSH_AUTH_SOCK: '' },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          const seconds = (performance.now() - t0) / 1000;
          void readFile(timeFile, 'utf8').then(
            (t) =>
              resolve({
                code: code ?? -1,
                stdout: Buffer.concat(out).toString(),
                stderr: Buffer.concat(err).toString(),
                seconds,
                maxRssKiB: Number(t.trim().split('\n').pop()),
              }),
            reject,
          );
        });
      }),
  };
}

/** Runs the CLI and throws with its output unless it exits with `code`. */
export async function cliOk(
  user: BenchUser,
  args: readonly string[],
  code = 0,
  opts: RunOptions = {},
): Promise<CliRun> {
  const r = await user.run(args, opts);
  if (r.code !== code) {
    throw new Error(
      `nfsvol ${args.slice(0, 3).join(' ')}...: exit ${r.code}\n${r.stdout.slice(0, 2000)}\n${r.stderr.slice(0, 2000)}`,
    );
  }
  return r;
}

/** Arguments for `nfsvol host add` of a lab host, its key pinned from a known_hosts file. */
export function hostAddArgs(user: BenchUser, name: string, h: LabHost): Promise<string[]> {
  return labHostAddArgs(user.home, name, h);
}

/**
 * The OpenSSH client as a user's script calls it: one `ssh host CMD` process per command, strict
 * host-key checking against the lab's known_hosts line. `command` is one shell string, as a user
 * would write it. With `control`, the processes share one connection (ControlMaster=auto,
 * ControlPersist=60) as a user's ~/.ssh/config can make them; `closeControl` ends it.
 */
export async function sshCommand(
  h: LabHost,
  command: string,
  opts: { control?: boolean } = {},
): Promise<string> {
  const { stdout } = await run('ssh', [...(await sshArgs(h, opts.control ?? false)), command], {
    maxBuffer: 64 * 2 ** 20,
  });
  return stdout;
}

/** Ends the shared connection `sshCommand(h, ..., { control: true })` opened, if any. */
export async function closeControl(h: LabHost): Promise<void> {
  await run('ssh', [...(await sshArgs(h, true)).slice(0, -1), '-O', 'exit', `${h.user}@${h.sshHost}`]).catch(
    () => undefined,
  );
}

async function sshArgs(h: LabHost, control: boolean): Promise<string[]> {
  const dir = await sshDir(h);
  return [
    ...['-i', h.privateKeyPath, '-p', String(h.sshPort)],
    ...['-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes'],
    ...['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=30', '-o', 'LogLevel=ERROR'],
    ...(control
      ? ['-o', 'ControlMaster=auto', '-o', `ControlPath=${join(dir, 'cm-%C')}`, '-o', 'ControlPersist=60']
      : []),
    `${h.user}@${h.sshHost}`,
  ];
}

const sshDirs = new Map<LabHost, Promise<string>>();
function sshDir(h: LabHost): Promise<string> {
  let d = sshDirs.get(h);
  if (!d) {
    d = (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'nfsvol-bench-ssh-'));
      await writeFile(join(dir, 'known_hosts'), `${h.knownHostsLine}\n`);
      return dir;
    })();
    sshDirs.set(h, d);
  }
  return d;
}

/** `1-min 5-min 15-min` load averages, for the section. */
export const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

export const names = (prefix: string, n: number, from = 0): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(from + i).padStart(5, '0')}`);

/** Samples as `{key: [s, s, ...]}` rounded to ms, for the section's detail line. */
export const samplesJson = (s: Record<string, number[]>): string =>
  JSON.stringify(Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.map((x) => +x.toFixed(3))])));
