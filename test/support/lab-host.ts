import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabHost } from '../../deploy/lab/index.js';

/**
 * `nfsvol host add NAME ...` for a lab host, as a user registers one: its SSH address, the lab's
 * key, a known_hosts file (in `home`) holding the host's key, and the address at which the host
 * reaches the lab's NFS server.
 */
export async function labHostAddArgs(home: string, name: string, h: LabHost): Promise<string[]> {
  const kh = join(home, `known_hosts-${name}`);
  await writeFile(kh, `${h.knownHostsLine}\n`);
  return [
    'host',
    'add',
    name,
    '--ssh',
    `${h.user}@${h.sshHost}:${h.sshPort}`,
    '--identity',
    h.privateKeyPath,
    '--known-hosts',
    kh,
    '--nfs-address',
    h.nfsAddress,
  ];
}
