// The soak: the bundled CLI run by several concurrent workers against the lab (nfs-ganesha and
// Docker hosts as microVMs), with faults injected on a seeded plan, then the invariants checked
// against the real export and hosts. `runSoak` is used by `npm run soak` (test/soak/run.ts) and
// by test/integration/soak.test.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  pollUntil,
  startHosts,
  startNfsServer,
  type LabHost,
  type NfsServer,
} from '../../deploy/lab/index.js';
import { bundleCli } from '../support/bundle-cli.js';
import {
  checkInUse,
  checkMounts,
  checkOutcomes,
  checkRemovals,
  checkStuckLocks,
  checkState,
  type CheckCounts,
  type ContainerUse,
  type Violation,
} from './checker.js';
import {
  CANARY,
  readExport,
  readHost,
  stateFromJson,
  stateToJson,
  type FinalState,
  type FinalStateJson,
} from './final-state.js';
import { describeCommand, parseJson, volumeEffects, type CommandRecord } from './history.js';
import { checkLockTrace, type LockTraceResult } from './lock-trace.js';
import { HOST_NAME, planSoak, type OpKind, type PlannedCommand, type SoakPlan } from './schedule.js';

export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

export interface SoakOptions {
  readonly seed: number;
  readonly durationMs: number;
  /** Lab Docker hosts (microVMs). @default 2 */
  readonly hosts?: number;
  /** Concurrent CLI workers. @default 6 */
  readonly workers?: number;
  /** Progress lines. @default stderr */
  readonly log?: (line: string) => void;
  /** Where the history, lock trace and report go. @default a new directory under the OS tmpdir */
  readonly outDir?: string;
}

export interface SoakReport {
  readonly seed: number;
  readonly durationMs: number;
  readonly outDir: string;
  /** Commands run, by kind, and by exit status within each kind. */
  readonly operations: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Faults by kind: injected, and planned ones that found nothing to hit. */
  readonly faults: Readonly<Record<string, { injected: number; missed: number }>>;
  readonly containers: { started: number; stopped: number; skipped: number };
  readonly checks: number;
  readonly undetermined: number;
  readonly lockTrace: LockTraceResult;
  readonly violations: readonly Violation[];
}

/** A command that did not end within this long is killed and reported (liveness). */
const COMMAND_TIMEOUT_MS = 180_000;
const MAX_CONTAINERS_PER_HOST = 3;

/** Runs in a container: makes the canary if the volume has none, then reads it every second. */
const CONTAINER_LOOP =
  `[ -f /data/${CANARY} ] || echo "$0" > /data/${CANARY}; ` +
  `while true; do cat /data/${CANARY} >/dev/null 2>&1 || echo "LOST $(date +%s)"; sleep 1; done`;

/**
 * Runs on a host: start a container over the first of the candidate volumes ($4...) that has this
 * cluster's own definition there (never one Docker would have to make). Prints `STARTED <name>`.
 */
const START_CONTAINER =
  'loop="$1"; cluster="$2"; name="$3"; shift 3; for v in "$@"; do ' +
  'lbl=$(docker volume inspect -f \'{{index .Labels "nfsvol.cluster"}}\' "$v" 2>/dev/null) || continue; ' +
  '[ "$lbl" = "$cluster" ] || continue; ' +
  'docker run -d --name "$name" --network none -v "$v:/data" busybox sh -c "$loop" "$v" >/dev/null && echo "STARTED $v"; exit 0; ' +
  'done; echo NODEF';

/** Starts a detached `docker events` writer on a host, with dockerd's pid first. */
const DOCKER_EVENTS_START =
  'echo "dockerd pid $(pidof dockerd) at $(date +%s)" > /var/log/nfsvol-soak-events.log; ' +
  "nohup docker events --format '{{.Time}} {{.Type}} {{.Action}} {{json .Actor}}' " +
  '>> /var/log/nfsvol-soak-events.log 2>&1 < /dev/null &';

const DOCKER_EVENTS_READ =
  'echo "dockerd pid $(pidof dockerd) at $(date +%s)" >> /var/log/nfsvol-soak-events.log; ' +
  'cat /var/log/nfsvol-soak-events.log';

const STOP_CONTAINER = 'docker logs "$1" 2>&1 | grep "^LOST" | head -n 5; docker rm -f "$1" >/dev/null';

interface Running {
  readonly child: ChildProcess;
  readonly startedMs: number;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!existsSync(LIBFAKETIME)) {
    throw new Error(`libfaketime is missing (${LIBFAKETIME}): apt-get install faketime`);
  }
  const plan = planSoak({
    seed: o.seed,
    durationMs: o.durationMs,
    hosts: o.hosts ?? 2,
    workers: o.workers ?? 6,
  });
  const outDir = o.outDir ?? (await mkdtemp(join(tmpdir(), `nfsvol-soak-${o.seed}-`)));
  await mkdir(outDir, { recursive: true });
  // A directory of its own for the bundle, so an --out that was used before can be used again.
  const binDir = await mkdtemp(join(outDir, 'bin-'));
  log(
    `[soak] seed ${o.seed}: ${plan.workers.length} workers, ${plan.hosts} hosts, ${plan.faults.length} faults planned, output in ${outDir}`,
  );

  const started = await Promise.allSettled([startNfsServer(), bootHosts(plan.hosts, log), bundleCli(binDir)]);
  const [server, hosts, bundle] = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined)) as [
    NfsServer | undefined,
    LabHost[] | undefined,
    string | undefined,
  ];
  if (!server || !hosts || !bundle) {
    await Promise.allSettled([...(hosts ?? []).map((h) => h.stop()), server?.stop()]);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    throw failed?.reason instanceof Error ? failed.reason : new Error(String(failed?.reason));
  }
  try {
    return await new Soak(plan, server, hosts, bundle, outDir, log).run();
  } finally {
    await Promise.allSettled([...hosts.map((h) => h.stop()), server.stop()]);
  }
}

/**
 * Boots the hosts, once more if a boot fails: on a loaded machine an emulated VM's containerd
 * can miss its start-up timeout, which says nothing about nfsvol.
 */
async function bootHosts(n: number, log: (line: string) => void): Promise<LabHost[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      // Emulated VMs on a shared machine can take minutes to boot: the default allows 3.
      return await startHosts(n, { bootTimeoutMs: 480_000 });
    } catch (err) {
      if (attempt >= 2) throw err;
      log(
        `[soak] lab hosts did not boot (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); booting again`,
      );
    }
  }
}

class Soak {
  private readonly history: CommandRecord[] = [];
  private nextId = 1;
  private t0 = 0;
  private stopping = false;
  private readonly running = new Map<number, Running>();
  private readonly armedKills = new Map<number, number>();
  private readonly cut = new Set<number>();
  private readonly containers: (ContainerUse & { stoppedMs?: number; lostLines: string[] })[] = [];
  private readonly containerCounts = { started: 0, stopped: 0, skipped: 0 };
  private readonly faultCounts: Record<string, { injected: number; missed: number }> = {};
  private readonly env: NodeJS.ProcessEnv;
  private readonly trace: string;
  private clusterId = '';

  constructor(
    private readonly plan: SoakPlan,
    private readonly server: NfsServer,
    private readonly hosts: readonly LabHost[],
    private readonly bundle: string,
    private readonly outDir: string,
    private readonly log: (line: string) => void,
  ) {
    this.trace = join(outDir, 'lock-trace.jsonl');
    this.env = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: join(outDir, 'home'),
      NFSVOL_CONFIG: join(outDir, 'config.json'),
      NFSVOL_LOCK_TRACE: this.trace,
      SSH_AUTH_SOCK: '',
    };
  }

  private now(): number {
    return performance.now() - this.t0;
  }

  async run(): Promise<SoakReport> {
    await mkdir(join(this.outDir, 'home'), { recursive: true });
    await writeFile(this.trace, '');
    this.t0 = performance.now();
    await this.setup();
    this.t0 = performance.now();
    this.log(`[soak] running for ${(this.plan.durationMs / 1000).toFixed(0)} s`);
    const end = this.plan.durationMs;
    await Promise.all([
      ...this.plan.workers.map((cmds, w) => this.worker(w, cmds, end)),
      this.faults(end),
      this.containerActor(end),
    ]);
    this.stopping = true;
    this.log(`[soak] workload over at ${(this.now() / 1000).toFixed(1)} s; settling`);
    await this.settle();
    return this.check();
  }

  private async setup(): Promise<void> {
    const init = await this.cli('setup', 'sync', ['init', this.server.url(3), '--nfs-version', '4.1']);
    if (init.exitCode !== 0) throw new Error(`init failed: ${init.stderr}`);
    for (const [i, h] of this.hosts.entries()) {
      const kh = join(this.outDir, `known_hosts-${i}`);
      await writeFile(kh, `${h.knownHostsLine}\n`);
      const add = await this.cli('setup', 'sync', [
        ...['host', 'add', HOST_NAME(i), '--ssh', `${h.user}@${h.sshHost}:${h.sshPort}`],
        ...['--identity', h.privateKeyPath, '--known-hosts', kh, '--nfs-address', h.nfsAddress],
      ]);
      if (add.exitCode !== 0) throw new Error(`host add ${HOST_NAME(i)} failed: ${add.stderr}`);
    }
    // Each host's Docker events, kept in the VM for the whole run: when an invariant breaks,
    // they say what the daemon did (and a restart shows as the log ending and a new pid).
    for (const h of this.hosts) {
      await h
        .exec(['sh', '-c', DOCKER_EVENTS_START], { timeoutMs: 30_000 })
        .catch((err: unknown) => this.log(`[soak] ${h.name}: docker events not kept: ${String(err)}`));
    }
    const config = JSON.parse(await readFile(this.env['NFSVOL_CONFIG']!, 'utf8')) as { clusterId?: string };
    this.clusterId = config.clusterId ?? '';
    // Setup's commands are not part of the history the checker judges.
    this.history.length = 0;
    await writeFile(this.trace, '');
  }

  /** Runs one CLI process to its end (or its kill) and records it. */
  private cli(
    actor: string,
    kind: OpKind,
    args: readonly string[],
    opts: { clockShift?: string; worker?: number; rerunOf?: number } = {},
  ): Promise<CommandRecord> {
    const id = this.nextId++;
    const env: NodeJS.ProcessEnv = { ...this.env };
    if (opts.clockShift) {
      // libfaketime shifts the wall clock only: node's timers run on the monotonic clock.
      env['LD_PRELOAD'] = LIBFAKETIME;
      env['FAKETIME'] = opts.clockShift;
      env['FAKETIME_DONT_FAKE_MONOTONIC'] = '1';
    }
    const startedMs = this.now();
    const child = spawn(process.execPath, [this.bundle, ...args, '--json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, COMMAND_TIMEOUT_MS);
    if (opts.worker !== undefined) {
      this.running.set(opts.worker, { child, startedMs });
      const delay = this.armedKills.get(opts.worker);
      if (delay !== undefined) {
        this.armedKills.delete(opts.worker);
        this.scheduleKill(opts.worker, child, delay);
      }
    }
    return new Promise((resolve) => {
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (opts.worker !== undefined && this.running.get(opts.worker)?.child === child)
          this.running.delete(opts.worker);
        const killed = signal === 'SIGKILL';
        const rec: CommandRecord = {
          id,
          actor,
          kind,
          args,
          ...(opts.clockShift ? { clockShift: opts.clockShift } : {}),
          startedMs,
          endedMs: this.now(),
          ...(child.pid === undefined ? {} : { pid: child.pid }),
          exitCode: code,
          ...(signal ? { signal } : {}),
          killed,
          ...(timedOut ? { timedOut } : {}),
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8').slice(-4000),
          ...(opts.rerunOf === undefined ? {} : { rerunOf: opts.rerunOf }),
        };
        this.history.push(rec);
        void appendFile(join(this.outDir, 'history.jsonl'), `${JSON.stringify(rec)}\n`);
        resolve(rec);
      });
    });
  }

  private scheduleKill(worker: number, child: ChildProcess, delayMs: number): void {
    setTimeout(() => {
      if (this.running.get(worker)?.child !== child || child.exitCode !== null) {
        this.fault('kill', false);
        return;
      }
      child.once('exit', () => {
        if (child.pid !== undefined) {
          void appendFile(this.trace, `${JSON.stringify({ event: 'killed', pid: child.pid })}\n`);
        }
      });
      child.kill('SIGKILL');
      this.event('kill', { worker: `w${worker}`, pid: child.pid });
      this.fault('kill', true);
    }, delayMs);
  }

  /** What the harness itself did, with its time, in `events.jsonl` beside the history. */
  private event(what: string, detail: Record<string, unknown> = {}): void {
    const line = JSON.stringify({ t: Number((this.now() / 1000).toFixed(2)), event: what, ...detail });
    void appendFile(join(this.outDir, 'events.jsonl'), `${line}\n`);
  }

  private fault(kind: string, injected: boolean): void {
    const c = (this.faultCounts[kind] ??= { injected: 0, missed: 0 });
    if (injected) c.injected++;
    else c.missed++;
  }

  private async worker(w: number, cmds: readonly PlannedCommand[], endMs: number): Promise<void> {
    for (const c of cmds) {
      await sleep(c.pauseMs);
      if (this.now() >= endMs) return;
      await this.cli(`w${w}`, c.kind, c.args, {
        worker: w,
        ...(c.clockShift ? { clockShift: c.clockShift } : {}),
      });
    }
  }

  private async faults(endMs: number): Promise<void> {
    const restores: Promise<void>[] = [];
    for (const f of this.plan.faults) {
      await sleep(f.atMs - this.now());
      if (this.now() >= endMs) break;
      if (f.kind === 'kill') {
        const r = this.running.get(f.target);
        if (r) this.scheduleKill(f.target, r.child, Math.max(0, r.startedMs + f.durationMs - this.now()));
        else this.armedKills.set(f.target, f.durationMs);
      } else if (f.kind === 'restart-nfs') {
        this.log(`[soak] t=${(this.now() / 1000).toFixed(1)}s fault: restart ganesha`);
        this.event('restart-nfs');
        await this.server.restart();
        this.event('restart-nfs-done');
        this.fault('restart-nfs', true);
      } else {
        const host = this.hosts[f.target];
        if (!host || this.cut.has(f.target)) {
          this.fault('cut-link', false);
          continue;
        }
        this.log(
          `[soak] t=${(this.now() / 1000).toFixed(1)}s fault: cut ${HOST_NAME(f.target)}'s link for ${(f.durationMs / 1000).toFixed(1)} s`,
        );
        this.cut.add(f.target);
        await host.setLink(false);
        this.event('cut-link', { host: HOST_NAME(f.target) });
        this.fault('cut-link', true);
        restores.push(
          sleep(f.durationMs).then(async () => {
            await host.setLink(true);
            this.event('restore-link', { host: HOST_NAME(f.target) });
            this.cut.delete(f.target);
          }),
        );
      }
    }
    await Promise.all(restores);
  }

  private async containerActor(endMs: number): Promise<void> {
    let n = 0;
    for (const c of this.plan.containers) {
      await sleep(c.atMs - this.now());
      if (this.now() >= endMs) return;
      const host = this.hosts[c.host];
      const hostName = HOST_NAME(c.host);
      if (!host || this.cut.has(c.host)) {
        this.containerCounts.skipped++;
        continue;
      }
      const live = this.containers.filter((x) => x.host === hostName && x.stoppedMs === undefined);
      if (c.action === 'stop' || live.length >= MAX_CONTAINERS_PER_HOST) {
        const victim = live[0];
        if (!victim) {
          this.containerCounts.skipped++;
          continue;
        }
        const r = await host
          .exec(['sh', '-c', STOP_CONTAINER, 'soak', victim.name], { timeoutMs: 60_000 })
          .catch(() => undefined);
        if (!r || r.code !== 0) {
          // The command may have run on the host though its answer never came (a loaded host,
          // a cut link): what the host says now decides whether the container still exists.
          if ((await this.containerExists(host, victim.name)) !== false) {
            this.containerCounts.skipped++;
            continue;
          }
        } else {
          victim.lostLines.push(...r.stdout.split('\n').filter((l) => l.startsWith('LOST')));
        }
        victim.stoppedMs = this.now();
        this.event('container-stopped', { host: hostName, name: victim.name, volume: victim.volume });
        this.containerCounts.stopped++;
        if (c.action === 'stop') continue;
      }
      const name = `soak-c${n++}`;
      // The planned volume first, then the rest of the pool in order: whichever is defined there.
      const candidates = [c.volume, ...this.plan.names.filter((v) => v !== c.volume)];
      const attemptMs = this.now();
      const r = await host
        .exec(['sh', '-c', START_CONTAINER, 'soak', CONTAINER_LOOP, this.clusterId, name, ...candidates], {
          timeoutMs: 60_000,
        })
        .catch(() => undefined);
      // Without an answer the container may have started anyway: then it counts as using its
      // volume from the attempt's start (the earliest it can have).
      const volume =
        /^STARTED (\S+)$/m.exec(r?.stdout ?? '')?.[1] ??
        (r === undefined ? await this.volumeOfContainer(host, name) : undefined);
      if (volume !== undefined) {
        this.containers.push({
          name,
          host: hostName,
          volume,
          startedMs: r === undefined ? attemptMs : this.now(),
          lostLines: [],
        });
        this.event('container-started', { host: hostName, name, volume });
        this.containerCounts.started++;
      } else {
        this.containerCounts.skipped++;
      }
    }
  }

  /**
   * Whether a container exists on a host, asked until the host answers (a link cut lasts
   * seconds): undefined when it never did.
   */
  private async containerExists(host: LabHost, name: string): Promise<boolean | undefined> {
    for (let i = 0; i < 12; i++) {
      const r = await host
        .exec(['docker', 'ps', '-aq', '--filter', `name=^/${name}$`], { timeoutMs: 30_000 })
        .catch(() => undefined);
      if (r?.code === 0) return r.stdout.trim() !== '';
      await sleep(5_000);
    }
    return undefined;
  }

  /** The volume a container mounts at /data, if the container exists. */
  private async volumeOfContainer(host: LabHost, name: string): Promise<string | undefined> {
    if ((await this.containerExists(host, name)) !== true) return undefined;
    const r = await host
      .exec(['docker', 'inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', name], { timeoutMs: 30_000 })
      .catch(() => undefined);
    const v = r?.stdout.trim();
    return v ? v : undefined;
  }

  /** Faults off, links back, every killed command run again to its end. */
  private async settle(): Promise<void> {
    for (const [i, h] of this.hosts.entries()) {
      if (this.cut.has(i)) {
        await h.setLink(true);
        this.event('restore-link', { host: HOST_NAME(i) });
      }
    }
    this.cut.clear();
    for (const h of this.hosts) {
      await pollUntil(
        `${h.name} answers over SSH`,
        async () =>
          (await h.exec(['true'], { timeoutMs: 10_000 }).catch(() => undefined))?.code === 0
            ? true
            : undefined,
        { timeoutMs: 120_000, intervalMs: 500 },
      );
    }
    const killed = this.history.filter((c) => c.killed).sort((a, b) => a.id - b.id);
    this.log(`[soak] re-running ${killed.length} killed command(s)`);
    for (const k of killed) {
      await this.cli('rerun', k.kind, k.args, { rerunOf: k.id });
    }
    // A failed rm that left a volume marked `removing` told its user to run rm again: do so.
    const unfinished = this.history.flatMap((c) =>
      c.kind === 'rm' && !c.killed && c.actor !== 'rerun'
        ? volumeEffects(c)
            .filter((e) => e.leftRemoving)
            .map((e) => ({ id: c.id, volume: e.volume }))
        : [],
    );
    if (unfinished.length > 0)
      this.log(`[soak] finishing ${unfinished.length} removal(s) left marked removing`);
    for (const u of unfinished) {
      await this.cli('rerun', 'rm', ['volume', 'rm', u.volume], { rerunOf: u.id });
    }
  }

  private async readState(): Promise<FinalState> {
    const exp = await readExport(this.server.url(3));
    const hosts = await Promise.all(this.hosts.map((h, i) => readHost(h, HOST_NAME(i), exp.clusterId)));
    return { ...exp, hosts };
  }

  private async check(): Promise<SoakReport> {
    const pre = await this.readState();
    const sync = await this.cli('final', 'sync', ['sync']);
    const final = await this.readState();
    // Containers still running: their log says whether they ever lost their data.
    for (const c of this.containers) {
      if (c.stoppedMs !== undefined) continue;
      const host = this.hosts.find((_, i) => HOST_NAME(i) === c.host);
      const r = await host
        ?.exec(['sh', '-c', 'docker logs "$1" 2>&1 | grep "^LOST" | head -n 5', 'soak', c.name])
        .catch(() => undefined);
      c.lostLines.push(...(r?.stdout.split('\n').filter((l) => l.startsWith('LOST')) ?? []));
    }
    for (const [i, h] of this.hosts.entries()) {
      const r = await h.exec(['sh', '-c', DOCKER_EVENTS_READ], { timeoutMs: 60_000 }).catch(() => undefined);
      if (r) await writeFile(join(this.outDir, `docker-events-${HOST_NAME(i)}.log`), r.stdout);
    }
    const evidence: SoakEvidence = {
      seed: this.plan.seed,
      durationMs: this.plan.durationMs,
      outDir: this.outDir,
      history: this.history,
      containers: this.containers,
      pre: stateToJson(pre),
      final: stateToJson(final),
      finalSyncId: sync.id,
      lockTrace: existsSync(this.trace) ? await readFile(this.trace, 'utf8') : '',
      faults: this.faultCounts,
      containerCounts: this.containerCounts,
    };
    // Everything the verdict rests on, so `npm run soak -- --recheck DIR` can judge it again.
    await writeFile(join(this.outDir, 'evidence.json'), JSON.stringify(evidence));
    const report = judge(evidence);
    await writeFile(join(this.outDir, 'report.json'), JSON.stringify(report, null, 2));
    return report;
  }
}

/** What a run leaves for the checker: the history, the containers, the two state readings. */
export interface SoakEvidence {
  readonly seed: number;
  readonly durationMs: number;
  readonly outDir: string;
  readonly history: readonly CommandRecord[];
  readonly containers: readonly ContainerUse[];
  readonly pre: FinalStateJson;
  readonly final: FinalStateJson;
  /** The id of the final `sync` in the history. */
  readonly finalSyncId: number;
  readonly lockTrace: string;
  readonly faults: SoakReport['faults'];
  readonly containerCounts: SoakReport['containers'];
}

/** The verdict on a run: every invariant checked against the evidence. Pure. */
export function judge(e: SoakEvidence): SoakReport {
  const counts: CheckCounts = { checks: 0, undetermined: 0 };
  const pre = stateFromJson(e.pre);
  const final = stateFromJson(e.final);
  const violations: Violation[] = [];
  for (const c of e.history) {
    if (!c.timedOut) continue;
    violations.push({
      invariant: 'liveness',
      phase: 'history',
      message: `a command did not end within ${COMMAND_TIMEOUT_MS / 1000} s and was killed`,
      commands: [describeCommand(c)],
    });
  }
  violations.push(...checkState(pre, 'pre-sync', counts));
  const sync = e.history.find((c) => c.id === e.finalSyncId);
  counts.checks++;
  const foreign = new Set(pre.hosts.flatMap((h) => h.foreign.map((f) => `${h.name}/${f}`)));
  if (!sync || (sync.exitCode !== 0 && !onlyForeignConflicts(sync, foreign))) {
    violations.push({
      invariant: 'I1-record-complete',
      phase: 'final',
      message: `the final sync, with every host up and no faults, did not succeed: ${sync ? `${sync.stdout.slice(0, 600)} ${sync.stderr.slice(0, 300)}` : 'not run'}`,
      ...(sync ? { commands: [describeCommand(sync)] } : {}),
    });
  }
  violations.push(
    ...checkState(final, 'final', counts),
    ...checkOutcomes(e.history, final, counts),
    ...checkInUse(e.history, e.containers, counts),
    ...checkMounts(e.history, final, counts),
    ...checkRemovals(e.history, counts),
    ...checkStuckLocks(e.history, counts),
  );
  const lockTrace = checkLockTrace(e.lockTrace);
  counts.checks += lockTrace.acquisitions;
  for (const v of lockTrace.violations) {
    violations.push({ invariant: 'I4-lock-exclusive', phase: 'history', message: v.message });
  }
  const operations: Record<string, Record<string, number>> = {};
  for (const c of e.history) {
    const k = c.actor === 'rerun' ? `${c.kind} (re-run)` : c.actor === 'final' ? `${c.kind} (final)` : c.kind;
    const by = (operations[k] ??= {});
    const status = c.killed ? (c.timedOut ? 'timed out' : 'killed') : `exit ${c.exitCode ?? c.signal ?? '?'}`;
    by[status] = (by[status] ?? 0) + 1;
  }
  return {
    seed: e.seed,
    durationMs: e.durationMs,
    outDir: e.outDir,
    operations,
    faults: e.faults,
    containers: e.containerCounts,
    checks: counts.checks,
    undetermined: counts.undetermined,
    lockTrace,
    violations,
  };
}

/** The sync failed only on the local volumes the soak's own container starts made. */
function onlyForeignConflicts(sync: CommandRecord, foreign: ReadonlySet<string>): boolean {
  const report = parseJson(sync.stdout) as
    | {
        hosts?: {
          host: string;
          ok?: boolean;
          unreachable?: boolean;
          error?: unknown;
          failed?: { volume: string; error?: { code?: string } }[];
        }[];
      }
    | undefined;
  if (!report?.hosts) return false;
  return report.hosts.every((h) => {
    if (h.ok === true) return true;
    const failed = h.failed ?? [];
    return (
      h.unreachable !== true &&
      h.error === undefined &&
      failed.length > 0 &&
      failed.every((f) => f.error?.code === 'HOST_VOLUME_CONFLICT' && foreign.has(`${h.host}/${f.volume}`))
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
