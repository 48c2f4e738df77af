import type { Argv, CommandModule } from 'yargs';
import {
  parseMountOptions,
  validateMountPath,
  type DeletePolicy,
  parseId,
  parseLabels,
  parseMode,
  validateName,
  validateNames,
  type VolumeDetails,
  type VolumeSummary,
} from '../../driver/index.js';
import { EXIT, UsageError, jsonReplacer, safeText, type CommandRun, type GlobalArgs } from '../context.js';
import {
  formatRecord,
  matches,
  parseFilters,
  parseFormat,
  type Fields,
  type OutputFormat,
} from '../format.js';
import { parseNamesList, readNamesInput } from '../names-file.js';
import { BlockWriter, JsonArrayStream, TableStream, hostLines, hostsFailed, labelsText } from '../render.js';

type Run = (args: GlobalArgs, fn: (r: CommandRun) => Promise<void>) => Promise<void>;

interface CreateArgs extends GlobalArgs {
  names?: string[] | undefined;
  from?: string | undefined;
  uid?: string | undefined;
  gid?: string | undefined;
  mode?: string | undefined;
  label?: string[] | undefined;
  'on-delete': string;
  'mount-options'?: string | undefined;
  access: string;
}
interface UpdateArgs extends GlobalArgs {
  name: string;
  uid?: string | undefined;
  gid?: string | undefined;
  mode?: string | undefined;
  label?: string[] | undefined;
  unlabel?: string[] | undefined;
  'on-delete'?: string | undefined;
  'mount-options'?: string | undefined;
}
interface NamesArgs extends GlobalArgs {
  names?: string[] | undefined;
  from?: string | undefined;
  force?: boolean | undefined;
}
interface NameArgs extends GlobalArgs {
  name: string;
}
interface LsArgs extends GlobalArgs {
  format?: string | undefined;
  filter?: string[] | undefined;
}
interface InspectArgs extends NameArgs {
  format?: string | undefined;
}

const mode = (m: number): string => m.toString(8).padStart(4, '0');

/** What `--format` templates of `volume ls` can name (the JSON keys, as Docker spells fields). */
export const VOLUME_FIELDS: Fields<VolumeSummary> = {
  Name: (v) => v.name,
  OnDelete: (v) => v.onDelete,
  Access: (v) => v.access,
  Owner: (v) => `${v.uid}:${v.gid}`,
  UID: (v) => v.uid,
  GID: (v) => v.gid,
  Mode: (v) => mode(v.mode),
  Labels: (v) => v.labels,
  CreatedAt: (v) => v.createdAt,
};

/** `volume inspect` has those and what only inspect reads. */
export const VOLUME_DETAIL_FIELDS: Fields<VolumeDetails> = {
  ...(VOLUME_FIELDS as Fields<VolumeDetails>),
  Path: (d) => d.path,
  Options: (d) => d.options,
  Usage: (d) => d.usage,
  Bytes: (d) => d.usage.bytes,
  Files: (d) => d.usage.files,
  Hosts: (d) => d.hosts.map((h) => (h.defined === 'pending' ? `${h.host} (pending)` : h.host)),
  Mounts: (d) => d.mounts.map((m) => `${m.host}:${m.path}`),
};

const formatOption = (example: string) =>
  ({
    type: 'string',
    describe: `json (one JSON object a line), or a template such as '${example}'`,
  }) as const;

/** Parses --format up front (exit 2 before any work), or undefined for the default output. */
function outputFormat<T>(
  spec: string | undefined,
  fields: Fields<T>,
  labels?: string,
): OutputFormat<T> | undefined {
  return spec === undefined ? undefined : parseFormat(spec, fields, labels);
}
interface MountArgs extends GlobalArgs {
  name: string;
  host: string;
  path: string;
}
interface UnmountArgs extends GlobalArgs {
  name: string;
  host: string;
}

const fromOption = (verb: string) =>
  ({
    type: 'string',
    // Without nargs, yargs-parser does not take a lone `-` as the option's value.
    nargs: 1,
    describe: `also ${verb} the names in FILE, one per line (- for standard input)`,
  }) as const;

function namesGiven(a: { names?: string[] | undefined; from?: string | undefined }): true {
  if ((a.names?.length ?? 0) === 0 && a.from === undefined) {
    throw new UsageError('give at least one volume name, or --from FILE');
  }
  return true;
}

/** The names given as arguments and in `--from`, validated, duplicates dropped. */
async function collectNames(
  argv: { names?: string[] | undefined; from?: string | undefined },
  r: CommandRun,
): Promise<string[]> {
  const listed =
    argv.from === undefined
      ? []
      : parseNamesList(
          await readNamesInput(argv.from, r.deps.io.stdin ?? (() => process.stdin)),
          argv.from === '-' ? 'standard input' : argv.from,
        );
  return validateNames([...(argv.names ?? []), ...listed]);
}

function create(run: Run): CommandModule<GlobalArgs, CreateArgs> {
  return {
    command: 'create [names..]',
    describe: 'Create volumes (directories on the export + records), defined on every host',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('names', {
          type: 'string',
          array: true,
          describe: 'one or more volume names',
        })
        .option('from', fromOption('create'))
        .option('uid', { type: 'string', describe: 'owner uid of the directory (default 0)' })
        .option('gid', { type: 'string', describe: 'owner gid of the directory (default 0)' })
        .option('mode', { type: 'string', describe: 'octal mode of the directory (default 0755)' })
        .option('label', {
          type: 'string',
          array: true,
          describe: 'KEY=VALUE (repeatable; VALUE may contain =)',
        })
        .option('on-delete', {
          type: 'string',
          choices: ['retain', 'delete', 'archive'],
          default: 'retain',
          describe: 'what rm does with the data',
        })
        .option('mount-options', {
          type: 'string',
          describe: "this volume's NFS mount options, after the cluster's (e.g. soft,timeo=100)",
        })
        .option('access', {
          type: 'string',
          choices: ['multi-writer', 'single-writer'],
          default: 'multi-writer',
          describe:
            'single-writer: one host at a time, mounted only by the nfsvol Docker plugin (docs/plugin.md)',
        })
        .example('$0 volume create pgdata --uid 999 --gid 999 --mode 0700', 'one volume')
        .example('$0 volume create pgdata --access single-writer', 'a database: never two hosts at once')
        .example(
          '$0 volume create cache1 cache2 cache3 --on-delete delete --label team=web',
          'several at once',
        )
        .example('$0 volume create logs --on-delete archive --label "opts=a=b"', 'a label value with =')
        .example('$0 volume create --from names.txt', 'thousands at once, one name per line')
        .check(namesGiven) as Argv<CreateArgs>,
    handler: (argv) =>
      run(argv, async (r) => {
        // Everything is validated before anything touches the export or a host.
        const names = await collectNames(argv, r);
        const options = {
          ...(argv.uid === undefined ? {} : { uid: parseId(argv.uid, 'uid') }),
          ...(argv.gid === undefined ? {} : { gid: parseId(argv.gid, 'gid') }),
          ...(argv.mode === undefined ? {} : { mode: parseMode(argv.mode) }),
          labels: parseLabels(argv.label ?? []),
          onDelete: argv['on-delete'] as DeletePolicy,
          ...(argv['mount-options'] === undefined
            ? {}
            : { mountOptions: parseMountOptions(argv['mount-options']) }),
          ...(argv.access === 'single-writer' ? { access: 'single-writer' as const } : {}),
          ...(r.signal ? { signal: r.signal } : {}),
        };
        r.startProgress('creating', 'created', names.length);
        await r.withCluster(async (c) => {
          const res = await c.createVolumes(names, options);
          const failed = res.volumes.filter((v) => v.status === 'failed');
          const notStarted = failed.filter((v) => v.error?.code === 'INTERRUPTED');
          r.result(res, () => {
            const created = res.volumes.filter((v) => v.status === 'created').length;
            const existed = res.volumes.filter((v) => v.status === 'exists');
            const lines = [`created ${created} volume(s)`];
            if (existed.length) lines.push(`already existed: ${existed.map((v) => v.name).join(', ')}`);
            for (const f of failed) {
              if (f.error?.code !== 'INTERRUPTED')
                lines.push(`FAILED ${f.name}: ${f.error?.message ?? ''} (${f.error?.code ?? ''})`);
            }
            if (notStarted.length > 0) {
              lines.push(
                `not started (interrupted): ${notStarted.length} volume(s); run the same command again to finish`,
              );
            }
            lines.push(...hostLines(res.hosts));
            return lines.join('\n');
          });
          if (failed.length > 0) r.settle(EXIT.failed);
          else if (hostsFailed(res.hosts)) r.settle(EXIT.partial);
          r.problems(hostLines(res.hosts.filter((h) => !h.ok)));
        });
      }),
  };
}

function ls(run: Run): CommandModule<GlobalArgs, LsArgs> {
  return {
    command: 'ls',
    describe: 'List volumes',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('format', formatOption('{{.Name}}\\t{{.Labels}}'))
        .option('filter', {
          type: 'string',
          array: true,
          alias: 'f',
          describe: 'name=SUBSTR (any of them), label=KEY or label=KEY=VALUE (all of them); repeatable',
        })
        .conflicts('format', 'json')
        .example('$0 volume ls', 'table')
        .example('$0 volume ls -q', 'names only, one a line')
        .example('$0 volume ls -f label=team=web -f name=db', 'team=web and named *db*')
        .example('$0 volume ls --format \'{{.Name}}\\t{{.Label "team"}}\'', 'a template')
        .example('$0 volume ls --format json', 'one JSON object a line')
        .example('$0 volume ls --json', 'one JSON array') as Argv<LsArgs>,
    handler: (argv) =>
      run(argv, (r) => {
        const format = outputFormat(argv.format, VOLUME_FIELDS, 'Labels');
        const filters = parseFilters(argv.filter ?? [], ['name', 'label']);
        const keep = (v: VolumeSummary): boolean => matches(filters, v.name, v.labels);
        return r.withCluster(async (c) => {
          // Streamed: a listing of any length is printed without holding it whole.
          const header = ['NAME', 'ON-DELETE', 'OWNER', 'MODE', 'LABELS'];
          const table = new TableStream(header, (text) => r.deps.io.stdout(safeText(text)));
          const volumes = c.streamVolumes({ onNames: (n) => table.atLeast(0, n.longestKey) });
          // Stop listing on Ctrl-C, or when the reader of the output has gone (`| head`).
          const gone = (): boolean => r.outputGone || r.signal?.aborted === true;
          if (format !== undefined || (r.args.quiet && !r.json)) {
            const line = (v: VolumeSummary): string =>
              format === undefined ? `${v.name}\n` : formatRecord(format, v);
            const out = new BlockWriter((t) => r.deps.io.stdout(format?.kind === 'json' ? t : safeText(t)));
            for await (const v of volumes) {
              if (gone()) break;
              if (keep(v)) out.add(line(v));
            }
            out.end();
            return;
          }
          if (r.json) {
            const out = new JsonArrayStream(r.deps.io.stdout, jsonReplacer);
            for await (const v of volumes) {
              if (gone()) break;
              if (keep(v)) out.item(v);
            }
            out.end();
            return;
          }
          for await (const v of volumes) {
            if (gone()) break;
            if (!keep(v)) continue;
            table.row([v.name, v.onDelete, `${v.uid}:${v.gid}`, mode(v.mode), labelsText(v.labels)]);
          }
          table.end();
        });
      }),
  };
}

function inspect(run: Run): CommandModule<GlobalArgs, InspectArgs> {
  return {
    command: 'inspect <name>',
    describe: 'Show a volume: path, options, labels, usage, hosts and mounts',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('name', { type: 'string', demandOption: true })
        .option('format', formatOption('{{.Path}}'))
        .conflicts('format', 'json')
        .example('$0 volume inspect pgdata', '')
        .example("$0 volume inspect pgdata --format '{{.Bytes}}'", 'one field')
        .example('$0 volume inspect pgdata --format json', 'on one line') as Argv<InspectArgs>,
    handler: (argv) =>
      run(argv, async (r) => {
        const name = validateName(argv.name);
        const format = outputFormat(argv.format, VOLUME_DETAIL_FIELDS, 'Labels');
        await r.withCluster(async (c) => {
          const d = await c.inspectVolume(name);
          if (format !== undefined) {
            const text = formatRecord(format, d);
            r.deps.io.stdout(format.kind === 'json' ? text : safeText(text));
            return;
          }
          r.result(d, () =>
            [
              `name:       ${d.name}`,
              `path:       ${d.path}`,
              `options:    ${Object.entries(d.options)
                .map(([k, v]) => `${k}=${v}`)
                .join(' ')}`,
              `owner:      ${d.uid}:${d.gid} mode ${mode(d.mode)}`,
              `on-delete:  ${d.onDelete}`,
              `access:     ${d.access}`,
              `labels:     ${labelsText(d.labels) || '-'}`,
              `usage:      ${d.usage.bytes} bytes, ${d.usage.files} files, ${d.usage.directories} directories`,
              `hosts:      ${d.hosts.map((h) => `${h.host}${h.defined === 'pending' ? ' (pending)' : ''}`).join(', ') || '-'}`,
              `mounts:     ${d.mounts.map((m) => `${m.host}:${m.path}`).join(', ') || '-'}`,
              `created:    ${d.createdAt}`,
            ].join('\n'),
          );
        });
      }),
  };
}

function rm(run: Run): CommandModule<GlobalArgs, NamesArgs> {
  return {
    command: 'rm [names..]',
    describe: "Remove volumes, then apply each one's policy (delete, retain or archive) to its data",
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('names', { type: 'string', array: true, describe: 'one or more volume names' })
        .option('from', fromOption('remove'))
        .option('force', {
          type: 'boolean',
          alias: 'f',
          default: false,
          describe: 'remove even while a host mounts it',
        })
        .example('$0 volume rm cache1 cache2', '')
        .example('$0 volume rm -f pgdata', 'unmounts host mounts first (-f is --force)')
        .check(namesGiven) as Argv<NamesArgs>,
    handler: (argv) =>
      run(argv, async (r) => {
        const names = await collectNames(argv, r);
        r.startProgress('removing', 'removed', names.length);
        await r.withCluster(async (c) => {
          const res = await c.removeVolumes(names, {
            force: argv.force === true,
            ...(r.signal ? { signal: r.signal } : {}),
          });
          const bad = res.volumes.filter((v) => v.status !== 'removed');
          r.result(res, () =>
            [
              ...res.volumes.map((v) =>
                v.status === 'removed'
                  ? `removed ${v.name} (${v.policy ?? ''}${v.archivedAs ? ` -> ${v.archivedAs}` : ''})`
                  : `${v.status.toUpperCase()} ${v.name}: ${v.error?.message ?? ''} (${v.error?.code ?? ''})`,
              ),
              ...hostLines(res.hosts),
            ].join('\n'),
          );
          if (bad.length > 0) r.settle(EXIT.failed);
          else if (hostsFailed(res.hosts)) r.settle(EXIT.partial);
          r.problems(hostLines(res.hosts.filter((h) => !h.ok)));
        });
      }),
  };
}

function update(run: Run): CommandModule<GlobalArgs, UpdateArgs> {
  return {
    command: 'update <name>',
    describe: "Change a volume's owner, mode, labels, delete policy or mount options",
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('name', { type: 'string', demandOption: true })
        .option('uid', { type: 'string', describe: 'new owner uid of the directory' })
        .option('gid', { type: 'string', describe: 'new owner gid of the directory' })
        .option('mode', { type: 'string', describe: 'new octal mode of the directory' })
        .option('label', { type: 'string', array: true, describe: 'KEY=VALUE to set (repeatable)' })
        .option('unlabel', { type: 'string', array: true, describe: 'KEY to remove (repeatable)' })
        .option('on-delete', {
          type: 'string',
          choices: ['retain', 'delete', 'archive'],
          describe: 'what rm does with the data',
        })
        .option('mount-options', {
          type: 'string',
          describe: "this volume's mount options, replacing its own ('' for none)",
        })
        .example('$0 volume update pgdata --uid 999 --gid 999 --mode 0700', 'new owner and mode')
        .example('$0 volume update cache1 --label team=data --unlabel tier', 'labels')
        .example(
          '$0 volume update pgdata --mount-options hard,timeo=600',
          'redefined on every host where no container uses it; the others owe it until `nfsvol sync`',
        ) as Argv<UpdateArgs>,
    handler: (argv) =>
      run(argv, async (r) => {
        validateName(argv.name);
        const options = {
          ...(argv.uid === undefined ? {} : { uid: parseId(argv.uid, 'uid') }),
          ...(argv.gid === undefined ? {} : { gid: parseId(argv.gid, 'gid') }),
          ...(argv.mode === undefined ? {} : { mode: parseMode(argv.mode) }),
          ...(argv.label === undefined ? {} : { labels: parseLabels(argv.label) }),
          ...(argv.unlabel === undefined ? {} : { unlabel: argv.unlabel }),
          ...(argv['on-delete'] === undefined ? {} : { onDelete: argv['on-delete'] as DeletePolicy }),
          ...(argv['mount-options'] === undefined
            ? {}
            : { mountOptions: parseMountOptions(argv['mount-options']) }),
          ...(r.signal ? { signal: r.signal } : {}),
        };
        if (Object.keys(options).filter((k) => k !== 'signal').length === 0) {
          throw new UsageError('name at least one thing to change (see --help)');
        }
        await r.withCluster(async (c) => {
          const res = await c.updateVolume(argv.name, options);
          r.result(res, () =>
            [
              res.changed.length > 0
                ? `updated ${argv.name}: ${res.changed.join(', ')}`
                : `${argv.name}: nothing to change`,
              ...hostLines(res.hosts),
            ].join('\n'),
          );
          if (hostsFailed(res.hosts)) r.settle(EXIT.partial);
          r.problems(hostLines(res.hosts.filter((h) => !h.ok)));
        });
      }),
  };
}

function mount(run: Run): CommandModule<GlobalArgs, MountArgs> {
  return {
    command: 'mount <name>',
    describe: 'Mount a volume on a host with the kernel NFS client, and record it',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('name', { type: 'string', demandOption: true })
        .option('host', { type: 'string', demandOption: true })
        .option('path', {
          type: 'string',
          demandOption: true,
          describe: 'absolute mount point (created if missing)',
        })
        .example('$0 volume mount pgdata --host web1 --path /mnt/pgdata', '') as Argv<MountArgs>,
    handler: (argv) =>
      run(argv, async (r) => {
        validateName(argv.name);
        validateName(argv.host, 'host');
        validateMountPath(argv.path);
        await r.withCluster(async (c) => {
          const m = await c.mountVolume({ volume: argv.name, host: argv.host, path: argv.path });
          r.result(m, () => `mounted ${m.volume} on ${m.host}:${m.path}`);
        });
      }),
  };
}

function unmount(run: Run): CommandModule<GlobalArgs, UnmountArgs> {
  return {
    command: 'unmount <name>',
    describe: 'Unmount a recorded host mount',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('name', { type: 'string', demandOption: true })
        .option('host', { type: 'string', demandOption: true })
        .example('$0 volume unmount pgdata --host web1', '') as Argv<UnmountArgs>,
    handler: (argv) =>
      run(argv, async (r) => {
        validateName(argv.name);
        validateName(argv.host, 'host');
        await r.withCluster(async (c) => {
          const m = await c.unmountVolume({ volume: argv.name, host: argv.host });
          r.result(m, () => `unmounted ${m.volume} from ${m.host}:${m.path}`);
        });
      }),
  };
}

export function volumeCommand(run: Run): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'volume <command>',
    describe: 'Create, list, inspect, remove and mount volumes',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .command(create(run))
        .command(ls(run))
        .command(inspect(run))
        .command(rm(run))
        .command(update(run))
        .command(mount(run))
        .command(unmount(run))
        .demandCommand(1, 'name a volume command')
        .example('$0 volume create pgdata', 'create a volume')
        .example('$0 volume ls', 'list volumes'),
    handler: () => undefined,
  };
}
