// Checks the registry lock trace the CLI writes when NFSVOL_LOCK_TRACE names a local file: one
// JSON line per event, appended with O_APPEND by every process on this machine, so the file's
// order is the order the events happened in. The harness appends its own `killed` lines (after
// the SIGKILLed process has exited): a killed holder is dead and may be superseded; any other
// holder must have written `releasing` or `lost` before someone else's `acquired` on its key.

export interface LockEvent {
  readonly event: 'acquired' | 'releasing' | 'lost' | 'killed';
  readonly key?: string;
  readonly owner?: string;
  readonly pid: number;
  /** Line number in the trace file (1-based). */
  readonly line: number;
}

export interface LockViolation {
  readonly kind: 'two-holders' | 'release-not-held' | 'bad-line';
  readonly key: string;
  readonly line: number;
  readonly message: string;
}

export interface LockTraceResult {
  /** False when the CLI wrote no lock event (the harness's own `killed` lines do not count). */
  readonly recorded: boolean;
  /** Lock events written by the CLI (acquired, releasing, lost). */
  readonly events: number;
  readonly acquisitions: number;
  /** Keys seen. */
  readonly keys: number;
  /** Acquisitions that superseded a holder the harness had killed. */
  readonly takeoversFromKilled: number;
  readonly violations: readonly LockViolation[];
}

interface Holder {
  readonly owner: string;
  readonly pid: number;
  readonly line: number;
}

function parseLine(text: string, line: number): LockEvent | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof v !== 'object' || v === null) return 'not an object';
  const o = v as Record<string, unknown>;
  const event = o['event'];
  if (event !== 'acquired' && event !== 'releasing' && event !== 'lost' && event !== 'killed')
    return `unknown event ${JSON.stringify(event)}`;
  if (typeof o['pid'] !== 'number') return 'no pid';
  if (event !== 'killed' && (typeof o['key'] !== 'string' || typeof o['owner'] !== 'string'))
    return 'no key or owner';
  return {
    event,
    pid: o['pid'],
    line,
    ...(typeof o['key'] === 'string' ? { key: o['key'] } : {}),
    ...(typeof o['owner'] === 'string' ? { owner: o['owner'] } : {}),
  };
}

export function checkLockTrace(text: string | undefined): LockTraceResult {
  if (text === undefined || text.trim() === '') {
    return { recorded: false, events: 0, acquisitions: 0, keys: 0, takeoversFromKilled: 0, violations: [] };
  }
  const violations: LockViolation[] = [];
  const holders = new Map<string, Holder>();
  const killed = new Set<number>();
  const keys = new Set<string>();
  // Owners already reported as superseded: their later release is the same incident.
  const superseded = new Map<string, number>();
  let events = 0;
  let acquisitions = 0;
  let takeovers = 0;
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const e = parseLine(raw, line);
    if (typeof e === 'string') {
      // A torn line means two writers interleaved, or a writer died mid-line: both worth knowing.
      violations.push({
        kind: 'bad-line',
        key: '',
        line,
        message: `line ${line}: ${e}: ${raw.slice(0, 200)}`,
      });
      return;
    }
    if (e.event === 'killed') {
      killed.add(e.pid);
      return;
    }
    events++;
    const key = e.key ?? '';
    const owner = e.owner ?? '';
    keys.add(key);
    const current = holders.get(key);
    if (e.event === 'acquired') {
      acquisitions++;
      if (current !== undefined && current.owner !== owner) {
        if (killed.has(current.pid)) {
          takeovers++;
        } else {
          superseded.set(current.owner, violations.length);
          violations.push({
            kind: 'two-holders',
            key,
            line,
            message:
              `lock ${key}: ${owner} (pid ${e.pid}) acquired at line ${line} while ${current.owner} ` +
              `(pid ${current.pid}, acquired at line ${current.line}, not killed) had not released or lost it`,
          });
        }
      }
      holders.set(key, { owner, pid: e.pid, line });
      return;
    }
    // releasing / lost
    if (current === undefined || current.owner !== owner) {
      // "lost" by a holder that was superseded is the lock working; "releasing" of a lock
      // someone else holds means the releaser did not notice it lost the lock.
      const reported = superseded.get(owner);
      if (reported !== undefined) {
        // Say how the superseded holder ended: a late `lost` means it noticed, but only after
        // the other had taken the lock; a `releasing` means it never noticed at all.
        const v = violations[reported]!;
        violations[reported] = { ...v, message: `${v.message}; it wrote ${e.event} at line ${line}` };
        superseded.delete(owner);
        return;
      }
      if (e.event === 'releasing') {
        violations.push({
          kind: 'release-not-held',
          key,
          line,
          message:
            `lock ${key}: ${owner} (pid ${e.pid}) released at line ${line} a lock it did not hold` +
            (current ? ` (held by ${current.owner}, pid ${current.pid}, since line ${current.line})` : ''),
        });
      }
      return;
    }
    holders.delete(key);
  });
  return {
    recorded: events > 0,
    events,
    acquisitions,
    keys: keys.size,
    takeoversFromKilled: takeovers,
    violations,
  };
}
