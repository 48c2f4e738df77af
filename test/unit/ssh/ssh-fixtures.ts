import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createConnection, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server, utils, type ParsedKey } from 'ssh2';

/** A key pair made by OpenSSH's own ssh-keygen (ssh2's generator makes a bad ed25519 key now and then). */
export interface TestKey {
  /** Private key file (OpenSSH format, no passphrase). */
  readonly file: string;
  readonly private: string;
  /** `TYPE BASE64 COMMENT`, as in a .pub file. */
  readonly public: string;
  /** The public key blob. */
  readonly blob: Buffer;
}

const keyDir = mkdtempSync(join(tmpdir(), 'nfsvol-testkeys-'));
let keyCount = 0;

export function sshKeygen(
  type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519',
  dir = keyDir,
  name?: string,
): TestKey {
  const file = join(dir, name ?? `key${++keyCount}_${type}`);
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(type === 'rsa' ? ['-b', '2048'] : []),
    '-N',
    '',
    '-C',
    'test',
    '-f',
    file,
  ]);
  const pub = readFileSync(`${file}.pub`, 'utf8').trim();
  return { file, private: readFileSync(file, 'utf8'), public: pub, blob: blobOf(pub) };
}

export function blobOf(pub: string): Buffer {
  const parsed = utils.parseKey(pub);
  if (parsed instanceof Error) throw parsed;
  return (Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed).getPublicSSH();
}

export interface AuthAttempt {
  readonly user: string;
  readonly method: string;
  /** Base64 of the offered public key, for publickey. */
  readonly key?: string;
}

/**
 * A real SSH server (ssh2) on loopback that records every connection, login attempt and
 * forwarding request. It accepts publickey logins with the keys in `authorized` (or any key if
 * empty), answers the commands nfsvol sends to check a host, and forwards TCP (what a bastion
 * does for ProxyJump).
 */
export class TestSshServer {
  connections = 0;
  readonly auths: AuthAttempt[] = [];
  readonly commands: string[] = [];
  readonly forwards: string[] = [];
  private server: Server | undefined;
  private readonly clients = new Set<{ end(): void }>();
  port = 0;

  constructor(
    readonly hostKey: TestKey,
    readonly authorized: readonly Buffer[] = [],
  ) {}

  async start(): Promise<this> {
    const server = new Server({ hostKeys: [this.hostKey.private] }, (client) => {
      this.connections++;
      this.clients.add(client);
      client.on('close', () => this.clients.delete(client));
      let user = '';
      client.on('authentication', (ctx) => {
        user = ctx.username;
        const key = ctx.method === 'publickey' ? ctx.key.data.toString('base64') : undefined;
        this.auths.push({ user, method: ctx.method, ...(key === undefined ? {} : { key }) });
        if (
          ctx.method === 'publickey' &&
          (this.authorized.length === 0 || this.authorized.some((k) => k.equals(ctx.key.data)))
        ) {
          ctx.accept();
        } else {
          ctx.reject(['publickey']);
        }
      });
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          this.commands.push(info.command);
          const out = info.command.startsWith('docker volume ls')
            ? ''
            : info.command.startsWith('docker ')
              ? '24.0.7\n'
              : info.command.startsWith('uname')
                ? 'Linux 6.1.0\n'
                : info.command === 'whoami'
                  ? `${user}\n`
                  : `${info.command}\n`;
          stream.write(out);
          stream.exit(0);
          stream.end();
        });
      });
      client.on('tcpip', (accept, reject, info) => {
        this.forwards.push(`${info.destIP}:${info.destPort}`);
        const sock = createConnection(info.destPort, info.destIP);
        sock.once('connect', () => {
          const ch = accept();
          ch.pipe(sock).pipe(ch);
          sock.on('error', () => ch.destroy());
          ch.on('error', () => sock.destroy());
        });
        sock.once('error', () => reject());
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const c of this.clients) c.end();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
