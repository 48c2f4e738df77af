// A VM's config disk: a tar file attached read-only as /dev/vdb, which the guest's init unpacks
// at every boot. It carries what differs between VMs built from the one base image.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../util.js';

/** The directory whose contents go on the config disk; the sshd host key pair lives there. */
export function configDir(vmDir: string): string {
  return join(vmDir, 'config');
}

export function hostKeyPath(vmDir: string): string {
  return join(configDir(vmDir), 'ssh_host_ed25519_key');
}

/**
 * Writes config.tar: hostname, the sshd host key pair (already in the config directory) and
 * authorized_keys with the client's public key. Written aside and renamed, so qemu never opens a
 * half-written disk.
 */
export async function writeConfigDisk(vmDir: string, hostname: string, clientKeyPath: string): Promise<void> {
  const config = configDir(vmDir);
  await writeFile(join(config, 'hostname'), `${hostname}\n`);
  await writeFile(join(config, 'authorized_keys'), await readFile(`${clientKeyPath}.pub`));
  await run(['tar', '-cf', join(vmDir, 'config.tar.new'), '-C', config, '.']);
  await rename(join(vmDir, 'config.tar.new'), join(vmDir, 'config.tar'));
}
