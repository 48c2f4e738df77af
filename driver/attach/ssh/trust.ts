import type { HostKey } from '../../core/records.js';
import { HostUntrustedError } from './errors.js';
import {
  checkKnownHosts,
  fingerprint,
  keyTypeOf,
  knownHostsName,
  type KnownHostVerdict,
} from './known-hosts.js';
import { checkHostCertificates, hasCertAuthority, scanHostCertificates } from './host-certificate.js';
import type { SshPlan } from './plan.js';

/**
 * What this machine's known_hosts files say about the key a host record names: a plain key
 * line, or else a host certificate for that key signed by a CA an `@cert-authority` line lists.
 */
export async function localVerdict(plan: SshPlan, key: HostKey): Promise<KnownHostVerdict> {
  const entries = await plan.knownHosts.entries();
  const blob = Buffer.from(key.key, 'base64');
  const verdict = checkKnownHosts(entries, plan.keyHost, plan.keyPort, blob);
  if (verdict.status !== 'unknown' || !hasCertAuthority(entries, plan.keyHost, plan.keyPort)) return verdict;
  const certs = await certificatesOf(plan)(keyTypeOf(blob));
  const byCa = checkHostCertificates(entries, plan.keyHost, plan.keyPort, blob, certs);
  return byCa.status === 'match' ? { status: 'match' } : verdict;
}

/**
 * How to ask a host for its certificates: `ssh-keyscan -c` to its address. Not through a
 * bastion (ssh-keyscan has no ProxyJump): such a host needs a plain key line.
 */
export function certificatesOf(plan: SshPlan): (keyType: string) => Promise<Buffer[]> {
  return (keyType) =>
    plan.jump ? Promise.resolve([]) : scanHostCertificates(plan.target.host, plan.target.port ?? 22, keyType);
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
