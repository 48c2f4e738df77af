// SSH keys of the lab: one client key per session, authorized on all its hosts, and one host key
// per VM, generated before it boots so that it is known in advance and checked on every
// connection.
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabSession } from '../session.js';
import { run } from '../util.js';

/** Writes a new ed25519 key pair (no passphrase) to path and path.pub, replacing any old one. */
export async function newKeyPair(path: string, comment: string): Promise<void> {
  await rm(path, { force: true });
  await rm(`${path}.pub`, { force: true });
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
}

/** "ssh-ed25519 AAAA..." from path.pub, without the comment. */
export function readPublicKey(path: string): string {
  const [type, blob] = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/);
  return `${type} ${blob}`;
}

const clientKeys = new Map<string, Promise<string>>();

/** The session's client key file, created on first use (a persistent session keeps its own). */
export function sessionClientKey(session: LabSession): Promise<string> {
  let key = clientKeys.get(session.id);
  if (key === undefined) {
    const path = join(session.dir, 'client_ed25519');
    key = existsSync(path) ? Promise.resolve(path) : newKeyPair(path, 'nfsvol-lab-client').then(() => path);
    clientKeys.set(session.id, key);
  }
  return key;
}
