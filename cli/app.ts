import yargs, { type Argv } from 'yargs';
import {
  CommandRun,
  EXIT,
  UsageError,
  exitCodeOf,
  formatError,
  safeText,
  type CliDeps,
  type GlobalArgs,
} from './context.js';
import { debugSectionEnabled, setDebug } from '../driver/index.js';
import { COMPLETION_HOOK, completionCommand } from './commands/completion.js';
import { clusterCommand } from './commands/cluster.js';
import { pluginCommand } from './commands/plugin.js';
import { hostCommand } from './commands/host.js';
import { initCommand } from './commands/init.js';
import { syncCommand } from './commands/sync.js';
import { volumeCommand } from './commands/volume.js';
import { VERSION } from './version.js';

/** Every runnable command path, for tests that walk the tree (e.g. "every command has examples"). */
export const COMMANDS: readonly (readonly string[])[] = [
  ['init'],
  ['host'],
  ['host', 'add'],
  ['host', 'check'],
  ['host', 'trust'],
  ['host', 'ls'],
  ['host', 'rm'],
  ['volume'],
  ['volume', 'create'],
  ['volume', 'ls'],
  ['volume', 'inspect'],
  ['volume', 'rm'],
  ['volume', 'update'],
  ['volume', 'mount'],
  ['volume', 'unmount'],
  ['sync'],
  ['cluster'],
  ['cluster', 'set'],
  ['plugin'],
  ['plugin', 'serve'],
  ['completion'],
];

interface Outcome {
  code: number;
  error?: unknown;
}

/**
 * Builds the yargs parser. Handlers report through `outcome`; errors never leave a handler as
 * exceptions, so the exit code is decided here, in one place.
 */
export function buildCli(deps: CliDeps, outcome: Outcome = { code: 0 }): Argv<GlobalArgs> {
  const run = async (args: GlobalArgs, fn: (r: CommandRun) => Promise<void>): Promise<void> => {
    const r = new CommandRun(deps, args);
    const tracing = args.debug === true || debugSectionEnabled(deps.io.env['NODE_DEBUG']);
    if (tracing) setDebug((line) => deps.io.stderr(`${safeText(`NFSVOL ${process.pid}: ${line}`)}\n`));
    try {
      await fn(r);
      outcome.code = r.exitCode;
    } catch (err) {
      outcome.code = exitCodeOf(err);
      outcome.error = err;
    } finally {
      r.stopProgress();
      if (tracing) setDebug(false);
    }
    // Interrupted: whatever the command managed, the exit code says it did not finish.
    if (deps.signal?.aborted && outcome.code !== EXIT.usage) outcome.code = EXIT.interrupted;
  };
  return (
    yargs()
      .scriptName('nfsvol')
      .usage('$0 <command>\n\nShared, persistent Docker volumes on NFS for many hosts.')
      .option('config', {
        type: 'string',
        global: true,
        describe: 'config file (default $NFSVOL_CONFIG or ~/.config/nfsvol/config.json)',
      })
      .option('json', { type: 'boolean', global: true, describe: 'print results as JSON' })
      .option('quiet', {
        type: 'boolean',
        alias: 'q',
        global: true,
        describe: 'print nothing but errors (ls: names only)',
      })
      .option('debug', {
        type: 'boolean',
        global: true,
        describe: 'trace RPC calls and SSH commands on stderr (as NODE_DEBUG=nfsvol)',
      })
      .option('verbose', {
        type: 'boolean',
        alias: 'v',
        global: true,
        describe: 'per-volume progress and error causes',
      })
      .command(initCommand(run))
      .command(hostCommand(run))
      .command(volumeCommand(run))
      .command(syncCommand(run))
      .command(clusterCommand(run))
      .command(pluginCommand(run))
      .command(completionCommand(run))
      // Hidden: answers `--get-yargs-completions`, which the completion scripts run.
      .completion(COMPLETION_HOOK, false)
      .version(VERSION)
      .demandCommand(1, 'name a command')
      .example('$0 init nfs://nfs.lan/export', 'create the registry and local config')
      .example('$0 host add web1 --ssh root@10.0.0.11 --accept-new-host-key', 'register a host')
      .example('$0 volume create pgdata && docker run -v pgdata:/data ...', 'a volume every host can use')
      .epilogue(
        'Exit codes: 0 done, 1 failed, 2 usage error, 3 partly done (some hosts failed), 130 interrupted (Ctrl-C; run the command again to finish).',
      )
      .strict()
      .recommendCommands()
      .wrap(deps.width ?? Math.min(110, process.stdout.columns || 100))
      .exitProcess(false)
      .fail((msg: string | null | undefined, err: Error | undefined) => {
        throw err ?? new UsageError(msg ?? 'invalid command line');
      })
  );
}

/** Runs the CLI in-process; resolves to the exit code. */
export async function runCli(args: readonly string[], deps: CliDeps): Promise<number> {
  const outcome: Outcome = { code: EXIT.ok };
  const parser = buildCli(deps, outcome);
  const verbose = args.includes('--verbose') || args.includes('-v');
  let output = '';
  try {
    await parser.parseAsync([...args], {}, (_err: Error | undefined, _argv: unknown, text: string) => {
      output = text;
    });
  } catch (err) {
    if (output) deps.io.stderr(`${output}\n`);
    deps.io.stderr(formatError(err, verbose));
    return exitCodeOf(err);
  }
  if (output) deps.io.stdout(`${output}\n`);
  if (outcome.error !== undefined) {
    deps.io.stderr(formatError(outcome.error, verbose));
  }
  return outcome.code;
}
