// The invariants, judged from the history of what every command was told and the final state.
// Pure: no I/O, so each rule is unit-tested with hand-made histories (test/unit/soak).
import type { FinalState } from './final-state.js';
import {
  describeCommand,
  mountClaim,
  parseJson,
  volumeEffects,
  namesOf,
  type CommandRecord,
  type VolumeEffect,
} from './history.js';

export type InvariantId =
  | 'I1-record-complete'
  | 'I2-no-orphans'
  | 'I3-data-kept-while-used'
  | 'I4-lock-exclusive'
  | 'I5-outcomes-match'
  | 'I6-created-exists'
  | 'liveness'
  | 'harness';

export interface Violation {
  readonly invariant: InvariantId;
  /** 'pre-sync': state after the re-runs, before the final sync; 'final': after it. */
  readonly phase: 'pre-sync' | 'final' | 'history';
  readonly message: string;
  /** The commands it is about, described (id, actor, argv, clock, times, exit). */
  readonly commands?: readonly string[];
}

/** A container the harness ran on a host, using one volume. */
export interface ContainerUse {
  readonly name: string;
  readonly host: string;
  readonly volume: string;
  /** `docker run -d` returned (the volume was mounted in the container). */
  readonly startedMs: number;
  /** The harness stopped it (`docker rm -f` returned); absent while it runs. */
  readonly stoppedMs?: number;
  /** Lines the container printed when it could not read its volume's canary file. */
  readonly lostLines: readonly string[];
}

export interface CheckCounts {
  checks: number;
  undetermined: number;
}

interface Effect extends VolumeEffect {
  readonly cmd: CommandRecord;
}

const PRESENT = new Set(['created', 'exists']);
const ABSENT = new Set(['removed', 'absent']);

function effectsByVolume(history: readonly CommandRecord[]): Map<string, Effect[]> {
  const out = new Map<string, Effect[]>();
  for (const cmd of history) {
    for (const e of volumeEffects(cmd)) {
      const list = out.get(e.volume) ?? [];
      list.push({ ...e, cmd });
      out.set(e.volume, list);
    }
  }
  return out;
}

/** Could `e` have added (dir 'add') or removed (dir 'remove') the volume? */
function mayChange(e: Effect, dir: 'add' | 'remove'): boolean {
  if (dir === 'add') return e.cmd.kind === 'create' && (e.claim === 'created' || e.claim === 'unknown');
  return e.cmd.kind === 'rm' && (e.claim === 'removed' || e.claim === 'unknown');
}

/** Did `later`'s interval end after `earlier` began, so its effect may come after earlier's? */
const mayFollow = (later: CommandRecord, earlier: CommandRecord): boolean =>
  later.id !== earlier.id && later.endedMs > earlier.startedMs;

/**
 * The command whose record the volume has now, when that is certain: the last `created` claim,
 * with no other possibly-creating command that may have come after it or between it and `before`.
 */
function creatorOf(effects: readonly Effect[], before?: CommandRecord): Effect | undefined {
  const candidates = effects.filter(
    (e) => e.claim === 'created' && (before === undefined || e.cmd.endedMs < before.startedMs),
  );
  const last = candidates.sort((a, b) => b.cmd.endedMs - a.cmd.endedMs)[0];
  if (!last) return undefined;
  const rival = effects.some(
    (e) =>
      e !== last &&
      (mayChange(e, 'add') || mayChange(e, 'remove')) &&
      mayFollow(e.cmd, last.cmd) &&
      (before === undefined || e.cmd.startedMs < before.endedMs),
  );
  return rival ? undefined : last;
}

/** I5 and I6: every claim about a volume agrees with the final state. */
export function checkOutcomes(
  history: readonly CommandRecord[],
  state: FinalState,
  counts: CheckCounts,
): Violation[] {
  const out: Violation[] = [];
  for (const [volume, effects] of effectsByVolume(history)) {
    const definitive = effects.filter((e) => PRESENT.has(e.claim) || ABSENT.has(e.claim));
    const last = [...definitive].sort((a, b) => b.cmd.endedMs - a.cmd.endedMs)[0];

    // Two creations with no possible removal between them: exclusivity failed.
    const created = effects
      .filter((e) => e.claim === 'created')
      .sort((a, b) => a.cmd.startedMs - b.cmd.startedMs);
    for (let i = 1; i < created.length; i++) {
      const a = created[i - 1]!;
      const b = created[i]!;
      counts.checks++;
      const removalBetween = effects.some(
        (e) => mayChange(e, 'remove') && e.cmd.endedMs > a.cmd.startedMs && e.cmd.startedMs < b.cmd.endedMs,
      );
      if (!removalBetween) {
        out.push({
          invariant: 'I5-outcomes-match',
          phase: 'history',
          message: `${volume}: reported created by two commands with no removal that could fall between them`,
          commands: [describeCommand(a.cmd), describeCommand(b.cmd)],
        });
      }
    }

    // rm reports the policy of the record it removed: the one its certain creator asked for.
    for (const r of effects.filter((e) => e.claim === 'removed' && e.policy !== undefined)) {
      const creator = creatorOf(effects, r.cmd);
      if (!creator) continue;
      counts.checks++;
      if (creator.requestedPolicy !== r.policy) {
        out.push({
          invariant: 'I5-outcomes-match',
          phase: 'history',
          message: `${volume}: removed with policy ${r.policy}, but the command that created it asked for ${creator.requestedPolicy}`,
          commands: [describeCommand(creator.cmd), describeCommand(r.cmd)],
        });
      }
    }

    if (!last) continue;
    const expectPresent = PRESENT.has(last.claim);
    const rivals = effects.filter(
      (e) => mayChange(e, expectPresent ? 'remove' : 'add') && mayFollow(e.cmd, last.cmd),
    );
    if (rivals.length > 0) {
      counts.undetermined++;
      continue;
    }
    counts.checks++;
    const hasRecord = state.records.has(volume);
    const hasDir = state.dirs.has(volume);
    if (expectPresent) {
      const problems: string[] = [];
      if (!hasRecord) problems.push('its record is missing');
      if (!hasDir) problems.push('its directory is missing');
      if (problems.length > 0) {
        out.push({
          invariant: last.claim === 'created' ? 'I6-created-exists' : 'I5-outcomes-match',
          phase: 'final',
          message: `${volume}: reported ${last.claim} and never removed afterwards, but ${problems.join(' and ')}`,
          commands: [describeCommand(last.cmd)],
        });
      }
      const creator = creatorOf(effects);
      const rec = state.records.get(volume);
      if (creator && rec && creator.requestedPolicy !== rec.onDelete) {
        out.push({
          invariant: 'I5-outcomes-match',
          phase: 'final',
          message: `${volume}: its record says on-delete ${rec.onDelete}, but the command that created it asked for ${creator.requestedPolicy}`,
          commands: [describeCommand(creator.cmd)],
        });
      }
      continue;
    }
    const problems: string[] = [];
    if (hasRecord) problems.push('its record is still there');
    if (last.claim === 'removed') {
      if (last.policy === 'delete' && hasDir) problems.push('its data was not deleted (policy delete)');
      if (last.policy === 'archive') {
        if (hasDir) problems.push('its directory is still in place (policy archive)');
        const archived = last.archivedAs?.split('/').pop();
        if (!archived || !state.archive.includes(archived))
          problems.push(`the archive has no ${last.archivedAs ?? '(no archivedAs reported)'}`);
      }
      if (last.policy === 'retain' && !hasDir) problems.push('its data is gone (policy retain)');
    }
    if (problems.length > 0) {
      out.push({
        invariant: 'I5-outcomes-match',
        phase: 'final',
        message: `${volume}: reported ${last.claim} and not created again afterwards, but ${problems.join('; ')}`,
        commands: [describeCommand(last.cmd)],
      });
    }
  }
  return out;
}

/** Whether host `h` owes anything about `volume` (or a whole sync). */
function owes(state: FinalState, host: string, volume: string): boolean {
  return (state.pending.get(host) ?? []).some((p) => p === 'sync:' || p.endsWith(`:${volume}`));
}

/** I1 and I2 on the export and the hosts. */
export function checkState(state: FinalState, phase: 'pre-sync' | 'final', counts: CheckCounts): Violation[] {
  const out: Violation[] = [];
  const v = (invariant: InvariantId, message: string): void => {
    out.push({ invariant, phase, message });
  };
  for (const [name, reason] of state.badRecords)
    v('I1-record-complete', `${name}: record unreadable: ${reason}`);
  for (const [name] of state.records) {
    counts.checks++;
    if (!state.dirs.has(name))
      v('I1-record-complete', `${name}: has a record but no directory on the export`);
    for (const h of state.hosts) {
      if (!h.reachable) continue;
      counts.checks++;
      const def = h.definitions.find((d) => d.name === name);
      if (!def && !owes(state, h.name, name))
        v(
          'I1-record-complete',
          `${name}: has a record but no definition on ${h.name} and no pending entry for it`,
        );
      if (def && !def.device.endsWith(`/${name}`))
        v('I1-record-complete', `${name}: the definition on ${h.name} points at ${def.device}`);
    }
  }
  for (const h of state.hosts) {
    if (!h.reachable) {
      v('harness', `${h.name} did not answer when the state was read: ${h.error ?? ''}`);
      continue;
    }
    for (const f of h.foreign) {
      // Only `docker run -v NAME` makes these: the soak's container start raced a removal.
      v(
        'harness',
        `${h.name}: Docker volume ${f} is not this cluster's (a container start raced its removal, and Docker made a local volume)`,
      );
    }
    for (const d of h.definitions) {
      counts.checks++;
      if (!state.records.has(d.name) && !owes(state, h.name, d.name))
        v(
          'I2-no-orphans',
          `${h.name}: Docker volume ${d.name} is labelled for this cluster but has no record (and no pending removal)`,
        );
    }
    for (const m of h.mounts) {
      counts.checks++;
      const exportRoot = /^[^:]*:\/[^/]*\/?$/.test(m.device);
      if (exportRoot) {
        // Not a volume: the export itself, as `host check` mounts it for a moment to test NFS.
        v(
          'I2-no-orphans',
          `${h.name}: the export itself (${m.device}) is still mounted at ${m.mountpoint}: a mount nfsvol left behind (host check's test mount?)`,
        );
        continue;
      }
      const volume = m.device.split('/').pop() ?? '';
      if (!state.records.has(volume))
        v(
          'I2-no-orphans',
          `${h.name}: ${m.device} is mounted at ${m.mountpoint} but volume ${volume} has no record`,
        );
      if (
        !state.mountRecords.some((r) => r.host === h.name && r.path === m.mountpoint && r.volume === volume)
      )
        v('I2-no-orphans', `${h.name}: ${m.device} is mounted at ${m.mountpoint} with no mount record`);
    }
  }
  for (const r of state.mountRecords) {
    counts.checks++;
    if (!state.records.has(r.volume))
      v('I2-no-orphans', `mount record ${r.volume}@${r.host} names a volume with no record`);
    const h = state.hosts.find((x) => x.name === r.host);
    if (h?.reachable && !h.mounts.some((m) => m.mountpoint === r.path))
      v('I2-no-orphans', `mount record ${r.volume}@${r.host} says ${r.path}, but nothing is mounted there`);
  }
  return out;
}

/**
 * I3: no rm reported removing data (policy delete or archive) while a container the harness had
 * started, or a host mount a command had reported, still used the volume; no container saw its
 * canary vanish.
 */
export function checkInUse(
  history: readonly CommandRecord[],
  containers: readonly ContainerUse[],
  counts: CheckCounts,
): Violation[] {
  const out: Violation[] = [];
  for (const c of containers) {
    counts.checks++;
    if (c.lostLines.length > 0) {
      out.push({
        invariant: 'I3-data-kept-while-used',
        phase: 'history',
        message: `container ${c.name} on ${c.host} lost the data of ${c.volume} while running: ${c.lostLines.slice(0, 3).join(' | ')}`,
      });
    }
  }
  const removals = history.flatMap((cmd) =>
    volumeEffects(cmd)
      .filter((e) => e.claim === 'removed' && (e.policy === 'delete' || e.policy === 'archive'))
      .map((e) => ({ cmd, e })),
  );
  for (const { cmd, e } of removals) {
    for (const c of containers) {
      if (c.volume !== e.volume) continue;
      counts.checks++;
      if (c.startedMs < cmd.startedMs && (c.stoppedMs === undefined || c.stoppedMs > cmd.endedMs)) {
        out.push({
          invariant: 'I3-data-kept-while-used',
          phase: 'history',
          message: `${e.volume}: removed (${e.policy}) while container ${c.name} on ${c.host} used it (started t=${(c.startedMs / 1000).toFixed(1)}s${c.stoppedMs === undefined ? ', still running' : `, stopped t=${(c.stoppedMs / 1000).toFixed(1)}s`})`,
          commands: [describeCommand(cmd)],
        });
      }
    }
    // A host mount a command reported, with no unmount (in any outcome) or removal that could
    // have ended it before this rm began.
    for (const m of history) {
      const claim = mountClaim(m);
      if (m.kind !== 'mount' || !claim || claim.volume !== e.volume || m.endedMs >= cmd.startedMs) continue;
      counts.checks++;
      const ended = history.some(
        (u) =>
          u.id !== cmd.id &&
          u.endedMs > m.startedMs &&
          u.startedMs < cmd.startedMs &&
          ((u.kind === 'unmount' && namesOf(u)[0] === e.volume && u.args.includes(claim.host)) ||
            (u.kind === 'rm' &&
              volumeEffects(u).some(
                (x) => x.volume === e.volume && x.claim !== 'refused' && x.claim !== 'absent',
              ))),
      );
      if (!ended) {
        out.push({
          invariant: 'I3-data-kept-while-used',
          phase: 'history',
          message: `${e.volume}: removed (${e.policy}) while mounted on ${claim.host}:${claim.path} (no unmount in between)`,
          commands: [describeCommand(m), describeCommand(cmd)],
        });
      }
    }
  }
  return out;
}

/**
 * I5 for host mounts: a mount a command reported, with nothing after it that could have undone
 * it (an unmount of it or a removal of its volume, in any outcome), is recorded and mounted; an
 * unmount a command reported, with no mount after it, left no record and no mount.
 */
export function checkMounts(
  history: readonly CommandRecord[],
  state: FinalState,
  counts: CheckCounts,
): Violation[] {
  const out: Violation[] = [];
  const touches = (c: CommandRecord, volume: string, host: string): 'mount' | 'unmount' | undefined => {
    if ((c.kind === 'mount' || c.kind === 'unmount') && namesOf(c)[0] === volume && c.args.includes(host))
      return c.kind;
    if (
      c.kind === 'rm' &&
      volumeEffects(c).some((e) => e.volume === volume && (e.claim === 'removed' || e.claim === 'unknown'))
    )
      return 'unmount';
    return undefined;
  };
  for (const c of history) {
    const claim = mountClaim(c);
    if (!claim) continue;
    const later = history.filter(
      (x) => x.id !== c.id && mayFollow(x, c) && touches(x, claim.volume, claim.host),
    );
    if (later.length > 0) {
      counts.undetermined++;
      continue;
    }
    const host = state.hosts.find((h) => h.name === claim.host);
    if (!host?.reachable) continue;
    counts.checks++;
    const rec = state.mountRecords.find((r) => r.volume === claim.volume && r.host === claim.host);
    const mounted = host.mounts.find((m) => m.mountpoint === claim.path);
    const problems: string[] = [];
    if (c.kind === 'mount') {
      if (!rec) problems.push('there is no mount record');
      else if (rec.path !== claim.path) problems.push(`the mount record says ${rec.path}`);
      if (!mounted) problems.push(`nothing is mounted at ${claim.path}`);
      else if (!mounted.device.endsWith(`/${claim.volume}`))
        problems.push(`${mounted.device} is mounted there`);
    } else {
      if (rec) problems.push(`the mount record is still there (${rec.path})`);
      if (mounted) problems.push(`${mounted.device} is still mounted at ${claim.path}`);
    }
    if (problems.length > 0) {
      out.push({
        invariant: 'I5-outcomes-match',
        phase: 'final',
        message: `${claim.volume} on ${claim.host}: reported ${c.kind === 'mount' ? 'mounted' : 'unmounted'} at ${claim.path} and nothing later could undo it, but ${problems.join(' and ')}`,
        commands: [describeCommand(c)],
      });
    }
  }
  return out;
}

/**
 * I1 as the commands saw it: an rm that failed for a volume (its record stays) after it had
 * already removed that volume's definition from some host, with nothing recorded as pending,
 * leaves the volume without its definition there until someone runs sync. Unless the rm said
 * the volume stays marked `removing` (the next rm finishes it, and the soak runs that rm as
 * a user would; the final state then shows whether it did).
 */
export function checkRemovals(history: readonly CommandRecord[], counts: CheckCounts): Violation[] {
  const out: Violation[] = [];
  for (const c of history) {
    if (c.kind !== 'rm' || c.killed) continue;
    const report = parseJson(c.stdout) as { hosts?: { host?: string; removed?: string[] }[] } | undefined;
    for (const e of volumeEffects(c)) {
      if (e.claim !== 'unknown' || e.errorCode === undefined) continue;
      counts.checks++;
      if (e.leftRemoving) continue;
      const on = (report?.hosts ?? []).filter((h) => h.removed?.includes(e.volume)).map((h) => h.host);
      if (on.length > 0) {
        out.push({
          invariant: 'I1-record-complete',
          phase: 'history',
          message: `${e.volume}: rm failed (${e.errorCode}) and kept the record, but had already removed its definition from ${on.join(', ')}, with nothing pending`,
          commands: [describeCommand(c)],
        });
      }
    }
  }
  return out;
}

/** A lock still blocking commands this long after the soak killed its holder is stuck. */
export const STUCK_LOCK_MS = 60_000;

/**
 * Liveness: a command that timed out waiting for a lock whose holder (named `<pid>-...` in the
 * error) the soak had SIGKILLed long before: a dead holder's lock must expire.
 */
export function checkStuckLocks(history: readonly CommandRecord[], counts: CheckCounts): Violation[] {
  const out: Violation[] = [];
  const killedAt = new Map<number, CommandRecord>();
  for (const c of history) if (c.killed && c.pid !== undefined) killedAt.set(c.pid, c);
  const reported = new Set<number>();
  for (const c of history) {
    const text = `${c.stdout}\n${c.stderr}`;
    if (!text.includes('LOCK_TIMEOUT')) continue;
    for (const m of text.matchAll(/held by (\d+)-/g)) {
      const pid = Number(m[1]);
      const holder = killedAt.get(pid);
      if (!holder) continue;
      counts.checks++;
      const deadFor = c.startedMs - holder.endedMs;
      if (deadFor < STUCK_LOCK_MS || reported.has(pid)) continue;
      reported.add(pid);
      out.push({
        invariant: 'liveness',
        phase: 'history',
        message: `a lock held by pid ${pid}${holder.clockShift ? ` (clock ${holder.clockShift})` : ''}, SIGKILLed ${(deadFor / 1000).toFixed(0)} s before, still made a command time out`,
        commands: [describeCommand(holder), describeCommand(c)],
      });
    }
  }
  return out;
}
