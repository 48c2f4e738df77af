import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostKeyMismatchError, HostKeyUnknownError } from '../../../driver/attach/ssh/errors.js';
import {
  KnownHostsFile,
  KnownHostsStore,
  checkKnownHosts,
  fingerprint,
  keyTypeOf,
  knownHostsName,
  parseKnownHosts,
} from '../../../driver/attach/ssh/known-hosts.js';
import { knownHostsVerifier, pinnedKeyVerifier } from '../../../driver/attach/ssh/host-key-policy.js';
import { fakeKeyBlob } from '../../fakes/fake-host.js';

const keyA = fakeKeyBlob('A');
const keyB = fakeKeyBlob('B');
const b64 = (b: Buffer): string => b.toString('base64');

function hashedName(name: string): string {
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

describe('known_hosts', () => {
  it('names hosts like OpenSSH', () => {
    expect(knownHostsName('h', 22)).toBe('h');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('fingerprints like ssh-keygen -l (SHA256, base64 without padding)', () => {
    expect(fingerprint(keyA)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(keyTypeOf(keyA)).toBe('ssh-ed25519');
    expect(keyTypeOf(Buffer.from([0, 0, 0]))).toBe('unknown');
    expect(keyTypeOf(Buffer.from([0xff, 0xff, 0xff, 0xff, 1]))).toBe('unknown');
  });

  it('parses plain, [host]:port, hashed, markers, comments and skips garbage', () => {
    const text = [
      '# comment',
      '',
      `web1,10.0.0.1 ssh-ed25519 ${b64(keyA)} comment here`,
      `[127.0.0.1]:2222 ssh-ed25519 ${b64(keyA)}`,
      `${hashedName('[127.0.0.1]:2223')} ssh-ed25519 ${b64(keyB)}`,
      `@revoked * ssh-ed25519 ${b64(fakeKeyBlob('revoked'))}`,
      `@cert-authority *.lan ssh-ed25519 ${b64(keyB)}`,
      'garbage line',
      `host ssh-ed25519 not*base64`,
      '@bogus-marker h ssh-ed25519 AAAA',
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries).toHaveLength(5);
    expect(checkKnownHosts(entries, 'web1', 22, keyA).status).toBe('match');
    expect(checkKnownHosts(entries, '10.0.0.1', 22, keyA).status).toBe('match');
    expect(checkKnownHosts(entries, '127.0.0.1', 2222, keyA).status).toBe('match');
    expect(checkKnownHosts(entries, '127.0.0.1', 2223, keyB).status).toBe('match');
    expect(checkKnownHosts(entries, '127.0.0.1', 2224, keyB).status).toBe('unknown');
    expect(checkKnownHosts(entries, 'x', 22, fakeKeyBlob('revoked')).status).toBe('revoked');
    // A cert-authority line is not a host key: it must not match a plain key.
    expect(checkKnownHosts(entries, 'a.lan', 22, keyB).status).toBe('unknown');
    const mismatch = checkKnownHosts(entries, '127.0.0.1', 2222, keyB);
    expect(mismatch).toEqual({ status: 'mismatch', expected: [fingerprint(keyA)] });
  });

  it('the port matters: a key for port 22 does not vouch for port 2222', () => {
    const entries = parseKnownHosts(`127.0.0.1 ssh-ed25519 ${b64(keyA)}`);
    expect(checkKnownHosts(entries, '127.0.0.1', 2222, keyA).status).toBe('unknown');
  });

  it('honours negated patterns and wildcards', () => {
    const entries = parseKnownHosts(`*.lan,!evil.lan ssh-ed25519 ${b64(keyA)}`);
    expect(checkKnownHosts(entries, 'web.lan', 22, keyA).status).toBe('match');
    expect(checkKnownHosts(entries, 'evil.lan', 22, keyA).status).toBe('unknown');
  });
});

describe('host key verifiers', () => {
  it('refuses an unknown key without acceptNew, pins it with acceptNew, then refuses a changed key naming both fingerprints', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-kh-'));
    const file = new KnownHostsFile(join(dir, 'sub', 'known_hosts'));
    const strict = knownHostsVerifier({ file, host: '127.0.0.1', port: 2222 });
    await expect(strict(keyA)).rejects.toBeInstanceOf(HostKeyUnknownError);

    let pinned: string | undefined;
    const accept = knownHostsVerifier({
      file,
      host: '127.0.0.1',
      port: 2222,
      acceptNew: true,
      onAccepted: (k) => (pinned = k.fingerprint),
    });
    await accept(keyA);
    expect(pinned).toBe(fingerprint(keyA));
    expect(await readFile(file.path, 'utf8')).toBe(`[127.0.0.1]:2222 ssh-ed25519 ${b64(keyA)}\n`);
    await strict(keyA);

    const err = await accept(keyB).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect((err as Error).message).toContain(fingerprint(keyA));
    expect((err as Error).message).toContain(fingerprint(keyB));
    // The changed key was not appended.
    expect((await readFile(file.path, 'utf8')).split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('appends on a new line when the file lacks a trailing newline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-kh-'));
    const path = join(dir, 'known_hosts');
    await writeFile(path, `other ssh-ed25519 ${b64(keyB)}`);
    await new KnownHostsFile(path).add('h', 22, keyA);
    expect((await readFile(path, 'utf8')).split('\n')).toEqual([
      `other ssh-ed25519 ${b64(keyB)}`,
      `h ssh-ed25519 ${b64(keyA)}`,
      '',
    ]);
  });

  it('pinnedKeyVerifier accepts only the pinned key', async () => {
    const verify = pinnedKeyVerifier('web1', {
      type: 'ssh-ed25519',
      key: b64(keyA),
      fingerprint: fingerprint(keyA),
    });
    await verify(keyA);
    await expect(verify(keyB)).rejects.toThrow(HostKeyMismatchError);
    await expect(verify(keyB)).rejects.toThrow(fingerprint(keyB));
  });
});

describe('known_hosts as OpenSSH writes and reads it', () => {
  it('a hashed entry for Web1.LAN with a changed key is a mismatch, not unknown (so it is never pinned over)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-kh-'));
    const path = join(dir, 'known_hosts');
    // ssh lowercases the name before hashing: `ssh Web1.LAN` writes web1.lan; ssh-keygen -H hashes it.
    await writeFile(path, `web1.lan ssh-ed25519 ${b64(keyA)}\n[web1.lan]:2222 ssh-ed25519 ${b64(keyA)}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', path], { stdio: 'ignore' });
    expect(await readFile(path, 'utf8')).not.toContain('web1');
    const file = new KnownHostsFile(path);
    const entries = await file.entries();
    for (const [host, port] of [
      ['Web1.LAN', 22],
      ['WEB1.lan', 2222],
    ] as const) {
      expect(checkKnownHosts(entries, host, port, keyA).status).toBe('match');
      expect(checkKnownHosts(entries, host, port, keyB)).toEqual({
        status: 'mismatch',
        expected: [fingerprint(keyA)],
      });
    }
    const accept = knownHostsVerifier({ file, host: 'Web1.LAN', port: 22, acceptNew: true });
    await expect(accept(keyB)).rejects.toBeInstanceOf(HostKeyMismatchError);
    expect((await readFile(path, 'utf8')).split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('plain names are written in lower case and match any case', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-kh-'));
    const file = new KnownHostsFile(join(dir, 'known_hosts'));
    await file.add('Web1.LAN', 2222, keyA);
    expect(await readFile(file.path, 'utf8')).toBe(`[web1.lan]:2222 ssh-ed25519 ${b64(keyA)}\n`);
    expect(checkKnownHosts(await file.entries(), 'wEb1.lan', 2222, keyB).status).toBe('mismatch');
  });

  it('with HashKnownHosts a hashed line is written that ssh-keygen -F finds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-kh-'));
    const file = new KnownHostsFile(join(dir, 'known_hosts'), { hash: true });
    await file.add('Web1.LAN', 2222, keyA);
    await file.add('10.0.0.5', 22, keyB);
    const text = await readFile(file.path, 'utf8');
    expect(text).not.toMatch(/web1|10\.0\.0\.5/i);
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .every((l) => l.startsWith('|1|')),
    ).toBe(true);
    const found = (name: string): string =>
      execFileSync('ssh-keygen', ['-F', name, '-f', file.path], { encoding: 'utf8' });
    expect(found('[web1.lan]:2222')).toContain(b64(keyA));
    expect(found('10.0.0.5')).toContain(b64(keyB));
    expect(checkKnownHosts(await file.entries(), 'WEB1.lan', 2222, keyA).status).toBe('match');
  });

  it('a store reads the user and system files and writes to the user one only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nfsvol-kh-'));
    const system = join(dir, 'ssh_known_hosts');
    await writeFile(system, `sys.lan ssh-ed25519 ${b64(keyA)}\n@revoked * ssh-ed25519 ${b64(keyB)}\n`);
    const store = new KnownHostsStore(join(dir, 'known_hosts'), [join(dir, 'absent')], [system]);
    const entries = await store.entries();
    expect(checkKnownHosts(entries, 'sys.lan', 22, keyA).status).toBe('match');
    expect(checkKnownHosts(entries, 'other', 22, keyB).status).toBe('revoked');
    await store.add('new.lan', 22, keyA);
    expect(await readFile(store.path, 'utf8')).toBe(`new.lan ssh-ed25519 ${b64(keyA)}\n`);
    expect(await readFile(system, 'utf8')).not.toContain('new.lan');
  });
});
