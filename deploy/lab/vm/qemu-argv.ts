// The qemu command line of a lab VM. Pure: everything it depends on is a parameter.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { VmImage } from './image.js';

export interface QemuParams {
  readonly name: string;
  /** The VM's own directory: its overlay disk, config disk, logs and pid file. */
  readonly dir: string;
  readonly image: VmImage;
  readonly memoryMiB: number;
  /** 127.0.0.1:<sshPort> is forwarded to the guest's sshd. */
  readonly sshPort: number;
  readonly qmpSocket: string;
  /**
   * `kvm`: hardware virtualisation, falling back to TCG if KVM cannot start (qemu tries each
   * `-accel` in turn). `tcg`: software emulation only. @default 'tcg'
   */
  readonly accel?: 'kvm' | 'tcg';
}

/** The id of the VM's only network link, as QMP's set_link names it. */
export const NETDEV_ID = 'n0';

/** qemu option values are comma-separated: a comma inside a path is written twice. */
function optionValue(path: string): string {
  return path.replaceAll(',', ',,');
}

/**
 * The accelerator the caller chose (labAccel: KVM where /dev/kvm can be opened, else TCG).
 * User-mode networking: the guest
 * reaches this machine's loopback as 10.0.2.2 and nothing else (no IPv6; the guest sets no
 * default route). The serial console goes to console.log, where the guest's init reports.
 */
export function qemuArgv(p: QemuParams): string[] {
  const file = (name: string): string => optionValue(join(p.dir, name));
  return [
    'qemu-system-x86_64',
    ...(p.accel === 'kvm' ? ['-accel', 'kvm', '-accel', 'tcg'] : ['-accel', 'tcg']),
    ...['-m', String(p.memoryMiB), '-smp', '1', '-display', 'none', '-no-reboot'],
    ...['-name', `nfsvol-lab-${p.name}`],
    ...['-kernel', p.image.kernel, '-initrd', p.image.initrd],
    ...['-append', 'console=ttyS0 panic=-1 quiet'],
    ...['-drive', `file=${file('disk.qcow2')},if=virtio,format=qcow2`],
    ...['-drive', `file=${file('config.tar')},if=virtio,format=raw,readonly=on`],
    ...['-netdev', `user,id=${NETDEV_ID},ipv6=off,hostfwd=tcp:127.0.0.1:${p.sshPort}-:22`],
    ...['-device', `virtio-net-pci,netdev=${NETDEV_ID}`, '-device', 'virtio-rng-pci'],
    ...['-serial', `file:${file('console.log')}`, '-monitor', 'none'],
    ...['-chardev', `socket,id=qmp0,path=${p.qmpSocket},abstract=on,tight=off,server=on,wait=off`],
    ...['-mon', 'chardev=qmp0,mode=control'],
    ...['-pidfile', join(p.dir, 'qemu.pid')],
  ];
}

/**
 * KVM when this process can open /dev/kvm for reading and writing, TCG otherwise;
 * `NFSVOL_LAB_ACCEL=tcg` (or `kvm`) overrides, for a machine whose KVM opens but does not work
 * (nested virtualisation that hangs guests).
 */
export function labAccel(env: NodeJS.ProcessEnv = process.env, canOpenKvm = kvmOpens): 'kvm' | 'tcg' {
  const forced = env['NFSVOL_LAB_ACCEL'];
  if (forced === 'kvm' || forced === 'tcg') return forced;
  return canOpenKvm() ? 'kvm' : 'tcg';
}

function kvmOpens(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
