import type { Argv, CommandModule } from 'yargs';
import { Cluster, CONFIG_SCHEMA_VERSION, saveConfig, type NfsVersion } from '../../driver/index.js';
import type { CommandRun, GlobalArgs } from '../context.js';

interface InitArgs extends GlobalArgs {
  url: string;
  'nfs-version': string;
  'mount-options'?: string | undefined;
  'known-hosts'?: string | undefined;
}

export function initCommand(
  run: (args: GlobalArgs, fn: (r: CommandRun) => Promise<void>) => Promise<void>,
): CommandModule<GlobalArgs, InitArgs> {
  return {
    command: 'init <url>',
    describe: 'Create the registry on an NFS export (or join the one there) and write the local config',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('url', {
          type: 'string',
          demandOption: true,
          describe: 'nfs://SERVER[:PORT]/EXPORT[?mountport=N]',
        })
        .option('nfs-version', {
          type: 'string',
          choices: ['3', '4.1'],
          default: '4.1',
          describe: 'NFS version hosts mount with',
        })
        .option('mount-options', {
          type: 'string',
          describe: 'extra NFS mount options for every host, e.g. hard,timeo=600',
        })
        .option('known-hosts', {
          type: 'string',
          describe: 'known_hosts file for host add (default ~/.ssh/known_hosts)',
        })
        .example('$0 init nfs://nfs.lan/export', 'hosts mount with NFSv4.1')
        .example(
          '$0 init nfs://10.0.0.5:2049/srv/vols --nfs-version 3 --mount-options hard,timeo=600',
          'NFSv3',
        ) as Argv<InitArgs>,
    handler: (argv) =>
      run(argv, async (r) => {
        const { cluster, created } = await Cluster.init({
          ...r.deps.cluster,
          url: argv.url,
          nfsVersion: argv['nfs-version'] as NfsVersion,
          ...(argv['mount-options'] === undefined ? {} : { mountOptions: argv['mount-options'] }),
          progress: r.progress,
        });
        try {
          const file = r.configPath();
          await saveConfig(file, {
            schema: CONFIG_SCHEMA_VERSION,
            url: argv.url,
            clusterId: cluster.id,
            ...(argv['known-hosts'] === undefined ? {} : { knownHosts: argv['known-hosts'] }),
          });
          const s = cluster.settings;
          r.result({ created, clusterId: cluster.id, config: file, nfs: s.nfs }, () =>
            [
              `${created ? 'created' : 'joined existing'} cluster ${cluster.id} on ${argv.url}`,
              `hosts mount with NFS ${s.nfs.version}${s.nfs.mountOptions.length ? ` (${s.nfs.mountOptions.join(',')})` : ''}`,
              `config written to ${file}`,
            ].join('\n'),
          );
        } finally {
          await cluster.close();
        }
      }),
  };
}
