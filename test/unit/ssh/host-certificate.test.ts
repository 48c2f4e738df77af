// Host certificates as OpenSSH makes them (ssh-keygen -s), judged against @cert-authority lines.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkHostCertificates,
  parseCertificate,
  scanHostCertificates,
} from '../../../driver/attach/ssh/host-certificate.js';
import { parseKnownHosts } from '../../../driver/attach/ssh/known-hosts.js';
import { sshKeygen, type TestKey } from './ssh-fixtures.js';

const run = promisify(execFile);
let dir: string;

/** ssh-keygen -s CA: a certificate for `key` with these ssh-keygen options. */
async function sign(ca: string, key: string, ...opts: string[]): Promise<Buffer> {
  await run('ssh-keygen', ['-q', '-s', join(dir, ca), '-I', `id-${key}`, ...opts, join(dir, `${key}.pub`)]);
  const line = (await readFile(join(dir, `${key}-cert.pub`), 'utf8')).trim();
  return Buffer.from(line.split(' ')[1] ?? '', 'base64');
}

describe('host certificates against @cert-authority', () => {
  let ca: TestKey;
  let rsaCa: TestKey;
  let host: TestKey;
  let other: TestKey;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nfsvol-cert-'));
    ca = sshKeygen('ed25519', dir, 'ca');
    rsaCa = sshKeygen('rsa', dir, 'rsaca');
    host = sshKeygen('ed25519', dir, 'host');
    other = sshKeygen('ed25519', dir, 'other');
  });
  const kh = (text: string) => parseKnownHosts(text);

  it('a certificate a listed CA signed for this host and this key vouches for the key; ed25519 and RSA CAs', async () => {
    const cert = await sign('ca', 'host', '-h', '-n', 'web1.lan,10.0.0.11');
    const parsed = parseCertificate(cert);
    expect(parsed).toMatchObject({ certType: 2, keyId: 'id-host', principals: ['web1.lan', '10.0.0.11'] });
    expect(parsed.key.equals(host.blob)).toBe(true);
    const entries = kh(`@cert-authority *.lan ${ca.public}\n`);
    expect(checkHostCertificates(entries, 'web1.lan', 22, host.blob, [cert])).toEqual({
      status: 'match',
      ca: 'known_hosts line 1',
      keyId: 'id-host',
    });
    const byRsa = await sign('rsaca', 'host', '-h', '-n', 'web1.lan');
    expect(
      checkHostCertificates(kh(`@cert-authority web1.lan ${rsaCa.public}\n`), 'web1.lan', 22, host.blob, [
        byRsa,
      ]).status,
    ).toBe('match');
  });

  it('refuses what OpenSSH refuses: another key, another host, a user certificate, out of its validity, an unlisted CA, a tampered one', async () => {
    const entries = kh(`@cert-authority *.lan ${ca.public}\n`);
    const good = await sign('ca', 'host', '-h', '-n', 'web1.lan');
    const why = (e: ReturnType<typeof kh>, h: string, key: Buffer, certs: Buffer[]) => {
      const v = checkHostCertificates(e, h, 22, key, certs);
      return v.status === 'invalid' ? v.why : v.status;
    };
    expect(why(entries, 'web1.lan', other.blob, [good])).toMatch(/for another key/);
    expect(why(entries, 'web2.lan', host.blob, [good])).toMatch(/names web1.lan, not web2.lan/);
    expect(why(entries, 'db.example', host.blob, [good])).toBe('no-ca');
    expect(why(entries, 'web1.lan', host.blob, [])).toMatch(/offered no certificate/);
    const user = await sign('ca', 'host', '-n', 'web1.lan');
    expect(why(entries, 'web1.lan', host.blob, [user])).toMatch(/not a host certificate/);
    const expired = await sign('ca', 'host', '-h', '-n', 'web1.lan', '-V', '20200101:20200102');
    expect(why(entries, 'web1.lan', host.blob, [expired])).toMatch(/not valid now/);
    const byOther = await sign('rsaca', 'host', '-h', '-n', 'web1.lan');
    expect(why(entries, 'web1.lan', host.blob, [byOther])).toMatch(/not signed by a CA/);
    const tampered = Buffer.from(good);
    tampered[tampered.length - 10] = (tampered[tampered.length - 10] ?? 0) ^ 1;
    expect(why(entries, 'web1.lan', host.blob, [tampered])).toMatch(/not signed by a CA/);
    expect(why(entries, 'web1.lan', host.blob, [good.subarray(0, 40)])).toMatch(/malformed/);
    // @revoked and plain lines are not CAs.
    expect(why(kh(`web1.lan ${ca.public}\n`), 'web1.lan', host.blob, [good])).toBe('no-ca');
  });

  it('asks nothing of an address that ssh-keyscan would read as an option', async () => {
    expect(await scanHostCertificates('-oProxyCommand=touch /tmp/nfsvol-pwned', 22)).toEqual([]);
  });
});
