// The soak's plan, made from the seed alone: which commands each CLI worker runs and in what
// order, which faults are injected when, which containers are started where. Running the same
// seed again replays the same plan; only how the lab's timing interleaves it differs, which is
// the point of running many seeds.
import { prng } from '../support/prng.js';

export const DELETE_POLICIES = ['retain', 'delete', 'archive'] as const;
export type Policy = (typeof DELETE_POLICIES)[number];

export type OpKind = 'create' | 'rm' | 'mount' | 'unmount' | 'sync' | 'host-check' | 'ls';

export interface PlannedCommand {
  readonly kind: OpKind;
  /** CLI arguments after the global ones (`--json` is added by the runner). */
  readonly args: readonly string[];
  /** libfaketime offset for this process (`+5m`, `-3m`), or none. */
  readonly clockShift?: string;
  /** Pause before the command, so workers drift apart. */
  readonly pauseMs: number;
}

export type FaultKind = 'kill' | 'restart-nfs' | 'cut-link';

export interface PlannedFault {
  /** When, from the start of the run. */
  readonly atMs: number;
  readonly kind: FaultKind;
  /** kill: which worker's running process; cut-link: which host (index). */
  readonly target: number;
  /** kill: delay after the worker's command started; cut-link: how long the link stays down. */
  readonly durationMs: number;
}

export interface PlannedContainer {
  readonly atMs: number;
  /** Start a container using `volume` on host `host`, or stop the oldest one on that host. */
  readonly action: 'start' | 'stop';
  readonly host: number;
  readonly volume: string;
}

export interface SoakPlan {
  readonly seed: number;
  readonly durationMs: number;
  readonly hosts: number;
  readonly names: readonly string[];
  readonly workers: readonly (readonly PlannedCommand[])[];
  readonly faults: readonly PlannedFault[];
  readonly containers: readonly PlannedContainer[];
}

export interface PlanOptions {
  readonly seed: number;
  readonly durationMs: number;
  /** @default 2 */
  readonly hosts?: number;
  /** @default 6 */
  readonly workers?: number;
  /** Size of the name pool: small, so commands collide often. @default 6 */
  readonly names?: number;
  /** Mean time between faults. @default 12000 */
  readonly faultEveryMs?: number;
}

export const HOST_NAME = (i: number): string => `h${i + 1}`;
export const MOUNT_PATH = (volume: string): string => `/mnt/soak/${volume}`;
/** Clock offsets given to some CLI processes (libfaketime's relative syntax). */
export const CLOCK_SHIFTS = ['+5m', '-3m'] as const;

/** A stream of its own per actor, so one worker's plan does not depend on another's length. */
function stream(seed: number, actor: number): () => number {
  return prng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(actor + 1, 0x85ebca6b)) >>> 0);
}

const pick = <T>(rand: () => number, items: readonly T[]): T => {
  const item = items[Math.floor(rand() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
};

function sample(rand: () => number, items: readonly string[], n: number): string[] {
  const pool = [...items];
  const out: string[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(rand() * pool.length), 1)[0]!);
  return out;
}

/** Weighted kinds: creates and removals most, so volumes come and go under the other commands. */
const KINDS: readonly (readonly [OpKind, number])[] = [
  ['create', 30],
  ['rm', 22],
  ['mount', 12],
  ['unmount', 9],
  ['sync', 9],
  ['host-check', 6],
  ['ls', 12],
];

function pickKind(rand: () => number): OpKind {
  const total = KINDS.reduce((s, [, w]) => s + w, 0);
  let r = rand() * total;
  for (const [kind, w] of KINDS) {
    r -= w;
    if (r < 0) return kind;
  }
  return 'ls';
}

function planCommand(rand: () => number, names: readonly string[], hosts: number): PlannedCommand {
  const kind = pickKind(rand);
  const host = HOST_NAME(Math.floor(rand() * hosts));
  let args: string[];
  switch (kind) {
    case 'create': {
      const n = rand() < 0.3 ? 2 + Math.floor(rand() * 2) : 1;
      args = ['volume', 'create', ...sample(rand, names, n), '--on-delete', pick(rand, DELETE_POLICIES)];
      break;
    }
    case 'rm':
      args = ['volume', 'rm', ...sample(rand, names, rand() < 0.25 ? 2 : 1)];
      break;
    case 'mount': {
      const v = pick(rand, names);
      args = ['volume', 'mount', v, '--host', host, '--path', MOUNT_PATH(v)];
      break;
    }
    case 'unmount':
      args = ['volume', 'unmount', pick(rand, names), '--host', host];
      break;
    case 'sync':
      args = ['sync'];
      break;
    case 'host-check':
      args = ['host', 'check', host];
      break;
    case 'ls':
      args = ['volume', 'ls'];
      break;
  }
  const shifted = rand() < 0.2;
  const clockShift = shifted ? pick(rand, CLOCK_SHIFTS) : undefined;
  const pauseMs = Math.floor(rand() * 1500);
  return { kind, args, pauseMs, ...(clockShift ? { clockShift } : {}) };
}

export function planSoak(o: PlanOptions): SoakPlan {
  const hosts = o.hosts ?? 2;
  const workerCount = o.workers ?? 6;
  const names = Array.from({ length: o.names ?? 6 }, (_, i) => `soak${i}`);
  // More commands than any worker can run in the time (at least ~0.5 s each); the rest are unused.
  const perWorker = Math.ceil(o.durationMs / 400) + 10;
  const workers = Array.from({ length: workerCount }, (_, w) => {
    const rand = stream(o.seed, w);
    return Array.from({ length: perWorker }, () => planCommand(rand, names, hosts));
  });

  const faultRand = stream(o.seed, 1000);
  const faults: PlannedFault[] = [];
  const every = o.faultEveryMs ?? 12_000;
  // Faults stop a little before the end so the last ones have settled when the workers stop.
  for (
    let t = every * (0.3 + faultRand() * 0.7);
    t < o.durationMs - 5_000;
    t += every * (0.5 + faultRand())
  ) {
    const r = faultRand();
    const kind: FaultKind = r < 0.6 ? 'kill' : r < 0.8 ? 'cut-link' : 'restart-nfs';
    faults.push({
      atMs: Math.floor(t),
      kind,
      target: Math.floor(faultRand() * (kind === 'cut-link' ? hosts : workerCount)),
      durationMs: Math.floor(kind === 'kill' ? 200 + faultRand() * 2500 : 3_000 + faultRand() * 12_000),
    });
  }

  const containerRand = stream(o.seed, 2000);
  const containers: PlannedContainer[] = [];
  for (
    let t = 4_000 + containerRand() * 6_000;
    t < o.durationMs - 10_000;
    t += 6_000 + containerRand() * 10_000
  ) {
    containers.push({
      atMs: Math.floor(t),
      action: containerRand() < 0.7 ? 'start' : 'stop',
      host: Math.floor(containerRand() * hosts),
      volume: pick(containerRand, names),
    });
  }
  return { seed: o.seed, durationMs: o.durationMs, hosts, names, workers, faults, containers };
}
