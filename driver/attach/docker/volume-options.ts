import { exportPathOf, fsType, mountOptionString, type MountTarget } from '../mount-argv.js';

/** Label every definition nfsvol makes carries, so it never touches volumes it did not make. */
export const MANAGED_LABEL = 'nfsvol.managed';
export const CLUSTER_LABEL = 'nfsvol.cluster';

/** The `--opt` values of the Docker definition; also what drift is checked against. */
export function dockerVolumeOptions(
  target: MountTarget,
  volume: string,
  volumeOptions: readonly string[] = [],
): Record<string, string> {
  return {
    type: fsType(target.nfs),
    o: mountOptionString(target, true, volumeOptions),
    device: `:${exportPathOf(target.nfs, volume)}`,
  };
}

/** A Docker volume definition nfsvol makes. */
export interface VolumeDefinition {
  readonly name: string;
  /** The local driver's `--opt` values (type, o, device). */
  readonly options: Readonly<Record<string, string>>;
  readonly clusterId: string;
}

export function volumeDefinition(
  target: MountTarget,
  volume: string,
  clusterId: string,
  volumeOptions: readonly string[] = [],
): VolumeDefinition {
  return { name: volume, options: dockerVolumeOptions(target, volume, volumeOptions), clusterId };
}

/** `docker volume create` as an argument vector: the local driver, backed by NFS, labelled as ours. */
export function dockerVolumeCreateArgvOf(def: VolumeDefinition): string[] {
  const argv = ['docker', 'volume', 'create', '--driver', 'local'];
  for (const [k, v] of Object.entries(def.options)) argv.push('--opt', `${k}=${v}`);
  argv.push('--label', `${MANAGED_LABEL}=true`, '--label', `${CLUSTER_LABEL}=${def.clusterId}`, def.name);
  return argv;
}

export function dockerVolumeCreateArgv(target: MountTarget, volume: string, clusterId: string): string[] {
  return dockerVolumeCreateArgvOf(volumeDefinition(target, volume, clusterId));
}

export function dockerVolumeRmArgv(volumes: readonly string[]): string[] {
  return ['docker', 'volume', 'rm', ...volumes];
}

/** Names of every volume on the host (managed or not), one per line. */
export function dockerVolumeLsArgv(): string[] {
  return ['docker', 'volume', 'ls', '--quiet'];
}

export function dockerVolumeInspectArgv(volumes: readonly string[]): string[] {
  return ['docker', 'volume', 'inspect', ...volumes];
}
