// Reads the final state the checker judges: the export through nfsvol's own NFS client (the
// registry files and the volume directories, never behind ganesha's back) and each lab host over
// SSH (its Docker volumes, its NFS mounts).
import { NfsClient } from '../../driver/nfs/index.js';
import type { LabHost } from '../../deploy/lab/index.js';

export const CANARY = '.soak-canary';

export interface Definition {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly device: string;
}

export interface HostMount {
  readonly device: string;
  readonly mountpoint: string;
}

export interface HostState {
  readonly name: string;
  /** False when SSH did not answer (then nothing else was read). */
  readonly reachable: boolean;
  readonly error?: string;
  /** Docker volumes labelled nfsvol.cluster=<this cluster>. */
  readonly definitions: readonly Definition[];
  /** NFS mounts outside Docker's own volume directories (host mounts). */
  readonly mounts: readonly HostMount[];
  /** Docker volumes without this cluster's label (Docker makes one when `-v NAME` names none). */
  readonly foreign: readonly string[];
}

export interface FinalState {
  readonly clusterId: string;
  /** Volume records by name, with the delete policy each says. */
  readonly records: ReadonlyMap<string, { readonly onDelete: string | undefined }>;
  /** Records that could not be read or parsed (name: reason). */
  readonly badRecords: ReadonlyMap<string, string>;
  /** Directories at the top of the export (volume data), `.nfsvol` left out. */
  readonly dirs: ReadonlySet<string>;
  /** Entries of `.nfsvol/archive`. */
  readonly archive: readonly string[];
  /** Host mount records `.nfsvol/mounts/<volume>@<host>.json`. */
  readonly mountRecords: readonly { readonly volume: string; readonly host: string; readonly path: string }[];
  /** Pending work per host: `op:volume` (volume empty for a whole-host sync). */
  readonly pending: ReadonlyMap<string, readonly string[]>;
  readonly hosts: readonly HostState[];
}

/** FinalState in plain JSON (maps and sets as arrays), for the evidence file. */
export interface FinalStateJson extends Omit<FinalState, 'records' | 'badRecords' | 'dirs' | 'pending'> {
  readonly records: readonly (readonly [string, { readonly onDelete: string | undefined }])[];
  readonly badRecords: readonly (readonly [string, string])[];
  readonly dirs: readonly string[];
  readonly pending: readonly (readonly [string, readonly string[]])[];
}

export function stateToJson(s: FinalState): FinalStateJson {
  return {
    ...s,
    records: [...s.records],
    badRecords: [...s.badRecords],
    dirs: [...s.dirs],
    pending: [...s.pending],
  };
}

export function stateFromJson(s: FinalStateJson): FinalState {
  return {
    ...s,
    records: new Map(s.records),
    badRecords: new Map(s.badRecords),
    dirs: new Set(s.dirs),
    pending: new Map(s.pending),
  };
}

async function jsonFiles(nfs: NfsClient, dir: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  const entries = await nfs.readdir(dir).catch(() => []);
  for (const e of entries) {
    if (!e.name.endsWith('.json')) continue;
    const key = e.name.slice(0, -'.json'.length);
    try {
      out.set(key, JSON.parse((await nfs.readFile(`${dir}/${e.name}`)).toString('utf8')) as unknown);
    } catch (err) {
      out.set(key, new Error(err instanceof Error ? err.message : String(err)));
    }
  }
  return out;
}

export async function readExport(url: string): Promise<Omit<FinalState, 'hosts'>> {
  const nfs = await NfsClient.connect(url);
  try {
    const cluster = JSON.parse((await nfs.readFile('.nfsvol/cluster.json')).toString('utf8')) as {
      id?: string;
    };
    const records = new Map<string, { onDelete: string | undefined }>();
    const badRecords = new Map<string, string>();
    for (const [name, v] of await jsonFiles(nfs, '.nfsvol/volumes')) {
      if (v instanceof Error || typeof v !== 'object' || v === null) {
        badRecords.set(name, v instanceof Error ? v.message : 'not an object');
        continue;
      }
      const onDelete = (v as { onDelete?: unknown }).onDelete;
      records.set(name, { onDelete: typeof onDelete === 'string' ? onDelete : undefined });
    }
    const dirs = new Set<string>();
    for (const e of await nfs.readdir('')) {
      if (e.name === '.nfsvol' || e.name === '.' || e.name === '..') continue;
      const st = e.stat ?? (await nfs.stat(e.name));
      if (st.type !== 'directory') continue;
      dirs.add(e.name);
    }
    const archive = (await nfs.readdir('.nfsvol/archive').catch(() => []))
      .map((e) => e.name)
      .filter((n) => n !== '.' && n !== '..');
    const mountRecords: { volume: string; host: string; path: string }[] = [];
    for (const [key, v] of await jsonFiles(nfs, '.nfsvol/mounts')) {
      const m = v as { volume?: unknown; host?: unknown; path?: unknown };
      const [volume = '', host = ''] = key.split('@');
      mountRecords.push({
        volume: typeof m?.volume === 'string' ? m.volume : volume,
        host: typeof m?.host === 'string' ? m.host : host,
        path: typeof m?.path === 'string' ? m.path : '',
      });
    }
    const pending = new Map<string, string[]>();
    for (const [host, v] of await jsonFiles(nfs, '.nfsvol/pending')) {
      const ops = (v as { operations?: { op?: unknown; volume?: unknown }[] })?.operations ?? [];
      pending.set(
        host,
        ops.map((o) => `${String(o.op)}:${typeof o.volume === 'string' ? o.volume : ''}`),
      );
    }
    return {
      clusterId: cluster.id ?? '',
      records,
      badRecords,
      dirs,
      archive,
      mountRecords,
      pending,
    };
  } finally {
    await nfs.close();
  }
}

export async function readHost(host: LabHost, name: string, clusterId: string): Promise<HostState> {
  try {
    // One SSH command: the volume names with their labels and device, then the NFS mounts.
    const script =
      'for v in $(docker volume ls -q --filter "label=nfsvol.cluster=$1"); do ' +
      'docker volume inspect --format "V {{.Name}} {{json .Labels}} {{index .Options \\"device\\"}}" "$v"; done; ' +
      'awk \'$3 ~ /^nfs/ { print "M", $1, $2 }\' /proc/mounts; ' +
      'docker volume ls -q | sed "s/^/A /"';
    const r = await host.exec(['sh', '-c', script, 'soak', clusterId], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr.trim().slice(-300)}`);
    const definitions: Definition[] = [];
    const mounts: HostMount[] = [];
    const all: string[] = [];
    for (const line of r.stdout.split('\n')) {
      if (line.startsWith('V ')) {
        const m = /^V (\S+) (\{.*\}|null) ?(.*)$/.exec(line);
        if (!m) continue;
        const labels = (m[2] === 'null' ? {} : JSON.parse(m[2]!)) as Record<string, string>;
        definitions.push({ name: m[1]!, labels, device: m[3] ?? '' });
      } else if (line.startsWith('M ')) {
        const [, device = '', mountpoint = ''] = line.split(' ');
        // Docker mounts a volume's NFS share under its own directory while a container uses it.
        if (!mountpoint.startsWith('/var/lib/docker/')) mounts.push({ device, mountpoint });
      } else if (line.startsWith('A ')) {
        all.push(line.slice(2));
      }
    }
    const foreign = all.filter((v) => !definitions.some((d) => d.name === v));
    return { name, reachable: true, definitions, mounts, foreign };
  } catch (err) {
    return {
      name,
      reachable: false,
      error: err instanceof Error ? err.message : String(err),
      definitions: [],
      mounts: [],
      foreign: [],
    };
  }
}
