// A ready nfsvol cluster for a user's tests: an NFS server, n Docker hosts, the registry created
// on the export and every host registered, as `nfsvol init` and `nfsvol host add` would leave it,
// with a config file the CLI reads.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CONFIG_SCHEMA_VERSION,
  Cluster,
  saveConfig,
  type LocalHostSettings,
  type NfsVersion,
  type SshLocalOptions,
} from '../../driver/index.js';
import {
  LabError,
  NfsServerContainer,
  type NfsServerVersion,
  type StartedNfsServerContainer,
} from '../lab/index.js';
import { labDir, repoRoot } from '../lab/util.js';
import { startDockerHosts, stopAll, type DockerHosts } from './docker-hosts.js';

export interface StartClusterOptions {
  /** How many Docker hosts. @default 2 */
  readonly hosts?: number;
  /** The NFS version hosts mount with ('3' or '4.1'). @default '4.1' */
  readonly nfsVersion?: NfsVersion;
  /** `docker save` tarballs loaded into every host (see StartDockerHostsOptions.images). @default none */
  readonly images?: readonly string[];
  /** Guest memory per host. @default 1024 */
  readonly memoryMiB?: number;
  /** Image build and boot progress lines. @default build progress to stderr */
  readonly onProgress?: (line: string) => void;
}

/** What one run of the CLI did. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** @default 240000 */
  readonly timeoutMs?: number;
  /** Written to the CLI's stdin. */
  readonly input?: string;
}

export interface StartedCluster extends AsyncDisposable {
  readonly nfs: StartedNfsServerContainer;
  readonly hosts: DockerHosts;
  /** The library's Cluster, open on the export, with every host registered under its name. */
  readonly cluster: Cluster;
  /** The CLI's config file for this cluster (what `nfsvol init` and `host add` wrote). */
  readonly configPath: string;
  /** The HOME the CLI runs with: the config, the known_hosts files. Deleted on stop. */
  readonly home: string;
  /** Runs the nfsvol CLI (the package's own bin) against this cluster. A non-zero exit is a result. */
  cli(argv: readonly string[], options?: CliOptions): Promise<CliResult>;
  /** Closes the cluster, powers the hosts off, stops the server. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The CLI as a user runs it: the bundled bin of the installed package (dist/nfsvol.js beside
 * dist/deploy/), or, in a checkout, cli/main.ts through tsx.
 */
function cliCommand(): { readonly argv: readonly string[]; readonly cwd: string } {
  const bundled = resolve(labDir, '..', '..', 'nfsvol.js');
  if (existsSync(bundled)) return { argv: [process.execPath, bundled], cwd: process.cwd() };
  return { argv: [process.execPath, '--import', 'tsx', join(repoRoot, 'cli', 'main.ts')], cwd: repoRoot };
}

function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, options: CliOptions): Promise<CliResult> {
  const command = cliCommand();
  const [file, ...prefix] = command.argv;
  if (file === undefined) throw new LabError('INVALID_OPTION', 'no CLI');
  return new Promise((resolvePromise) => {
    const child = execFile(
      file,
      [...prefix, ...argv],
      {
        cwd: command.cwd,
        env,
        timeout: options.timeoutMs ?? 240_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolvePromise({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

/**
 * Starts an NFS server and `hosts` Docker hosts in parallel, creates the nfsvol registry on the
 * export and registers every host (its key pinned from a known_hosts file, never accepted blind).
 */
export async function startCluster(options: StartClusterOptions = {}): Promise<StartedCluster> {
  const count = options.hosts ?? 2;
  const version = options.nfsVersion ?? '4.1';
  if (version !== '3' && version !== '4.1') {
    throw new LabError(
      'INVALID_OPTION',
      `startCluster: nfsVersion must be '3' or '4.1', got ${String(version)}`,
    );
  }
  const progress = options.onProgress === undefined ? {} : { onProgress: options.onProgress };
  const served: NfsServerVersion[] = version === '3' ? [3, 4.1] : [4.1];
  const nfsContainer = new NfsServerContainer().withVersions(...served);
  if (options.onProgress !== undefined) nfsContainer.withProgress(options.onProgress);
  const [nfsResult, hostsResult] = await Promise.allSettled([
    nfsContainer.start(),
    startDockerHosts(count, {
      ...progress,
      ...(options.images === undefined ? {} : { images: options.images }),
      ...(options.memoryMiB === undefined ? {} : { memoryMiB: options.memoryMiB }),
    }),
  ]);
  if (nfsResult.status === 'rejected' || hostsResult.status === 'rejected') {
    if (nfsResult.status === 'fulfilled') await nfsResult.value.stop().catch(() => undefined);
    if (hostsResult.status === 'fulfilled') await stopAll(hostsResult.value).catch(() => undefined);
    throw nfsResult.status === 'rejected' ? nfsResult.reason : (hostsResult as PromiseRejectedResult).reason;
  }
  const nfs = nfsResult.value;
  const hosts = hostsResult.value;
  const home = await mkdtemp(join(tmpdir(), 'nfsvol-testing-'));
  let cluster: Cluster | undefined;
  const stopEverything = async (): Promise<void> => {
    await cluster?.close().catch(() => undefined);
    await Promise.allSettled([stopAll(hosts), nfs.stop()]);
    await rm(home, { recursive: true, force: true });
  };
  try {
    // One known_hosts file per host, as `host add --known-hosts` takes it; the config keeps it and
    // the key file per host, so the CLI's later commands check the same key.
    const perHost: Record<string, LocalHostSettings> = {};
    for (const h of hosts) {
      const knownHosts = join(home, `known_hosts-${h.name}`);
      await writeFile(knownHosts, `${h.ssh.knownHostsLine}\n`);
      perHost[h.name] = { identity: h.ssh.identityFile, knownHosts };
    }
    // What the CLI uses when run with this HOME and no agent (cli/context.ts sshOptions).
    const ssh: SshLocalOptions = { home, agent: null, hosts: perHost };
    const url = nfs.getUrl(version === '3' ? 3 : 4.1);
    const opened = await Cluster.init({ url, nfsVersion: version, ssh });
    cluster = opened.cluster;
    const configPath = join(home, '.config', 'nfsvol', 'config.json');
    await saveConfig(configPath, {
      schema: CONFIG_SCHEMA_VERSION,
      url,
      clusterId: cluster.id,
      hosts: perHost,
    });
    const registered = cluster;
    await Promise.all(
      hosts.map((h) =>
        registered.addHost({
          name: h.name,
          ssh: h.ssh.target,
          identityFile: h.ssh.identityFile,
          knownHosts: perHost[h.name]?.knownHosts ?? '',
          nfsAddress: h.nfsAddress,
        }),
      ),
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      NFSVOL_CONFIG: configPath,
      SSH_AUTH_SOCK: '',
    };
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => (stopping ??= stopEverything());
    return {
      nfs,
      hosts,
      cluster: registered,
      configPath,
      home,
      cli: (argv, cliOptions = {}) => runCli(argv, env, cliOptions),
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stopEverything();
    throw error;
  }
}
