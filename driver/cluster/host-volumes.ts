import { NfsvolError, isErrorCode } from '../common/errors.js';
import type { ErrorInfo } from '../common/events.js';
import { validateMountPath } from '../core/mount-options.js';
import { validateName } from '../core/names.js';
import type { DeletePolicy } from '../core/records.js';
import type { Cluster } from './cluster.js';
import type { VolumeSummary } from './volumes.js';

/** What a host-local front end asks a volume to be (docs/plugin.md, options). */
export interface HostVolumeSpec {
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
  readonly onDelete?: DeletePolicy;
  readonly labels?: Readonly<Record<string, string>>;
  readonly mountOptions?: readonly string[];
  readonly access?: 'multi-writer' | 'single-writer';
}

export interface HostVolume {
  readonly name: string;
  readonly createdAt: string;
  /** Where the volume is mounted on this host for Docker; absent when it is not. */
  readonly mountpoint?: string;
}

/**
 * The registry's volumes as one host's Docker volume plugin serves them: the same volumes the
 * CLI makes, mounted on this host (the cluster's `self`) under `mountRoot`, counted by Docker
 * mount ID in the mount records, so nothing lives in the plugin but what the export has.
 */
export class HostVolumes {
  readonly host: string;
  readonly mountRoot: string;

  constructor(
    private readonly cluster: Cluster,
    host: string,
    mountRoot: string,
  ) {
    this.host = validateName(host, 'host');
    this.mountRoot = validateMountPath(mountRoot).replace(/\/+$/, '');
  }

  mountpointOf(name: string): string {
    return `${this.mountRoot}/${name}`;
  }

  /**
   * Creates the volume (directory and record; registered hosts owe its definition to the next
   * `sync`, as this host has no SSH to them). Docker sends it again on every node and for every
   * `docker volume create`: the same volume asked again is success, other options an error.
   */
  async create(name: string, spec: HostVolumeSpec): Promise<void> {
    if (spec.access === 'single-writer') {
      throw new NfsvolError(
        'ACCESS_MODE_UNSUPPORTED',
        `${name}: access=single-writer is not available in this nfsvol; leave it out for a volume any number of containers may write`,
      );
    }
    const res = await this.cluster.createVolumes([name], {
      ...(spec.uid === undefined ? {} : { uid: spec.uid }),
      ...(spec.gid === undefined ? {} : { gid: spec.gid }),
      ...(spec.mode === undefined ? {} : { mode: spec.mode }),
      ...(spec.onDelete === undefined ? {} : { onDelete: spec.onDelete }),
      ...(spec.labels === undefined ? {} : { labels: spec.labels }),
      ...(spec.mountOptions === undefined ? {} : { mountOptions: spec.mountOptions }),
      hosts: 'owe',
    });
    const outcome = res.volumes[0];
    if (!outcome || outcome.status === 'failed') throw errorOf(outcome?.error, name);
    if (outcome.status === 'exists') {
      const differs = differences(await this.cluster.getVolume(name), spec);
      if (differs.length > 0) {
        throw new NfsvolError(
          'VOLUME_OPTIONS_DIFFER',
          `${name} exists with other options: ${differs.join(', ')}; use 'nfsvol volume update' to change them`,
        );
      }
    }
  }

  /** Removes the volume by its policy; refused while any host mounts it. */
  async remove(name: string): Promise<void> {
    const res = await this.cluster.removeVolumes([name]);
    const outcome = res.volumes[0];
    if (outcome?.status !== 'removed') throw errorOf(outcome?.error, name);
  }

  /** Mounts the volume here for one Docker mount ID; every ID shares one mount. */
  async mount(name: string, id: string): Promise<string> {
    const path = this.mountpointOf(validateName(name, 'volume'));
    await this.cluster.mountVolume({ volume: name, host: this.host, path, user: id });
    return path;
  }

  async unmount(name: string, id: string): Promise<void> {
    await this.cluster.releaseMount({ volume: name, host: this.host, user: id });
  }

  /** Where the volume is mounted here for Docker, as this host's mount record says. */
  async path(name: string): Promise<string | undefined> {
    const mine = await this.cluster.mountOn(name, this.host);
    return mine && (mine.users ?? []).length > 0 ? mine.path : undefined;
  }

  async get(name: string): Promise<HostVolume> {
    const v = await this.cluster.getVolume(name);
    if (v.state === 'removing') throw new NfsvolError('NOT_FOUND', `${name} is being removed`);
    const mountpoint = await this.path(name);
    return { name, createdAt: v.createdAt, ...(mountpoint ? { mountpoint } : {}) };
  }

  /** Every volume (not those being removed), streamed from the registry. */
  async list(): Promise<HostVolume[]> {
    const out: HostVolume[] = [];
    for await (const v of this.cluster.streamVolumes()) {
      if (v.state !== 'removing') out.push({ name: v.name, createdAt: v.createdAt });
    }
    return out;
  }
}

/** The options a second Create asks for that the volume does not have. */
function differences(v: VolumeSummary, spec: HostVolumeSpec): string[] {
  const out: string[] = [];
  const octal = (m: number): string => `0${m.toString(8)}`;
  if (spec.uid !== undefined && spec.uid !== v.uid) out.push(`uid ${v.uid} (asked ${spec.uid})`);
  if (spec.gid !== undefined && spec.gid !== v.gid) out.push(`gid ${v.gid} (asked ${spec.gid})`);
  if (spec.mode !== undefined && spec.mode !== v.mode)
    out.push(`mode ${octal(v.mode)} (asked ${octal(spec.mode)})`);
  if (spec.onDelete !== undefined && spec.onDelete !== v.onDelete)
    out.push(`on-delete ${v.onDelete} (asked ${spec.onDelete})`);
  for (const [k, value] of Object.entries(spec.labels ?? {})) {
    if (v.labels[k] !== value) out.push(`label ${k}=${v.labels[k] ?? '(none)'} (asked ${value})`);
  }
  if (spec.mountOptions !== undefined && spec.mountOptions.join(',') !== v.mountOptions.join(',')) {
    out.push(`mount-options ${v.mountOptions.join(',') || '(none)'} (asked ${spec.mountOptions.join(',')})`);
  }
  return out;
}

/** An outcome's error as a typed error again (its code, if the catalogue knows it). */
function errorOf(info: ErrorInfo | undefined, name: string): NfsvolError {
  if (!info) return new NfsvolError('INTERNAL', `${name}: no outcome`);
  return new NfsvolError(isErrorCode(info.code) ? info.code : 'INTERNAL', info.message);
}
