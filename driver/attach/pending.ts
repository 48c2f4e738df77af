import { withRetry } from '../common/retry.js';
import { SCHEMA_VERSION, type PendingOperation, type PendingRecord } from '../core/records.js';
import { IncompleteRecordError } from '../core/registry/errors.js';
import type { ClusterContext } from './cluster-context.js';
import type { HostSyncResult } from './sync-result.js';

/*
 * The pending-work ledger: what each host owes (definitions to make or remove, a sync), kept on
 * the export as one record per host, so work a host missed while unreachable is finished by a
 * later sync from any machine.
 */

/** Identifies a pending operation: one per kind and volume, a newer one replacing the older. */
function opKey(op: PendingOperation): string {
  return `${op.op}:${op.volume ?? ''}`;
}

/** Records what a host owes after a failed operation (merged with what it already owed). */
export async function recordPending(
  ctx: ClusterContext,
  host: string,
  operations: readonly PendingOperation[],
  reason: string,
): Promise<void> {
  const reg = ctx.registry;
  await reg.withLock(`pending-${host}`, async (lease) => {
    // A record that cannot be read is read again, then fails the command: replacing it would
    // drop what it owes.
    const existing = await withRetry(() => reg.pending.tryGet(host), {
      retries: 3,
      minTimeoutMs: 100,
      maxTimeoutMs: 1_000,
    }).catch((err: unknown) => {
      if (err instanceof IncompleteRecordError) return undefined;
      throw err;
    });
    lease.assertHeld();
    const merged = new Map<string, PendingOperation>();
    for (const op of [...(existing?.operations ?? []), ...operations]) merged.set(opKey(op), op);
    await reg.pending.replace(host, {
      schema: SCHEMA_VERSION,
      kind: 'pending',
      host,
      since: existing?.since ?? reg.isoNow(),
      updatedAt: reg.isoNow(),
      reason,
      operations: [...merged.values()],
    });
  });
}

/**
 * Clears what a host owed, once a full reconcile that started after `seen` was read has
 * succeeded: only the operations in `seen` go; any added meanwhile (by a command that ran
 * while the reconcile did) stay for the next sync. Without `seen`, everything goes.
 */
export async function clearPending(ctx: ClusterContext, host: string, seen?: PendingRecord): Promise<void> {
  const reg = ctx.registry;
  await reg.withLock(`pending-${host}`, async (lease) => {
    const now = await reg.pending.tryGet(host).catch((err: unknown) => {
      if (err instanceof IncompleteRecordError) return undefined;
      throw err;
    });
    if (!now) return;
    const done = new Set((seen?.operations ?? now.operations).map(opKey));
    const left = seen ? now.operations.filter((op) => !done.has(opKey(op))) : [];
    lease.assertHeld();
    if (left.length === 0) await reg.pending.remove(host);
    else await reg.pending.replace(host, { ...now, updatedAt: reg.isoNow(), operations: left });
  });
}

/** Turns a host result into the pending operations it leaves behind. */
export function pendingOpsOf(
  result: HostSyncResult,
  intended: readonly PendingOperation[],
): PendingOperation[] {
  if (result.unreachable) return [...intended];
  const failedVolumes = new Set(result.failed.map((f) => f.volume));
  return intended.filter((op) => op.volume === undefined || failedVolumes.has(op.volume));
}

/** After a full reconcile: clear pending on success, record it on failure. */
export async function settlePending(
  ctx: ClusterContext,
  host: string,
  result: HostSyncResult,
  intended: readonly PendingOperation[],
  fullReconcile = true,
  /** For a full reconcile: the pending record as it was before the reconcile started. */
  seen?: PendingRecord,
): Promise<void> {
  if (result.ok && fullReconcile) {
    await clearPending(ctx, host, seen);
    return;
  }
  const ops = result.unreachable
    ? intended
    : [
        ...pendingOpsOf(result, intended),
        ...result.failed.map((f) => ({ op: 'sync' as const, volume: f.volume })),
      ];
  if (ops.length > 0) {
    await recordPending(
      ctx,
      host,
      ops,
      result.error?.message ?? `${result.failed.length} operation(s) failed`,
    );
  }
}

/** What a host owes when it owes nothing. */
export function emptyPending(host: string): PendingRecord {
  return {
    schema: SCHEMA_VERSION,
    kind: 'pending',
    host,
    since: '',
    updatedAt: '',
    reason: '',
    operations: [],
  };
}
