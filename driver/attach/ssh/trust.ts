import type { HostKey } from '../../core/records.js';
import { HostUntrustedError } from './errors.js';
import { checkKnownHosts, fingerprint, knownHostsName, type KnownHostVerdict } from './known-hosts.js';
import type { SshPlan } from './plan.js';

/** What this machine's known_hosts files say about the key a host record names. */
export async function localVerdict(plan: SshPlan, key: HostKey): Promise<KnownHostVerdict> {
  return checkKnownHosts(
    await plan.knownHosts.entries(),
    plan.keyHost,
    plan.keyPort,
    Buffer.from(key.key, 'base64'),
  );
}

/**
 * Throws HOST_UNTRUSTED unless this machine's known_hosts files list `key` for the host: a record
 * on the export can name any address and any key, so only the local side can vouch for it. The
 * fingerprint shown is computed from the key itself, never taken from the record.
 */
export async function vouchFor(name: string, plan: SshPlan, key: HostKey): Promise<void> {
  const verdict = await localVerdict(plan, key);
  if (verdict.status === 'match') return;
  const label = knownHostsName(plan.keyHost, plan.keyPort);
  const why =
    verdict.status === 'unknown'
      ? `is not in ${plan.knownHosts.path} or the system known_hosts`
      : verdict.status === 'revoked'
        ? 'is marked @revoked in known_hosts'
        : `differs from the key known_hosts lists for it (${verdict.expected.join(', ')})`;
  throw new HostUntrustedError(name, fingerprint(Buffer.from(key.key, 'base64')), label, why);
}
