// What each CLI process was told, as the harness recorded it, and what that says about each
// volume. The checker compares these claims with the final state of the export and the hosts.
import type { OpKind } from './schedule.js';

export interface CommandRecord {
  /** Order of starting, over the whole run. */
  readonly id: number;
  /** `w3` for worker 3; `rerun` for a killed command run again at the end; `final` for the last sync. */
  readonly actor: string;
  readonly kind: OpKind;
  /** CLI arguments as given (without the global `--json` and `--config`). */
  readonly args: readonly string[];
  readonly clockShift?: string;
  /** Milliseconds from the start of the run (this machine's monotonic clock). */
  readonly startedMs: number;
  readonly endedMs: number;
  readonly pid?: number;
  /** Exit status; null when a signal ended it. */
  readonly exitCode: number | null;
  readonly signal?: string;
  /** The harness SIGKILLed it: what it did is unknown, and it is run again at the end. */
  readonly killed: boolean;
  /** It was killed because it ran past the soak's per-command limit. */
  readonly timedOut?: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** The id of the killed command this one re-runs. */
  readonly rerunOf?: number;
}

/** What one command says happened to one volume. */
export type VolumeClaim =
  | 'created' // this command made it (it exists after the command's start)
  | 'exists' // it existed during the command
  | 'removed' // this command removed it
  | 'absent' // it did not exist during the command (rm: NOT_FOUND)
  | 'refused' // rm refused (in use): no effect
  | 'unknown'; // failed, killed or unparsable: may or may not have taken effect

export interface VolumeEffect {
  readonly volume: string;
  readonly claim: VolumeClaim;
  /** rm: the policy it reports it applied, and where archive put the data. */
  readonly policy?: string;
  readonly archivedAs?: string;
  /** create: the policy the command asked for. */
  readonly requestedPolicy?: string;
  readonly errorCode?: string;
  /** rm failed past the hosts: it says the volume stays marked `removing` for the next rm. */
  readonly leftRemoving?: true;
}

interface JsonVolumeOutcome {
  readonly name?: unknown;
  readonly status?: unknown;
  readonly policy?: unknown;
  readonly archivedAs?: unknown;
  readonly state?: unknown;
  readonly error?: { readonly code?: unknown };
}

export function parseJson(stdout: string): unknown {
  const text = stdout.trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The volume names a create or rm was given. */
export function namesOf(c: Pick<CommandRecord, 'kind' | 'args'>): string[] {
  if (c.kind === 'create' || c.kind === 'rm') {
    const out: string[] = [];
    for (let i = 2; i < c.args.length; i++) {
      const a = c.args[i]!;
      if (a.startsWith('--')) {
        i++; // every option the soak passes to create/rm takes a value
        continue;
      }
      out.push(a);
    }
    return out;
  }
  if (c.kind === 'mount' || c.kind === 'unmount') return c.args[2] === undefined ? [] : [c.args[2]];
  return [];
}

export function optionOf(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

/** What a create or rm says about each volume it was given. */
export function volumeEffects(c: CommandRecord): VolumeEffect[] {
  if (c.kind !== 'create' && c.kind !== 'rm') return [];
  const names = namesOf(c);
  const requestedPolicy = c.kind === 'create' ? (optionOf(c.args, '--on-delete') ?? 'retain') : undefined;
  const extra = requestedPolicy ? { requestedPolicy } : {};
  const json = c.killed ? undefined : parseJson(c.stdout);
  const outcomes =
    typeof json === 'object' && json !== null && Array.isArray((json as { volumes?: unknown }).volumes)
      ? ((json as { volumes: JsonVolumeOutcome[] }).volumes ?? [])
      : undefined;
  return names.map((volume): VolumeEffect => {
    const o = outcomes?.find((v) => v.name === volume);
    if (o === undefined) return { volume, claim: 'unknown', ...extra };
    const errorCode = typeof o.error?.code === 'string' ? o.error.code : undefined;
    const err = errorCode ? { errorCode } : {};
    switch (o.status) {
      case 'created':
        return { volume, claim: 'created', ...extra };
      case 'exists':
        return { volume, claim: 'exists', ...extra };
      case 'removed':
        return {
          volume,
          claim: 'removed',
          ...(typeof o.policy === 'string' ? { policy: o.policy } : {}),
          ...(typeof o.archivedAs === 'string' ? { archivedAs: o.archivedAs } : {}),
        };
      case 'refused':
        return { volume, claim: 'refused', ...err };
      case 'failed':
        // A removal of a volume with no record did nothing; an interrupted one was never started.
        if (errorCode === 'NOT_FOUND') return { volume, claim: 'absent', ...err };
        return {
          volume,
          claim: 'unknown',
          ...extra,
          ...err,
          ...(o.state === 'removing' ? { leftRemoving: true as const } : {}),
        };
      default:
        return { volume, claim: 'unknown', ...extra, ...err };
    }
  });
}

/** A mount or unmount that exited 0 and printed its mount record. */
export function mountClaim(
  c: CommandRecord,
): { readonly volume: string; readonly host: string; readonly path: string } | undefined {
  if ((c.kind !== 'mount' && c.kind !== 'unmount') || c.killed || c.exitCode !== 0) return undefined;
  const json = parseJson(c.stdout) as { volume?: unknown; host?: unknown; path?: unknown } | undefined;
  if (typeof json?.volume !== 'string' || typeof json.host !== 'string' || typeof json.path !== 'string')
    return undefined;
  return { volume: json.volume, host: json.host, path: json.path };
}

/** One line naming a command for a violation report. */
export function describeCommand(c: CommandRecord): string {
  const shift = c.clockShift ? ` [clock ${c.clockShift}]` : '';
  const how = c.killed ? 'SIGKILLed' : `exit ${c.exitCode ?? c.signal ?? '?'}`;
  return (
    `#${c.id} ${c.actor} \`nfsvol ${c.args.join(' ')}\`${shift} ` +
    `t=${(c.startedMs / 1000).toFixed(1)}-${(c.endedMs / 1000).toFixed(1)}s ${how}`
  );
}
