import type { Argv, CommandModule } from 'yargs';
import { validateNames } from '../../driver/index.js';
import { EXIT, type CommandRun, type GlobalArgs } from '../context.js';
import { hostLines } from '../render.js';

interface SyncArgs extends GlobalArgs {
  host?: string[] | undefined;
}

export function syncCommand(
  run: (args: GlobalArgs, fn: (r: CommandRun) => Promise<void>) => Promise<void>,
): CommandModule<GlobalArgs, SyncArgs> {
  return {
    command: 'sync',
    describe: 'Reconcile hosts with the registry: define missing volumes, report drift, remove deleted ones',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('host', { type: 'string', array: true, describe: 'only this host (repeatable)' })
        .example('$0 sync', 'every host, in parallel')
        .example('$0 sync --host web1', 'one host, e.g. after it came back') as Argv<SyncArgs>,
    handler: (argv) =>
      run(argv, (r) => {
        // Host names are validated before anything touches the export or a host.
        const hosts = argv.host ? validateNames(argv.host, 'host') : undefined;
        return r.withCluster(async (c) => {
          const report = await c.sync({
            ...(hosts ? { hosts } : {}),
            ...(r.signal ? { signal: r.signal } : {}),
          });
          const failed = report.hosts.filter((h) => !h.ok);
          r.result(report, () =>
            report.hosts.length === 0 ? 'no hosts registered' : hostLines(report.hosts).join('\n'),
          );
          r.problems(hostLines(failed));
          if (failed.length > 0) r.settle(failed.length === report.hosts.length ? EXIT.failed : EXIT.partial);
        });
      }),
  };
}
