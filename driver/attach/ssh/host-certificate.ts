import { execFile } from 'node:child_process';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { entryMatches, type KnownHostEntry } from './known-hosts.js';

/*
 * OpenSSH host certificates (PROTOCOL.certkeys), checked against `@cert-authority` lines of
 * known_hosts. The SSH library cannot negotiate certificate host keys, so its connection sees
 * the host's plain key; the certificate comes from a second, unauthenticated connection
 * (`ssh-keyscan -c`). That is enough: a certificate is believed only if a listed CA signed it,
 * and it vouches only for the very key the real connection presented, whose private half the
 * host proved it has during key exchange. A forged or foreign certificate certifies nothing.
 */

const CERT_TYPES: ReadonlyMap<string, string> = new Map([
  ['ssh-ed25519-cert-v01@openssh.com', 'ssh-ed25519'],
  ['ssh-rsa-cert-v01@openssh.com', 'ssh-rsa'],
  ['ecdsa-sha2-nistp256-cert-v01@openssh.com', 'ecdsa-sha2-nistp256'],
  ['ecdsa-sha2-nistp384-cert-v01@openssh.com', 'ecdsa-sha2-nistp384'],
  ['ecdsa-sha2-nistp521-cert-v01@openssh.com', 'ecdsa-sha2-nistp521'],
]);
const SSH_CERT_TYPE_HOST = 2;

export interface HostCertificate {
  /** The plain public key blob the certificate certifies. */
  readonly key: Buffer;
  readonly serial: bigint;
  readonly keyId: string;
  readonly principals: readonly string[];
  /** Seconds since the epoch; `validBefore` 2^64-1 means forever. */
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly criticalOptions: Buffer;
  /** The CA's public key blob. */
  readonly signatureKey: Buffer;
  readonly signature: Buffer;
  /** Everything the signature covers. */
  readonly signed: Buffer;
}

class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  u32(): number {
    if (this.at + 4 > this.buf.length) throw new Error('truncated certificate');
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  u64(): bigint {
    if (this.at + 8 > this.buf.length) throw new Error('truncated certificate');
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return v;
  }
  bytes(): Buffer {
    const n = this.u32();
    if (this.at + n > this.buf.length) throw new Error('truncated certificate');
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  get offset(): number {
    return this.at;
  }
  get done(): boolean {
    return this.at === this.buf.length;
  }
}

const sshString = (b: Buffer | string): Buffer => {
  const data = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
};

/** Parses a host or user certificate blob; throws on anything malformed. */
export function parseCertificate(blob: Buffer): HostCertificate & { readonly certType: number } {
  const r = new Reader(blob);
  const type = r.bytes().toString('latin1');
  const plain = CERT_TYPES.get(type);
  if (!plain) throw new Error(`not a supported certificate type: ${type.slice(0, 64)}`);
  r.bytes(); // nonce
  let key: Buffer;
  if (plain === 'ssh-ed25519') key = Buffer.concat([sshString(plain), sshString(r.bytes())]);
  else if (plain === 'ssh-rsa') {
    const e = r.bytes();
    const n = r.bytes();
    key = Buffer.concat([sshString(plain), sshString(e), sshString(n)]);
  } else {
    const curve = r.bytes();
    const q = r.bytes();
    key = Buffer.concat([sshString(plain), sshString(curve), sshString(q)]);
  }
  const serial = r.u64();
  const certType = r.u32();
  const keyId = r.bytes().toString('utf8');
  const principalsBlob = new Reader(r.bytes());
  const principals: string[] = [];
  while (!principalsBlob.done) principals.push(principalsBlob.bytes().toString('utf8'));
  const validAfter = r.u64();
  const validBefore = r.u64();
  const criticalOptions = r.bytes();
  r.bytes(); // extensions
  r.bytes(); // reserved
  const signatureKey = r.bytes();
  const signedEnd = r.offset;
  const signature = r.bytes();
  if (!r.done) throw new Error('trailing bytes after the certificate');
  return {
    key,
    serial,
    certType,
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions,
    signatureKey,
    signature,
    signed: blob.subarray(0, signedEnd),
  };
}

const b64url = (b: Buffer): string => b.toString('base64url');
/** An mpint without the sign byte that SSH adds to a positive number with a high bit set. */
const unsigned = (b: Buffer): Buffer => (b.length > 1 && b[0] === 0 ? b.subarray(1) : b);

/** A CA public key blob as a Node key, with the digest its signatures use. */
function caKey(blob: Buffer): { key: KeyObject; type: string } {
  const r = new Reader(blob);
  const type = r.bytes().toString('latin1');
  if (type === 'ssh-ed25519') {
    return {
      type,
      key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(r.bytes()) }, format: 'jwk' }),
    };
  }
  if (type === 'ssh-rsa') {
    const e = unsigned(r.bytes());
    const n = unsigned(r.bytes());
    return { type, key: createPublicKey({ key: { kty: 'RSA', e: b64url(e), n: b64url(n) }, format: 'jwk' }) };
  }
  throw new Error(`CA key type ${type.slice(0, 64)} is not supported (use an ed25519 or RSA CA)`);
}

/** Whether the CA key blob signed `cert` (its signature checked with Node's crypto). */
export function signedBy(cert: HostCertificate, ca: Buffer): boolean {
  if (!cert.signatureKey.equals(ca)) return false;
  const { key, type } = caKey(ca);
  const sig = new Reader(cert.signature);
  const alg = sig.bytes().toString('latin1');
  const bytes = sig.bytes();
  if (type === 'ssh-ed25519' && alg === 'ssh-ed25519') return verify(null, cert.signed, key, bytes);
  if (type === 'ssh-rsa' && alg === 'rsa-sha2-256') return verify('sha256', cert.signed, key, bytes);
  if (type === 'ssh-rsa' && alg === 'rsa-sha2-512') return verify('sha512', cert.signed, key, bytes);
  return false; // ssh-rsa (SHA-1) signatures are refused, as OpenSSH refuses them
}

/** Whether a `@cert-authority` line applies to host:port (so its certificates are worth asking for). */
export function hasCertAuthority(entries: readonly KnownHostEntry[], host: string, port: number): boolean {
  return entries.some((e) => e.marker === 'cert-authority' && entryMatches(e, host, port));
}

export type CertificateVerdict =
  | { readonly status: 'match'; readonly ca: string; readonly keyId: string }
  | { readonly status: 'no-ca' }
  | { readonly status: 'invalid'; readonly why: string };

/**
 * Whether `certs` (as `ssh-keyscan -c` found them) hold a host certificate for `presented`,
 * valid now for `host`, signed by a CA that a matching `@cert-authority` line lists.
 */
export function checkHostCertificates(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  presented: Buffer,
  certs: readonly Buffer[],
  now: Date = new Date(),
): CertificateVerdict {
  const cas = entries.filter((e) => e.marker === 'cert-authority' && entryMatches(e, host, port));
  if (cas.length === 0) return { status: 'no-ca' };
  const seconds = BigInt(Math.floor(now.getTime() / 1000));
  let why = 'the host offered no certificate';
  for (const blob of certs) {
    let cert: ReturnType<typeof parseCertificate>;
    try {
      cert = parseCertificate(blob);
    } catch (err) {
      why = `its certificate is malformed (${(err as Error).message})`;
      continue;
    }
    if (!cert.key.equals(presented)) {
      why = 'its certificate is for another key than the one it presented';
      continue;
    }
    if (cert.certType !== SSH_CERT_TYPE_HOST) {
      why = 'its certificate is not a host certificate';
      continue;
    }
    // An empty principal list is a wildcard to OpenSSH for host certificates; refused here, as
    // ssh does by default for hosts.
    if (!cert.principals.some((p) => p.toLowerCase() === host.toLowerCase())) {
      why = `its certificate names ${cert.principals.join(', ') || 'no host'}, not ${host}`;
      continue;
    }
    if (seconds < cert.validAfter || seconds >= cert.validBefore) {
      why = 'its certificate is not valid now';
      continue;
    }
    if (cert.criticalOptions.length > 0) {
      why = 'its certificate has critical options nfsvol does not understand';
      continue;
    }
    const ca = cas.find((e) => {
      try {
        return signedBy(cert, Buffer.from(e.key, 'base64'));
      } catch {
        return false;
      }
    });
    if (!ca) {
      why = 'its certificate is not signed by a CA that known_hosts lists for it';
      continue;
    }
    return { status: 'match', ca: `known_hosts line ${ca.line}`, keyId: cert.keyId };
  }
  return { status: 'invalid', why };
}

const run = promisify(execFile);

/** ssh-keyscan's `-t` for a plain key type. */
const SCAN_TYPES: ReadonlyMap<string, string> = new Map([
  ['ssh-ed25519', 'ed25519'],
  ['ssh-rsa', 'rsa'],
  ['ecdsa-sha2-nistp256', 'ecdsa'],
  ['ecdsa-sha2-nistp384', 'ecdsa'],
  ['ecdsa-sha2-nistp521', 'ecdsa'],
]);

/** One scan per address, port and key type for the life of the process. */
const scans = new Map<string, Promise<Buffer[]>>();

/**
 * The host certificates a host offers for one key type, fetched with OpenSSH's `ssh-keyscan -c`
 * (argv, no shell; bounded time and output), once per process. Nothing when ssh-keyscan is
 * missing or the host offers none.
 */
export function scanHostCertificates(
  address: string,
  port: number,
  keyType = 'ssh-ed25519',
): Promise<Buffer[]> {
  const t = SCAN_TYPES.get(keyType);
  // ssh-keyscan takes no `--`: an address that would read as an option is not asked.
  if (address.startsWith('-') || t === undefined) return Promise.resolve([]);
  const key = `${address} ${port} ${t}`;
  let p = scans.get(key);
  if (!p) {
    // Nothing found may be a transient failure: only certificates are remembered.
    p = scan(address, port, t).then((certs) => {
      if (certs.length === 0) scans.delete(key);
      return certs;
    });
    scans.set(key, p);
  }
  return p;
}

async function scan(address: string, port: number, type: string): Promise<Buffer[]> {
  try {
    const { stdout } = await run('ssh-keyscan', ['-c', '-t', type, '-T', '20', '-p', String(port), address], {
      timeout: 30_000,
      maxBuffer: 256 * 1024,
    });
    // `TYPE BASE64` per certificate (OpenSSH 9 prints no host name before it with -c).
    const out: Buffer[] = [];
    for (const line of stdout.split('\n')) {
      if (line.startsWith('#')) continue;
      const f = line.trim().split(/\s+/);
      const at = f.findIndex((x) => CERT_TYPES.has(x));
      const b64 = at >= 0 ? f[at + 1] : undefined;
      if (b64 && /^[A-Za-z0-9+/]+=*$/.test(b64)) out.push(Buffer.from(b64, 'base64'));
    }
    return out;
  } catch {
    return [];
  }
}
