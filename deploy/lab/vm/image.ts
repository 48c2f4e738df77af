// The VM image built by deploy/lab/build.sh, and each VM's own disk over it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { labCacheDir, run } from '../util.js';

export interface VmImage {
  readonly kernel: string;
  readonly initrd: string;
  /** The shared base disk (raw ext4); VMs never write to it. */
  readonly disk: string;
}

/** The image build.sh last completed (it writes `done` last, so a half-built one is never used). */
export function currentVmImage(): VmImage {
  const dir = join(labCacheDir(), 'vm.current');
  if (!existsSync(join(dir, 'done'))) throw new LabError('BUILD_FAILED', `no VM image in ${dir}`);
  return { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.cpio'), disk: join(dir, 'disk.img') };
}

/** A qcow2 overlay over the base disk: the VM's writes stay in its own file. */
export async function createOverlay(image: VmImage, path: string): Promise<void> {
  await run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', image.disk, '-F', 'raw', path]);
}
