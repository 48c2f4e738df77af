import type { Argv, CommandModule } from 'yargs';
import { parseMountOptions, validateAddress } from '../../driver/index.js';
import { EXIT, UsageError, type CommandRun, type GlobalArgs } from '../context.js';
import { hostLines, hostsFailed } from '../render.js';

type Run = (args: GlobalArgs, fn: (r: CommandRun) => Promise<void>) => Promise<void>;

interface SetArgs extends GlobalArgs {
  server?: string | undefined;
  'mount-options'?: string | undefined;
  'writer-lease'?: number | undefined;
}

function set(run: Run): CommandModule<GlobalArgs, SetArgs> {
  return {
    command: 'set',
    describe:
      "Change the cluster's NFS server address, mount options (moving every definition) or single-writer lease",
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('server', {
          type: 'string',
          describe: 'address hosts mount the NFS server at (hosts with their own --nfs-address keep it)',
        })
        .option('mount-options', {
          type: 'string',
          describe: "mount options of every volume, replacing the cluster's ('' for none)",
        })
        .option('writer-lease', {
          type: 'number',
          describe:
            'seconds a single-writer volume waits for a dead holder (default 15; restart plugins after)',
        })
        .example('$0 cluster set --server nas2.lan', 'the NFS server moved')
        .example(
          '$0 cluster set --mount-options hard,timeo=600',
          'new options for every host',
        ) as Argv<SetArgs>,
    handler: (argv) =>
      run(argv, async (r) => {
        const options = {
          ...(argv.server === undefined ? {} : { server: validateAddress(argv.server, 'server') }),
          ...(argv['mount-options'] === undefined
            ? {}
            : { mountOptions: parseMountOptions(argv['mount-options']) }),
          ...(argv['writer-lease'] === undefined
            ? {}
            : { writerLeaseMs: Math.round(argv['writer-lease'] * 1000) }),
          ...(r.signal ? { signal: r.signal } : {}),
        };
        if (
          options.server === undefined &&
          options.mountOptions === undefined &&
          options.writerLeaseMs === undefined
        ) {
          throw new UsageError('name --server, --mount-options or --writer-lease');
        }
        await r.withCluster(async (c) => {
          const res = await c.setCluster(options);
          const hosts = res.sync?.hosts ?? [];
          r.result(res, () =>
            [
              res.changed.length > 0 ? `changed ${res.changed.join(', ')}` : 'nothing to change',
              ...hostLines(hosts),
              ...(res.changed.includes('server')
                ? [
                    'host mounts made by `volume mount` keep the old address until mounted again;',
                    "this machine's config still reaches the export at its own URL (`nfsvol init NEWURL` to change it)",
                  ]
                : []),
            ].join('\n'),
          );
          if (hostsFailed(hosts)) r.settle(EXIT.partial);
          r.problems(hostLines(hosts.filter((h) => !h.ok)));
        });
      }),
  };
}

export function clusterCommand(run: Run): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'cluster <command>',
    describe: 'Change cluster-wide settings',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .command(set(run))
        .demandCommand(1, 'name a cluster command')
        .example('$0 cluster set --server nas2.lan', 'move every definition to a new server address'),
    handler: () => undefined,
  };
}
