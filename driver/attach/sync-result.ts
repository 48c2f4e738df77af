import type { ErrorInfo } from '../common/events.js';

/** What happened on one host. `ok` is false when the host failed or an item on it did. */
export interface HostSyncResult {
  readonly host: string;
  readonly ok: boolean;
  /** The host could not be reached or did not answer: everything is pending. */
  readonly unreachable: boolean;
  readonly defined: readonly string[];
  readonly removed: readonly string[];
  /** Definitions replaced because their options had changed (the volume was not in use). */
  readonly redefined: readonly string[];
  /** Definitions whose options differ from the volume's and could not be replaced (in use): owed. */
  readonly drifted: readonly { readonly volume: string; readonly drift: readonly string[] }[];
  /** Same-named Docker volumes nfsvol did not make; left alone. */
  readonly conflicts: readonly string[];
  readonly failed: readonly { readonly volume: string; readonly error: ErrorInfo }[];
  readonly error?: ErrorInfo;
}

export interface SyncReport {
  readonly hosts: readonly HostSyncResult[];
  /** Every host succeeded. */
  readonly ok: boolean;
}

/** The result for a host that could not be worked on at all. */
export function unreachableResult(host: string, error: ErrorInfo): HostSyncResult {
  return { ...emptyResult(host), ok: false, unreachable: true, error };
}

/** A host result with nothing done yet. */
export function emptyResult(host: string): HostSyncResult {
  return {
    host,
    ok: true,
    unreachable: false,
    defined: [],
    removed: [],
    redefined: [],
    drifted: [],
    conflicts: [],
    failed: [],
  };
}

/** One progress line for a host's result. */
export function describeResult(r: HostSyncResult): string {
  if (r.unreachable)
    return `failed: ${r.error?.message ?? 'unreachable'} (${r.error?.code ?? 'ERROR'}); recorded as pending`;
  const parts = [`${r.defined.length} defined`, `${r.removed.length} removed`];
  if (r.drifted.length > 0) parts.push(`${r.drifted.length} drifted`);
  if (r.failed.length > 0) parts.push(`${r.failed.length} failed`);
  return `${r.ok ? 'ok' : 'partly done'}: ${parts.join(', ')}`;
}
