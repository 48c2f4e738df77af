// Faults a test injects into a running VM, beyond a power cut (QemuProcess.kill): its network
// link cut or restored, and its sshd host key replaced.
import { readFile, rename } from 'node:fs/promises';
import { NETDEV_ID } from './qemu-argv.js';
import { newKeyPair } from './keys.js';
import { qmp } from './qmp.js';
import type { ExecOptions, ExecResult } from './ssh.js';

/** qemu's `set_link`: the guest sees its only NIC lose or regain carrier, as with a pulled cable. */
export async function setLinkState(qmpSocket: string, up: boolean): Promise<void> {
  await qmp(qmpSocket, 'set_link', { name: NETDEV_ID, up });
}

/**
 * Replaces the host key pair at `keyPath` with a new one. When the guest runs, the new key is
 * installed there first (sshd re-reads its keys on SIGHUP); then the files here are replaced, for
 * the config disk of the next boot.
 */
export async function replaceHostKey(
  keyPath: string,
  comment: string,
  /** The running guest, to install the key in; null when it is powered off. */
  guest: {
    check(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  } | null,
): Promise<void> {
  await newKeyPair(`${keyPath}.next`, comment);
  if (guest !== null) {
    const [privateKey, publicKey] = await Promise.all([
      readFile(`${keyPath}.next`),
      readFile(`${keyPath}.next.pub`),
    ]);
    // Fixed scripts; the key bytes travel on stdin, never in the command line.
    await guest.check(['sh', '-c', 'umask 077 && cat >/etc/ssh/ssh_host_ed25519_key'], {
      input: privateKey,
    });
    await guest.check(['sh', '-c', 'cat >/etc/ssh/ssh_host_ed25519_key.pub'], { input: publicKey });
    // The listening sshd re-executes itself on SIGHUP and loads the new key.
    await guest.check(['sh', '-c', 'kill -HUP "$(cat /run/sshd.pid)"']);
  }
  await rename(`${keyPath}.next`, keyPath);
  await rename(`${keyPath}.next.pub`, `${keyPath}.pub`);
}
