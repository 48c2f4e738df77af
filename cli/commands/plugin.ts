import type { Argv, CommandModule } from 'yargs';
import { HostVolumes, LocalHost, NfsvolError, validateMountPath, validateName } from '../../driver/index.js';
import type { CommandRun, GlobalArgs } from '../context.js';
import { hostVolumesBackend } from '../plugin/backend.js';
import { startPluginServer } from '../plugin/server.js';

type Run = (args: GlobalArgs, fn: (r: CommandRun) => Promise<void>) => Promise<void>;

/** Where dockerd looks for a plugin's socket by name (`-d nfsvol`). */
const DEFAULT_SOCKET = '/run/docker/plugins/nfsvol.sock';
/** Where volumes are mounted for containers (a managed plugin's propagated mount). */
const DEFAULT_MOUNT_ROOT = '/var/lib/nfsvol/mnt';

interface ServeArgs extends GlobalArgs {
  host: string;
  socket: string;
  'mount-root': string;
}

function serve(run: Run): CommandModule<GlobalArgs, ServeArgs> {
  return {
    command: 'serve',
    describe: "Answer Docker's volume plugin requests on this host until stopped (docs/plugin.md)",
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('host', {
          type: 'string',
          demandOption: true,
          describe: 'this host, as it is registered (`nfsvol host add NAME ...`)',
        })
        .option('socket', {
          type: 'string',
          default: DEFAULT_SOCKET,
          describe: 'the unix socket dockerd calls',
        })
        .option('mount-root', {
          type: 'string',
          default: DEFAULT_MOUNT_ROOT,
          describe: 'where volumes are mounted for containers',
        })
        .example(
          '$0 plugin serve --host web1',
          'then: docker volume create -d nfsvol pgdata',
        ) as Argv<ServeArgs>,
    handler: (argv) =>
      run(argv, async (r) => {
        // Checked before anything is opened: a typo is a usage error, not a socket in the wrong place.
        const host = validateName(argv.host, 'host');
        const socketPath = validateMountPath(argv.socket);
        const mountRoot = validateMountPath(argv['mount-root']);
        await r.withCluster(
          async (cluster) => {
            const say = (line: string): void => r.deps.io.stderr(`nfsvol plugin: ${line}\n`);
            const volumes = new HostVolumes(cluster, host, mountRoot, { log: say });
            // Registered, or every Mount would fail: say so at start, not at the first container.
            await cluster.listHosts().then((hosts) => {
              if (!hosts.some((h) => h.name === host)) {
                throw new NfsvolError(
                  'NOT_FOUND',
                  `${host} is not a registered host: run 'nfsvol host add ${host} --ssh ...' first`,
                );
              }
            });
            // From now on the plugin serves this host's Docker: `sync` stops giving it `local`
            // definitions of the same names, which would clash with the plugin's volumes.
            if ((await cluster.setHostDocker(host, 'plugin')).changed) {
              say(`${host} marked as a plugin host: the next 'nfsvol sync' removes its local definitions`);
            }
            const recovered = await volumes.recover();
            if (recovered.forgotten.length + recovered.held.length > 0) {
              say(
                `recovered: ${recovered.forgotten.length} mount record(s) without a mount forgotten, ${recovered.held.length} writer lease(s) taken back`,
              );
            }
            await using _leases = { [Symbol.asyncDispose]: () => volumes.close() };
            await using server = await startPluginServer({
              socketPath,
              backend: hostVolumesBackend(volumes),
              onProblem: (endpoint, err) => say(`${endpoint}: ${err}`),
            });
            r.deps.io.stderr(
              `nfsvol plugin: serving ${host} on ${server.socketPath}, mounts under ${mountRoot}\n`,
            );
            // Until SIGTERM or Ctrl-C: a stop is how a plugin ends, so it is not an interruption.
            await new Promise<void>((resolve) => {
              if (!r.signal || r.signal.aborted) resolve();
              else r.signal.addEventListener('abort', () => resolve(), { once: true });
            });
          },
          { self: new LocalHost(host) },
        );
      }),
  };
}

export function pluginCommand(run: Run): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'plugin <command>',
    describe: 'Serve Docker as its volume plugin on this host',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .command(serve(run))
        .demandCommand(1, 'name a plugin command')
        .example('$0 plugin serve --host web1', 'docker volume create -d nfsvol NAME works on web1'),
    handler: () => undefined,
  };
}
