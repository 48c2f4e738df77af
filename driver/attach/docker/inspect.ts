import { NfsvolError } from '../../common/errors.js';
import { CLUSTER_LABEL, MANAGED_LABEL } from './volume-options.js';

/** What `docker volume inspect` says about one volume, reduced to the fields nfsvol checks. */
export interface DockerVolumeInfo {
  readonly name: string;
  readonly driver: string;
  readonly options: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
}

/** A host printed something that is not what Docker prints. */
export class DockerOutputError extends NfsvolError {
  readonly host: string;
  constructor(host: string, what: string, cause?: unknown) {
    super('HOST_BAD_OUTPUT', `${host}: unexpected output from ${what}`, { cause });
    this.host = host;
  }
}

function stringMap(v: unknown): Record<string, string> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Parses `docker volume inspect` JSON (an array). Output from a host is untrusted: shape-checked. */
export function parseVolumeInspect(host: string, stdout: string): DockerVolumeInfo[] {
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch (err) {
    throw new DockerOutputError(host, 'docker volume inspect', err);
  }
  if (!Array.isArray(json)) throw new DockerOutputError(host, 'docker volume inspect (not a list)');
  return json.map((v: unknown) => {
    if (typeof v !== 'object' || v === null)
      throw new DockerOutputError(host, 'docker volume inspect (bad entry)');
    const o = v as Record<string, unknown>;
    if (typeof o['Name'] !== 'string') throw new DockerOutputError(host, 'docker volume inspect (no Name)');
    return {
      name: o['Name'],
      driver: typeof o['Driver'] === 'string' ? o['Driver'] : '',
      options: stringMap(o['Options']),
      labels: stringMap(o['Labels']),
    };
  });
}

/**
 * Parses `docker volume ls --quiet`: one name per line. Anything else on stdout (a banner from a
 * shell profile, a wrapper's noise) is an error that quotes it, never silently "no volumes":
 * a sync that believed a host had none would define them again on top of the real ones.
 */
export function parseVolumeLs(host: string, stdout: string): string[] {
  const names: string[] = [];
  for (const raw of stdout.split('\n')) {
    const l = raw.trim();
    if (l === '') continue;
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(l)) {
      const shown = JSON.stringify(l.length > 80 ? `${l.slice(0, 80)}...` : l);
      throw new DockerOutputError(host, `docker volume ls (not a volume name: ${shown})`);
    }
    names.push(l);
  }
  return names;
}

export function isManagedBy(info: DockerVolumeInfo, clusterId: string): boolean {
  return info.labels[MANAGED_LABEL] === 'true' && info.labels[CLUSTER_LABEL] === clusterId;
}

/** Differences between the definition a host has and the one nfsvol wants, e.g. `o: a != b`. */
export function driftOf(info: DockerVolumeInfo, expected: Readonly<Record<string, string>>): string[] {
  const drift: string[] = [];
  if (info.driver !== 'local') drift.push(`driver: ${info.driver} != local`);
  for (const [k, want] of Object.entries(expected)) {
    const have = info.options[k];
    const same =
      k === 'o' && have !== undefined
        ? [...have.split(',')].sort().join(',') === [...want.split(',')].sort().join(',')
        : have === want;
    if (!same) drift.push(`${k}: ${have ?? '(unset)'} != ${want}`);
  }
  return drift;
}
