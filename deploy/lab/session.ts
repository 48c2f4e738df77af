// Lab sessions: every qemu process and container the lab starts belongs to one session, whose
// state lives in <cache>/run/<id>/ and whose containers carry the label nfsvol.lab.session=<id>.
//
// Nothing leaks, by three layers:
//  1. stop()/dispose of each resource, and a process 'exit' hook that SIGKILLs our qemu children;
//  2. qemu runs under `setpriv --pdeathsig KILL`, so it dies with the process that started it;
//  3. a detached reaper (reap.sh --wait-eof) holds a pipe from this process and cleans the session
//     (qemu, containers, state) as soon as the process is gone, however it ended, SIGKILL included.
// Sessions whose owner is gone are also reaped at the next start and by `lab:down`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { labCacheDir, labDir, run } from './util.js';

export const SESSION_LABEL = 'nfsvol.lab.session';
export const ROLE_LABEL = 'nfsvol.lab.role';

interface SessionFile {
  readonly id: string;
  readonly ownerPid: number;
  /** /proc/<pid>/stat start time, so a recycled pid is not taken for the owner. */
  readonly ownerStart: string;
  /** Kept running after the owner exits (lab:up); reaped only by lab:down. */
  readonly persistent: boolean;
  readonly createdAt: string;
}

function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the parenthesised command name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

export function runDir(): string {
  return join(labCacheDir(), 'run');
}

export class LabSession {
  private static forThisProcess: Promise<LabSession> | undefined;
  private readonly children = new Set<ChildProcess>();
  private readonly counters = new Map<string, number>();

  private constructor(
    readonly id: string,
    readonly dir: string,
    readonly persistent: boolean,
  ) {}

  /** The session of this process: created on first use, reaped when the process ends. */
  static current(): Promise<LabSession> {
    if (LabSession.forThisProcess === undefined) {
      const created = LabSession.create(`p${process.pid}-${randomBytes(3).toString('hex')}`, false);
      LabSession.forThisProcess = created;
      // A failed start (docker down, say) is not remembered: the next call tries again.
      created.catch(() => {
        if (LabSession.forThisProcess === created) LabSession.forThisProcess = undefined;
      });
    }
    return LabSession.forThisProcess;
  }

  /** A session that outlives this process (lab:up), reaped only by reapSessionDirs (lab:down). */
  static async persistentSession(id: string): Promise<LabSession> {
    return LabSession.create(id, true);
  }

  private static async create(id: string, persistent: boolean): Promise<LabSession> {
    await reapOrphans();
    const dir = join(runDir(), id);
    await mkdir(join(dir, 'hosts'), { recursive: true });
    const info: SessionFile = {
      id,
      ownerPid: process.pid,
      ownerStart: processStart(process.pid) ?? '',
      persistent,
      createdAt: new Date().toISOString(),
    };
    await writeFile(join(dir, 'session.json'), `${JSON.stringify(info, null, 2)}\n`);
    const session = new LabSession(id, dir, persistent);
    if (!persistent) session.armReaper();
    return session;
  }

  private armReaper(): void {
    const reaper = spawn('bash', [join(labDir, 'reap.sh'), '--wait-eof', this.dir], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    reaper.on('error', () => undefined);
    reaper.unref();
    // The pipe must not keep this process alive; it closes when the process ends.
    reaper.stdin?.on('error', () => undefined);
    (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    process.once('exit', () => {
      for (const child of this.children) child.kill('SIGKILL');
    });
  }

  /** Labels for containers of this session (reaped by label). */
  labels(role: string): Record<string, string> {
    return { [SESSION_LABEL]: this.id, [ROLE_LABEL]: role, 'nfsvol.lab.owner-pid': String(process.pid) };
  }

  /** A unique name within this session ("nfs1", "lab2", ...). */
  nextName(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}${n}`;
  }

  /** Remembers a child process so the exit hook can SIGKILL it. */
  track(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }
}

async function readSession(dir: string): Promise<SessionFile | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'session.json'), 'utf8')) as SessionFile;
  } catch {
    return undefined;
  }
}

function ownerAlive(info: SessionFile): boolean {
  return info.ownerStart !== '' && processStart(info.ownerPid) === info.ownerStart;
}

/** Kills the session's qemu processes, removes its containers and deletes its state directory. */
export async function reapSessionDirs(dirs: readonly string[]): Promise<void> {
  if (dirs.length === 0) return;
  await run(['bash', join(labDir, 'reap.sh'), ...dirs.map((d) => resolve(d))], { timeoutMs: 120_000 });
}

/**
 * Reaps sessions whose owner process is gone (and that are not persistent), plus containers
 * labelled with a session that no longer has a state directory. Returns the reaped session ids.
 */
export async function reapOrphans(opts: { readonly includePersistent?: boolean } = {}): Promise<string[]> {
  const base = runDir();
  const reaped: string[] = [];
  const dirs: string[] = [];
  const entries = existsSync(base) ? await readdir(base) : [];
  for (const id of entries) {
    const dir = join(base, id);
    const info = await readSession(dir);
    if (info !== undefined && ownerAlive(info) && !info.persistent) continue;
    if (info?.persistent === true && opts.includePersistent !== true) continue;
    dirs.push(dir);
    reaped.push(id);
  }
  await reapSessionDirs(dirs);
  // Containers whose session dir is gone (e.g. the cache dir was deleted) and owner is dead.
  const known = new Set(existsSync(base) ? await readdir(base) : []);
  const { stdout } = await run([
    'docker',
    'ps',
    '-a',
    '--filter',
    `label=${SESSION_LABEL}`,
    '--format',
    `{{.ID}} {{.Label "${SESSION_LABEL}"}} {{.Label "nfsvol.lab.owner-pid"}}`,
  ]).catch(() => ({ stdout: '' }));
  const stale: string[] = [];
  for (const line of stdout.split('\n')) {
    const [containerId, session, ownerPid] = line.trim().split(' ');
    if (containerId === undefined || containerId === '' || session === undefined || known.has(session))
      continue;
    const pid = Number(ownerPid);
    if (Number.isInteger(pid) && pid > 0 && processStart(pid) !== undefined && pid !== process.pid) continue;
    stale.push(containerId);
    reaped.push(session);
  }
  if (stale.length > 0) await run(['docker', 'rm', '-f', '-v', ...stale]).catch(() => undefined);
  return [...new Set(reaped)];
}

export interface LabResources {
  /** qemu processes whose command line names the session's state directory. */
  readonly qemuPids: readonly number[];
  /** Containers (running or not) labelled with the session. */
  readonly containerIds: readonly string[];
}

/** What of a session (or of every lab session, when id is omitted) is still there. */
export async function listLabResources(sessionId?: string): Promise<LabResources> {
  const needle = join(runDir(), sessionId ?? '') + (sessionId === undefined ? '' : '/');
  const qemuPids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    const argv0 = cmdline.split('\0')[0] ?? '';
    if (argv0.includes('qemu-system') && cmdline.includes(needle)) qemuPids.push(Number(entry));
  }
  const filter = sessionId === undefined ? SESSION_LABEL : `${SESSION_LABEL}=${sessionId}`;
  const { stdout } = await run(['docker', 'ps', '-aq', '--filter', `label=${filter}`]);
  const containerIds = stdout.split('\n').filter((line) => line.trim() !== '');
  return { qemuPids, containerIds };
}
