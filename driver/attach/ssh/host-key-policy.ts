import { HostKeyMismatchError, HostKeyUnknownError } from './errors.js';
import type { KnownHostsSource } from './known-hosts.js';
import { checkKnownHosts, fingerprint, hostKeyOf, keyTypeOf } from './known-hosts.js';
import { checkHostCertificates, hasCertAuthority } from './host-certificate.js';
import type { HostKey } from '../../core/records.js';

/* Which host keys a connection accepts: the one pinned in the registry, or OpenSSH's known_hosts rules. */

/** Decides whether a presented host key blob is acceptable; throws a typed error if not. */
export type HostKeyVerifier = (keyBlob: Buffer) => Promise<void>;

/** Accepts only the key pinned in the registry when the host was added. */
export function pinnedKeyVerifier(host: string, pinned: HostKey): HostKeyVerifier {
  return async (blob) => {
    if (blob.toString('base64') !== pinned.key) {
      throw new HostKeyMismatchError(host, fingerprint(Buffer.from(pinned.key, 'base64')), fingerprint(blob));
    }
  };
}

export interface KnownHostsVerifierOptions {
  readonly file: KnownHostsSource;
  readonly host: string;
  readonly port: number;
  /** Pin an unknown key by appending it to the file. @default false */
  readonly acceptNew?: boolean;
  /** Called with the accepted key (known or newly pinned). */
  readonly onAccepted?: (key: HostKey) => void;
  /**
   * The host certificates the host offers (`ssh-keyscan -c`), asked only when known_hosts lists
   * no key for the host but a `@cert-authority` line matches it. @default none
   */
  readonly certificates?: (keyType: string) => Promise<Buffer[]>;
}

/** OpenSSH's rules: a listed key passes, a different key for a listed host fails, an unlisted host needs acceptNew. */
export function knownHostsVerifier(options: KnownHostsVerifierOptions): HostKeyVerifier {
  return async (blob) => {
    const label = options.port === 22 ? options.host : `${options.host}:${options.port}`;
    const entries = await options.file.entries();
    let verdict = checkKnownHosts(entries, options.host, options.port, blob);
    if (
      verdict.status === 'unknown' &&
      options.certificates &&
      hasCertAuthority(entries, options.host, options.port)
    ) {
      const certs = await options.certificates(keyTypeOf(blob));
      const byCa = checkHostCertificates(entries, options.host, options.port, blob, certs);
      if (byCa.status === 'match') verdict = { status: 'match' };
    }
    switch (verdict.status) {
      case 'match':
        break;
      case 'revoked':
        throw new HostKeyMismatchError(label, 'a key that is not revoked', `${fingerprint(blob)} (revoked)`);
      case 'mismatch':
        throw new HostKeyMismatchError(label, verdict.expected.join(' or '), fingerprint(blob));
      case 'unknown':
        if (!options.acceptNew) throw new HostKeyUnknownError(label, fingerprint(blob), options.file.path);
        await options.file.add(options.host, options.port, blob);
        break;
    }
    options.onAccepted?.(hostKeyOf(blob));
  };
}
