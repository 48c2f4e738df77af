import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, type ClusterOptions } from '../../driver/cluster/cluster.js';
import type { ProgressEvent } from '../../driver/common/events.js';
import type { NfsVersion } from '../../driver/core/records.js';
import type { NfsFs } from '../../driver/nfs/types.js';
import { FakeDockerHost, fakeOpener } from './fake-host.js';
import { MemoryNfs, sharedView } from './memory-nfs.js';

/**
 * The export every fake cluster is initialised on. Nothing listens there: `connectNfs` hands out
 * the in-memory export whatever the URL.
 */
export const FAKE_URL = 'nfs://127.0.0.1:2049/export';

/** The address of fake Docker host `i` (from 1): `127.0.0.1:2201`, `127.0.0.1:2202`, ... */
export const fakeHostAddress = (i: number): string => `127.0.0.1:${2200 + i}`;

export interface FakeClusterOptions {
  /** Fake Docker hosts to make, on ports 2201, 2202, ...; none is registered. @default 2 */
  readonly hosts?: number;
  /** Milliseconds each call to the export waits, asked per call (a slow or jittery server). */
  readonly latency?: () => number;
  /** Cluster options laid over the fixture's own (e.g. registry lease times). */
  readonly extra?: ClusterOptions;
}

/**
 * A cluster with no network: an in-memory export and fake Docker hosts behind the driver's
 * `connectNfs`/`openHost`, and a scratch directory as this machine's home for ssh. The export and
 * hosts are shared by every Cluster (or CLI run) opened on it, as a real export and real hosts
 * are shared by several machines.
 */
export interface FakeCluster {
  readonly fs: MemoryNfs;
  /** By address (`127.0.0.1:2201`), as `openHost` finds them. */
  readonly hosts: ReadonlyMap<string, FakeDockerHost>;
  /** Scratch directory: the ssh home, the known_hosts file, the CLI's config. */
  readonly dir: string;
  /** Where keys are pinned when a host is added. */
  readonly knownHosts: string;
  /** Progress reported by every Cluster opened with `options`. */
  readonly events: ProgressEvent[];
  /** For Cluster.init/open: the fakes, ssh settings of the scratch home, progress into `events`. */
  readonly options: ClusterOptions;
  /**
   * For the CLI (`runCli`'s `cluster`): the same, except known_hosts and progress. The CLI takes
   * known_hosts from its config (`init --known-hosts`, `host add --known-hosts`), and ssh settings
   * given here would override what the config says; it reports progress itself.
   */
  readonly cliOptions: ClusterOptions;
  /** Fake Docker host `i` (from 1), at `fakeHostAddress(i)`. */
  host(i: number): FakeDockerHost;
  /** Calls to the export so far, of every kind: a command refused up front must not add any. */
  nfsCalls(): number;
  /** Initialises the cluster on the export (closed by `closeFakeClusters`), as Cluster.init does. */
  init(nfsVersion: NfsVersion): Promise<{ readonly cluster: Cluster; readonly created: boolean }>;
  /**
   * Opens the cluster again, as another process would (closed by `closeFakeClusters`): over
   * `view` of the export if given (one that interferes), with `more` options laid over.
   */
  open(view?: NfsFs, more?: ClusterOptions): Promise<Cluster>;
  /**
   * Registers fake hosts 1..n as h1..hn through `cluster`: keys accepted and pinned in
   * `knownHosts`, volumes mounted from 10.0.2.2.
   */
  addHosts(cluster: Cluster, n: number): Promise<void>;
}

/** A FakeCluster initialised through the Cluster API, with some of its hosts registered. */
export interface InitialisedFakeCluster extends FakeCluster {
  readonly cluster: Cluster;
}

// Every Cluster a fixture opened, until closeFakeClusters: each holds its export and host
// sessions open until it is closed.
const opened: Cluster[] = [];

/** Closes every Cluster the fixtures opened (use in afterEach). */
export async function closeFakeClusters(): Promise<void> {
  await Promise.all(opened.splice(0).map((c) => c.close()));
}

export async function fakeCluster(options: FakeClusterOptions = {}): Promise<FakeCluster> {
  const fs = new MemoryNfs();
  if (options.latency) fs.latency = options.latency;
  const hosts = new Map<string, FakeDockerHost>();
  for (let i = 1; i <= (options.hosts ?? 2); i++) {
    hosts.set(fakeHostAddress(i), new FakeDockerHost(fakeHostAddress(i)));
  }
  const dir = await mkdtemp(join(tmpdir(), 'nfsvol-fake-cluster-'));
  const knownHosts = join(dir, 'known_hosts');
  const events: ProgressEvent[] = [];
  // This machine's ssh settings: a scratch home, no system files, no agent. The test runner's own
  // ~/.ssh and /etc/ssh never leak in.
  const ssh = { home: dir, systemConfig: null, systemKnownHosts: [], agent: null };
  const fakes: ClusterOptions = { connectNfs: async () => sharedView(fs), openHost: fakeOpener(hosts) };
  const clusterOptions: ClusterOptions = {
    ...fakes,
    ssh: { ...ssh, knownHosts },
    progress: (e) => events.push(e),
    ...options.extra,
  };
  const host = (i: number): FakeDockerHost => {
    const h = hosts.get(fakeHostAddress(i));
    if (!h) throw new Error(`no fake host ${i}: this fake cluster has ${hosts.size}`);
    return h;
  };
  const remember = (c: Cluster): Cluster => {
    opened.push(c);
    return c;
  };
  return {
    fs,
    hosts,
    dir,
    knownHosts,
    events,
    options: clusterOptions,
    cliOptions: { ...fakes, ssh, ...options.extra },
    host,
    nfsCalls: () => [...fs.calls.values()].reduce((a, b) => a + b, 0),
    init: async (nfsVersion) => {
      const res = await Cluster.init({ ...clusterOptions, url: FAKE_URL, nfsVersion });
      remember(res.cluster);
      return res;
    },
    open: async (view, more = {}) =>
      remember(
        await Cluster.open(FAKE_URL, {
          ...clusterOptions,
          ...(view ? { connectNfs: async () => view } : {}),
          ...more,
        }),
      ),
    addHosts: async (cluster, n) => {
      for (let i = 1; i <= n; i++) {
        await cluster.addHost({
          name: `h${i}`,
          ssh: `root@${fakeHostAddress(i)}`,
          acceptNewHostKey: true,
          nfsAddress: '10.0.2.2',
        });
      }
    },
  };
}

/**
 * A fake cluster initialised through the Cluster API with NFS `nfsVersion` (Cluster.init's
 * default, 4.1, unless given), fake hosts 1..`added` registered as h1.. (none unless given).
 */
export async function initialisedFakeCluster(
  options: FakeClusterOptions & { readonly nfsVersion?: NfsVersion; readonly added?: number } = {},
): Promise<InitialisedFakeCluster> {
  const fake = await fakeCluster(options);
  const { cluster } = await fake.init(options.nfsVersion ?? '4.1');
  await fake.addHosts(cluster, options.added ?? 0);
  return { ...fake, cluster };
}
