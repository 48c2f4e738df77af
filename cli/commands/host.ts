import type { Argv, CommandModule } from 'yargs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import {
  saveConfig,
  parseSshAddress,
  validateAddress,
  validateName,
  type HostSummary,
} from '../../driver/index.js';
import { EXIT, UsageError, safeText, type CommandRun, type GlobalArgs } from '../context.js';
import { formatRecord, matches, parseFilters, parseFormat, type Fields } from '../format.js';
import { hostLines, table } from '../render.js';

type Run = (args: GlobalArgs, fn: (r: CommandRun) => Promise<void>) => Promise<void>;

interface AddArgs extends GlobalArgs {
  name: string;
  ssh: string;
  identity?: string | undefined;
  'known-hosts'?: string | undefined;
  'accept-new-host-key'?: boolean | undefined;
  'nfs-address'?: string | undefined;
  plugin?: boolean | undefined;
}
interface NameArgs extends GlobalArgs {
  name: string;
}
interface LsArgs extends GlobalArgs {
  format?: string | undefined;
  filter?: string[] | undefined;
}

/** What `--format` templates of `host ls` can name. */
export const HOST_FIELDS: Fields<HostSummary> = {
  Name: (h) => h.name,
  SSH: (h) => h.ssh,
  NfsAddress: (h) => h.nfsAddress,
  Fingerprint: (h) => h.fingerprint,
  AddedAt: (h) => h.addedAt,
  Pending: (h) => h.pending,
  Docker: (h) => h.docker,
};

function add(run: Run): CommandModule<GlobalArgs, AddArgs> {
  return {
    command: 'add <name>',
    describe: 'Register a Docker host reached over SSH and define every volume on it',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('name', {
          type: 'string',
          demandOption: true,
          describe: 'host name (letters, digits, _ . -)',
        })
        .option('ssh', {
          type: 'string',
          demandOption: true,
          describe: '[USER@]ADDRESS[:PORT]; ADDRESS may be a Host alias of ~/.ssh/config',
        })
        .option('identity', {
          type: 'string',
          describe:
            'private key file, remembered in the local config (default: ssh-agent, IdentityFile, ~/.ssh/id_*)',
        })
        .option('known-hosts', {
          type: 'string',
          describe:
            "known_hosts file for this host's key, remembered in the local config (default ~/.ssh/known_hosts)",
        })
        .option('accept-new-host-key', {
          type: 'boolean',
          default: false,
          describe: 'pin the key the host presents if known_hosts does not list it',
        })
        .option('nfs-address', { type: 'string', describe: 'address this host uses to reach the NFS server' })
        .option('plugin', {
          type: 'boolean',
          default: false,
          describe:
            "the nfsvol Docker plugin serves this host's Docker (nfsvol plugin serve there): no local definitions",
        })
        .example('$0 host add web1 --ssh root@10.0.0.11', 'key must be in ~/.ssh/known_hosts')
        .example('$0 host add web2 --ssh web2', 'user, port, key and bastion from ~/.ssh/config')
        .example(
          '$0 host add vm1 --ssh root@127.0.0.1:2222 --identity ~/.ssh/id_ed25519 --accept-new-host-key --nfs-address 10.0.2.2',
          'pin a new host key; the host reaches the server at another address',
        ) as Argv<AddArgs>,
    handler: (argv) =>
      run(argv, async (r) => {
        // Validate before opening the export or connecting anywhere.
        validateName(argv.name, 'host name');
        parseSshAddress(argv.ssh);
        if (argv['nfs-address'] !== undefined) validateAddress(argv['nfs-address'], 'nfs-address');
        const knownHosts = argv['known-hosts'] === undefined ? undefined : resolve(argv['known-hosts']);
        const identity = argv.identity === undefined ? undefined : resolve(argv.identity);
        await r.withCluster(async (c, config) => {
          const res = await c.addHost({
            name: argv.name,
            ssh: argv.ssh,
            ...(identity === undefined ? {} : { identityFile: identity }),
            ...(knownHosts === undefined ? {} : { knownHosts }),
            acceptNewHostKey: argv['accept-new-host-key'] === true,
            ...(argv['nfs-address'] === undefined ? {} : { nfsAddress: argv['nfs-address'] }),
            ...(argv.plugin === true ? { plugin: true } : {}),
            ...(r.signal ? { signal: r.signal } : {}),
          });
          // Later commands log in with the same key and check the same known_hosts: both are
          // this machine's to keep, so they go to the local config, not to the registry.
          if (identity !== undefined || knownHosts !== undefined) {
            const mine = {
              ...(identity === undefined ? {} : { identity }),
              ...(knownHosts === undefined ? {} : { knownHosts }),
            };
            await saveConfig(r.configPath(), {
              ...config,
              hosts: { ...config.hosts, [res.host.name]: mine },
            });
          }
          r.result(res, () =>
            [
              `added host ${res.host.name} (${res.host.ssh.user}@${res.host.ssh.address}:${res.host.ssh.port}, key ${res.host.hostKey.fingerprint}, docker ${res.dockerVersion})`,
              ...hostLines([res.sync]),
            ].join('\n'),
          );
          if (!res.sync.ok) r.settle(EXIT.partial);
        });
      }),
  };
}

interface TrustArgs extends NameArgs {
  yes?: boolean | undefined;
}

/** A y/N question on the terminal; undefined when standard input is not one. */
async function askOnTerminal(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

function trust(run: Run): CommandModule<GlobalArgs, TrustArgs> {
  return {
    command: 'trust <name>',
    describe: "Vouch for a registered host's key on this machine (adds it to known_hosts)",
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('name', { type: 'string', demandOption: true })
        .option('yes', {
          type: 'boolean',
          describe: 'add the key without asking (check the fingerprint first)',
        })
        .example('$0 host trust web1', 'show the fingerprint, ask, then add it to known_hosts')
        .example('$0 host trust web1 --yes', 'add it without asking') as Argv<TrustArgs>,
    handler: (argv) =>
      run(argv, (r) =>
        r.withCluster(async (c) => {
          const res = await c.trustHost(argv.name, async (q) => {
            if (argv.yes === true) return true;
            r.deps.io.stderr(
              safeText(
                `nfsvol: ${q.host} is registered with ${q.keyType} key ${q.fingerprint} for ${q.knownHostsName}.\n` +
                  `nfsvol: compare it with 'ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub' run on the host itself.\n`,
              ),
            );
            const answer = await (r.deps.io.ask ?? askOnTerminal)(`Add it to ${q.file}? [y/N] `);
            if (answer === undefined) {
              throw new UsageError(
                `${q.host}: not asking without a terminal; check the fingerprint ${q.fingerprint} and pass --yes`,
              );
            }
            return /^y(es)?$/i.test(answer.trim());
          });
          r.result(res, () =>
            res.status === 'listed'
              ? `${res.host}: key ${res.fingerprint} is already trusted (${res.knownHostsName} in known_hosts)`
              : res.status === 'added'
                ? `${res.host}: added key ${res.fingerprint} for ${res.knownHostsName} to ${res.file}`
                : `${res.host}: not trusted; nothing changed`,
          );
          if (res.status === 'declined') r.settle(EXIT.failed);
        }),
      ),
  };
}

function check(run: Run): CommandModule<GlobalArgs, NameArgs> {
  return {
    command: 'check <name>',
    describe: 'Check SSH, Docker, kernel NFS support and a real test mount on a host',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('name', { type: 'string', demandOption: true })
        .example('$0 host check web1', 'one pass/fail line per check') as Argv<NameArgs>,
    handler: (argv) =>
      run(argv, (r) =>
        r.withCluster(async (c) => {
          const res = await c.checkHost(argv.name, r.signal);
          r.result(res, () =>
            res.checks.map((k) => `${k.ok ? 'PASS' : 'FAIL'}  ${k.check.padEnd(10)}  ${k.detail}`).join('\n'),
          );
          if (!res.ok) r.settle(EXIT.failed);
        }),
      ),
  };
}

function ls(run: Run): CommandModule<GlobalArgs, LsArgs> {
  return {
    command: 'ls',
    describe: 'List registered hosts and any work they still owe',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('format', {
          type: 'string',
          describe: "json (one JSON object a line), or a template such as '{{.Name}}\\t{{.SSH}}'",
        })
        .option('filter', { type: 'string', array: true, alias: 'f', describe: 'name=SUBSTR; repeatable' })
        .conflicts('format', 'json')
        .example('$0 host ls', 'table')
        .example('$0 host ls -q', 'names only')
        .example("$0 host ls --format '{{.Name}} {{.Pending}}'", 'a template')
        .example('$0 host ls --json', 'machine-readable') as Argv<LsArgs>,
    handler: (argv) =>
      run(argv, (r) => {
        const format = argv.format === undefined ? undefined : parseFormat(argv.format, HOST_FIELDS);
        const filters = parseFilters(argv.filter ?? [], ['name']);
        return r.withCluster(async (c) => {
          const hosts = (await c.listHosts()).filter((h) => matches(filters, h.name));
          if (format !== undefined) {
            const text = hosts.map((h) => formatRecord(format, h)).join('');
            r.deps.io.stdout(format.kind === 'json' ? text : safeText(text));
            return;
          }
          if (r.args.quiet && !r.json) {
            r.deps.io.stdout(hosts.map((h) => `${h.name}\n`).join(''));
            return;
          }
          r.result(hosts, () =>
            table(
              ['NAME', 'SSH', 'NFS ADDRESS', 'HOST KEY', 'PENDING'],
              hosts.map((h) => [h.name, h.ssh, h.nfsAddress, h.fingerprint, h.pending.join(', ') || '-']),
            ),
          );
        });
      }),
  };
}

interface RmArgs extends NameArgs {
  purge?: boolean | undefined;
}

function rm(run: Run): CommandModule<GlobalArgs, RmArgs> {
  return {
    command: 'rm <name>',
    describe: 'Unregister a host (its Docker definitions stay unless --purge)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('name', { type: 'string', demandOption: true })
        .option('purge', {
          type: 'boolean',
          describe:
            "first unmount its host mounts and remove this cluster's Docker volumes from it (their data stays on the export)",
        })
        .example('$0 host rm web1', 'forget the host; what is defined on it stays')
        .example('$0 host rm web1 --purge', 'take nfsvol off the host, then forget it') as Argv<RmArgs>,
    handler: (argv) =>
      run(argv, (r) =>
        r.withCluster(async (c, config) => {
          const res = await c.removeHost(argv.name, {
            purge: argv.purge === true,
            ...(r.signal ? { signal: r.signal } : {}),
          });
          const mine = config.hosts;
          if (mine && Object.hasOwn(mine, res.host.name)) {
            const rest = Object.fromEntries(Object.entries(mine).filter(([k]) => k !== res.host.name));
            await saveConfig(r.configPath(), { ...config, hosts: rest });
          }
          r.result({ removed: res.host.name, ...(res.purged ? { purged: res.purged } : {}) }, () =>
            [
              ...(res.purged
                ? [
                    `unmounted ${res.purged.unmounted.length} host mount(s), removed ${res.purged.definitions.length} Docker volume(s) from ${res.host.name}`,
                  ]
                : []),
              `removed host ${res.host.name}`,
            ].join('\n'),
          );
        }),
      ),
  };
}

export function hostCommand(run: Run): CommandModule<GlobalArgs, GlobalArgs> {
  return {
    command: 'host <command>',
    describe: 'Manage the Docker hosts volumes are defined on',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .command(add(run))
        .command(check(run))
        .command(trust(run))
        .command(ls(run))
        .command(rm(run))
        .demandCommand(1, 'name a host command')
        .example('$0 host add web1 --ssh root@10.0.0.11', 'register a host')
        .example('$0 host ls', 'list hosts'),
    handler: () => undefined,
  };
}
