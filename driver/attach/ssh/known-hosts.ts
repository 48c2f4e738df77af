import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { HostKey } from '../../core/records.js';

/** One usable line of a known_hosts file (comments, blanks and malformed lines are skipped). */
export interface KnownHostEntry {
  readonly marker?: 'cert-authority' | 'revoked';
  /** Plain patterns (`host`, `[host]:port`, `*.lan`, `!bad`), or undefined for a hashed entry. */
  readonly patterns?: readonly string[];
  /** `|1|salt|hash` entries: HMAC-SHA1 of the host name keyed with the salt. */
  readonly hashed?: { readonly salt: Buffer; readonly hash: Buffer };
  readonly type: string;
  /** Base64 of the key blob. */
  readonly key: string;
  readonly line: number;
}

/**
 * The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise, always in lower case
 * (ssh lowercases the host name before it hashes or matches it, so `Web1.LAN` and `web1.lan`
 * are one host; a hashed entry written by ssh for either must be found for both).
 */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** `|1|salt|hash` for a host name, as `HashKnownHosts yes` writes it. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -lf` prints it. */
export function fingerprint(keyBlob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type string that opens an SSH public key blob (RFC 4253 section 6.6). */
export function keyTypeOf(keyBlob: Uint8Array): string {
  if (keyBlob.length < 4) return 'unknown';
  const len = Buffer.from(keyBlob).readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > keyBlob.length) return 'unknown';
  const type = Buffer.from(keyBlob.subarray(4, 4 + len)).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : 'unknown';
}

export function hostKeyOf(keyBlob: Uint8Array): HostKey {
  return {
    type: keyTypeOf(keyBlob),
    key: Buffer.from(keyBlob).toString('base64'),
    fingerprint: fingerprint(keyBlob),
  };
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return;
    }
    const [hosts, type, key] = fields;
    if (!hosts || !type || !key || !/^[A-Za-z0-9+/]+=*$/.test(key)) return;
    const base = { ...(marker ? { marker } : {}), type, key, line: i + 1 };
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) return;
      entries.push({
        ...base,
        hashed: { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') },
      });
    } else {
      entries.push({ ...base, patterns: hosts.split(',') });
    }
  });
  return entries;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return re.test(name);
}

export function entryMatches(entry: KnownHostEntry, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (entry.hashed) {
    const digest = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return digest.length === entry.hashed.hash.length && timingSafeEqual(digest, entry.hashed.hash);
  }
  let matched = false;
  for (const p of entry.patterns ?? []) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) {
      matched = true;
    }
  }
  return matched;
}

export type KnownHostVerdict =
  | { readonly status: 'match' }
  | { readonly status: 'unknown' }
  | { readonly status: 'revoked' }
  | { readonly status: 'mismatch'; readonly expected: readonly string[] };

/** What known_hosts says about `keyBlob` presented by host:port. */
export function checkKnownHosts(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  keyBlob: Uint8Array,
): KnownHostVerdict {
  const key = Buffer.from(keyBlob).toString('base64');
  if (entries.some((e) => e.marker === 'revoked' && e.key === key)) return { status: 'revoked' };
  const mine = entries.filter((e) => e.marker === undefined && entryMatches(e, host, port));
  if (mine.some((e) => e.key === key)) return { status: 'match' };
  if (mine.length === 0) return { status: 'unknown' };
  return { status: 'mismatch', expected: mine.map((e) => fingerprint(Buffer.from(e.key, 'base64'))) };
}

/** Where known_hosts entries are read from and new ones written to. */
export interface KnownHostsSource {
  /** The file new keys are added to (named in messages). */
  readonly path: string;
  entries(): Promise<KnownHostEntry[]>;
  add(host: string, port: number, keyBlob: Uint8Array): Promise<void>;
}

export interface KnownHostsFileOptions {
  /** Write hashed names (`HashKnownHosts yes`). @default false */
  readonly hash?: boolean;
}

/** A known_hosts file on disk. A missing file is an empty one. */
export class KnownHostsFile implements KnownHostsSource {
  constructor(
    readonly path: string,
    private readonly options: KnownHostsFileOptions = {},
  ) {}

  async entries(): Promise<KnownHostEntry[]> {
    try {
      return parseKnownHosts(await readFile(this.path, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /** Appends a line for host:port (hashed if so configured), creating the file (0600) if needed. */
  async add(host: string, port: number, keyBlob: Uint8Array): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    let prefix = '';
    try {
      const text = await readFile(this.path, 'utf8');
      if (text.length > 0 && !text.endsWith('\n')) prefix = '\n';
    } catch {
      // absent: created below
    }
    const name = knownHostsName(host, port);
    const line = `${this.options.hash ? hashHostName(name) : name} ${keyTypeOf(keyBlob)} ${Buffer.from(keyBlob).toString('base64')}\n`;
    await appendFile(this.path, prefix + line, { mode: 0o600 });
  }
}

/**
 * The user's known_hosts files (new keys go to the first) and the system-wide ones (read only),
 * searched together as OpenSSH does: a key listed in any of them is known.
 */
export class KnownHostsStore implements KnownHostsSource {
  private readonly primary: KnownHostsFile;
  private readonly files: readonly KnownHostsFile[];

  constructor(
    primary: string,
    others: readonly string[] = [],
    globalFiles: readonly string[] = [],
    options: KnownHostsFileOptions = {},
  ) {
    this.primary = new KnownHostsFile(primary, options);
    this.files = [this.primary, ...[...others, ...globalFiles].map((f) => new KnownHostsFile(f))];
  }

  get path(): string {
    return this.primary.path;
  }

  async entries(): Promise<KnownHostEntry[]> {
    const all = await Promise.all(this.files.map((f) => f.entries()));
    return all.flat();
  }

  add(host: string, port: number, keyBlob: Uint8Array): Promise<void> {
    return this.primary.add(host, port, keyBlob);
  }
}
