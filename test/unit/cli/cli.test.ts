import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { COMMANDS } from '../../../cli/app.js';
import { InterruptedError } from '../../../driver/common/errors.js';
import { HOSTILE_NAMES } from '../../fakes/hostile-inputs.js';
import { bundleCli } from '../../support/bundle-cli.js';
import { fakeClusterCli, initialisedCli } from '../../support/cli.js';

// Bulk creates in memory take seconds on a busy machine (2 cores shared): more than the default 5 s.
describe('nfsvol CLI', { timeout: 30_000 }, () => {
  it.each(COMMANDS.map((c) => [c.join(' ')]))('%s --help shows examples and exits 0', async (cmd) => {
    const s = await fakeClusterCli();
    const r = await s.cli(...cmd.split(' '), '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain(`nfsvol ${cmd}`);
  });

  it('top-level --help lists the exit codes', async () => {
    const r = await (await fakeClusterCli()).cli('--help');
    expect(r.stdout).toMatch(/Exit codes: 0 done, 1 failed, 2 usage error, 3 partly done/);
  });

  it('usage errors exit 2 with one line', async () => {
    const s = await fakeClusterCli();
    for (const args of [[], ['bogus'], ['volume'], ['volume', 'create'], ['init'], ['host', 'add', 'x']]) {
      const r = await s.cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^nfsvol: .+ \(USAGE\)\n$/m);
    }
  });

  it('init writes the config; commands before init fail with a clear line (exit 1)', async () => {
    const s = await fakeClusterCli();
    const before = await s.cli('volume', 'ls');
    expect(before.code).toBe(1);
    expect(before.stderr).toBe(
      `nfsvol: no config at ${s.config}; run 'nfsvol init nfs://SERVER/EXPORT' first (or pass --config) (NOT_INITIALIZED)\n`,
    );
    const r = await s.cli('init', 'nfs://127.0.0.1:2049/export', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { created: boolean; clusterId: string };
    expect(out.created).toBe(true);
    expect(JSON.parse(await readFile(s.config, 'utf8'))).toMatchObject({
      schema: 1,
      clusterId: out.clusterId,
    });
  });

  it('creates, lists, inspects and removes volumes with --json results', async () => {
    const s = await initialisedCli();
    const c = await s.cli('volume', 'create', 'va', 'vb', '--label', 'opts=x=y', '--mode', '0700', '--json');
    expect(c.code).toBe(0);
    const created = JSON.parse(c.stdout) as {
      volumes: { name: string; status: string }[];
      hosts: { ok: boolean }[];
    };
    expect(created.volumes.map((v) => v.status)).toEqual(['created', 'created']);
    expect(created.hosts).toHaveLength(2);

    const ls = await s.cli('volume', 'ls', '--json');
    expect((JSON.parse(ls.stdout) as { name: string }[]).map((v) => v.name)).toEqual(['va', 'vb']);
    const text = await s.cli('volume', 'ls');
    expect(text.stdout).toMatch(/^NAME +ON-DELETE +OWNER +MODE +LABELS\nva +retain +0:0 +0700 +opts=x=y\n/);

    const ins = await s.cli('volume', 'inspect', 'va', '--json');
    expect(JSON.parse(ins.stdout)).toMatchObject({ name: 'va', path: '/export/va', labels: { opts: 'x=y' } });

    const rm = await s.cli('volume', 'rm', 'va', 'vb');
    expect(rm.code).toBe(0);
    expect(rm.stdout).toContain('removed va (retain)');
  });

  it('takes names from --from FILE or standard input; a bad line is named and nothing is created', async () => {
    const s = await initialisedCli();
    const file = join(s.dir, 'names.txt');
    const many = Array.from({ length: 2000 }, (_, i) => `bulk-${i}`);
    await writeFile(file, `# volumes for the web tier\r\n${many.join('\r\n')}\r\n\n  spaced  \n`);
    const c = await s.cli('volume', 'create', 'first', '--from', file, '--json');
    expect(c.code).toBe(0);
    const out = JSON.parse(c.stdout) as { volumes: { name: string; status: string }[] };
    expect(out.volumes).toHaveLength(2002);
    expect(out.volumes.slice(0, 2).map((v) => v.name)).toEqual(['first', 'bulk-0']);
    expect(out.volumes.at(-1)).toMatchObject({ name: 'spaced', status: 'created' });

    const piped = await s.cliWith(
      {
        stdin: async function* () {
          yield Buffer.from('from-stdin-1\nfrom-');
          yield Buffer.from('stdin-2\n');
        },
      },
      'volume',
      'create',
      '--from',
      '-',
      '--json',
    );
    expect(piped.code).toBe(0);
    expect((JSON.parse(piped.stdout) as { volumes: { name: string }[] }).volumes.map((v) => v.name)).toEqual([
      'from-stdin-1',
      'from-stdin-2',
    ]);

    await writeFile(file, 'ok-1\nok-2\n../x\n');
    const bad = await s.cli('volume', 'create', '--from', file);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^nfsvol: from: .*names\.txt line 3: .*\.\.\/x.*\(VALIDATION\)\n$/);
    const missing = await s.cli('volume', 'create', '--from', join(s.dir, 'nope.txt'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    expect(missing.stderr).toContain('ENOENT');
    const ls = JSON.parse((await s.cli('volume', 'ls', '--json')).stdout) as { name: string }[];
    expect(ls.some((v) => v.name.startsWith('ok-'))).toBe(false);
    expect(ls).toHaveLength(2004);

    await writeFile(file, many.join('\n'));
    const rm = await s.cli('volume', 'rm', '--from', file, '--json');
    expect(rm.code).toBe(0);
    expect((JSON.parse((await s.cli('volume', 'ls', '--json')).stdout) as unknown[]).length).toBe(4);
  }, 60_000);

  it('lists more volumes than one table sample, streamed: JSON exactly as a whole array, columns aligned', async () => {
    const s = await initialisedCli();
    const names = Array.from({ length: 1100 }, (_, i) => (i === 1050 ? `a-much-longer-name-${i}` : `v${i}`));
    expect((await s.cli('volume', 'create', ...names, '--quiet')).code).toBe(0);
    const json = await s.cli('volume', 'ls', '--json', '--verbose');
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout) as { name: string }[];
    expect(listed.map((v) => v.name)).toEqual([...names].sort());
    expect(json.stdout).toBe(`${JSON.stringify(listed, null, 2)}\n`);
    // Every record was created by this CLI, so the listing read none of them.
    expect(json.stderr).toContain('listed 1100 volume(s): 1100 from the listing cache, 0 record(s) read');
    const text = await s.cli('volume', 'ls');
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1101);
    const col = lines[0]!.indexOf('ON-DELETE');
    expect(col).toBe('a-much-longer-name-1050'.length + 2);
    for (const l of lines.slice(1)) expect(l.slice(col, col + 7), l).toBe('retain ');
    expect((await s.cli('volume', 'ls', '--json')).stdout).toBe(json.stdout);
  }, 60_000);

  it('an empty listing is [] with --json and a header alone as a table', async () => {
    const s = await initialisedCli();
    expect((await s.cli('volume', 'ls', '--json')).stdout).toBe('[]\n');
    expect((await s.cli('volume', 'ls')).stdout).toBe('NAME  ON-DELETE  OWNER  MODE  LABELS\n');
  });

  it('Ctrl-C during a create: volumes started are finished, the rest are not started, exit 130; again finishes', async () => {
    const s = await initialisedCli();
    const names = Array.from({ length: 300 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    const interrupt = new AbortController();
    const mkdir = s.fs.mkdir.bind(s.fs);
    let made = 0;
    s.fs.mkdir = async (...a: Parameters<typeof mkdir>) => {
      if (a[0].startsWith('c') && ++made === 40) interrupt.abort(new InterruptedError());
      return mkdir(...a);
    };
    const r = await s.cliWith({ signal: interrupt.signal }, 'volume', 'create', ...names, '--json');
    expect(r.code).toBe(130);
    const out = JSON.parse(r.stdout) as {
      volumes: { name: string; status: string; error?: { code: string } }[];
    };
    const created = out.volumes.filter((v) => v.status === 'created').map((v) => v.name);
    const notStarted = out.volumes.filter((v) => v.error?.code === 'INTERRUPTED');
    expect(created.length).toBeGreaterThanOrEqual(40);
    expect(created.length + notStarted.length).toBe(300);
    // What the report says exists is exactly what is on the export: whole volumes only.
    const dirs = s.fs.list('').filter((n) => n.startsWith('c'));
    const records = s.fs.list('.nfsvol/volumes').map((f) => f.replace(/\.json$/, ''));
    expect(dirs.sort()).toEqual([...created].sort());
    expect(records.sort()).toEqual([...created].sort());
    for (const n of records) expect(s.fs.peek(`.nfsvol/volumes/${n}.json`)?.length).toBeGreaterThan(0);

    const text = await s.cliWith(
      { signal: AbortSignal.abort(new InterruptedError()) },
      'volume',
      'create',
      'late',
    );
    expect(text.code).toBe(130);
    expect(text.stdout).toContain(
      'not started (interrupted): 1 volume(s); run the same command again to finish',
    );

    s.fs.mkdir = mkdir;
    const again = await s.cli('volume', 'create', ...names, '--json');
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout) as { volumes: { status: string }[] };
    expect(second.volumes.filter((v) => v.status === 'created')).toHaveLength(300 - created.length);
    expect(s.fs.list('.nfsvol/volumes')).toHaveLength(300);
  });

  it('exit 3 when some hosts failed, and the output says which', async () => {
    const s = await initialisedCli();
    const h2 = s.hosts.get('127.0.0.1:2202');
    if (h2) h2.reachable = false;
    const r = await s.cli('volume', 'create', 'v1');
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/host h2: FAILED .*HOST_UNREACHABLE.*pending/);
    expect(r.stdout).toMatch(/host h1: ok/);
    expect(r.stderr).toMatch(/nfsvol: h2: failed/);
    const ls = await s.cli('host', 'ls', '--json');
    expect(JSON.parse(ls.stdout)).toMatchObject([
      { name: 'h1', pending: [] },
      { name: 'h2', pending: ['define v1'] },
    ]);
    if (h2) h2.reachable = true;
    const sync = await s.cli('sync');
    expect(sync.code).toBe(0);
    expect(sync.stdout).toContain('host h2: ok, 1 defined');
  });

  it('hostile names exit 2 before touching the export or any host', async () => {
    const s = await initialisedCli();
    const calls = s.nfsCalls();
    const cmds = [...s.hosts.values()].map((h) => h.commands.length);
    for (const name of HOSTILE_NAMES) {
      const r = await s.cli('volume', 'create', name);
      expect(r.code, JSON.stringify(name)).toBe(2);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    }
    expect((await s.cli('volume', 'create', 'ok', '--label', 'bad key=x')).code).toBe(2);
    expect((await s.cli('volume', 'mount', 'ok', '--host', 'h1', '--path', 'rel')).code).toBe(2);
    expect((await s.cli('host', 'add', 'h3', '--ssh', 'root@$(id)')).code).toBe(2);
    expect(s.nfsCalls()).toBe(calls);
    expect([...s.hosts.values()].map((h) => h.commands.length)).toEqual(cmds);
  });

  it('a corrupt config is named and never overwritten, even by init', async () => {
    const s = await fakeClusterCli();
    await writeFile(s.config, '{"schema": 9}');
    const r = await s.cli('volume', 'ls');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(s.config);
    expect(r.stderr).toContain('REGISTRY_SCHEMA_NEWER');
    const init = await s.cli('init', 'nfs://127.0.0.1/export');
    expect(init.code).toBe(1);
    expect(await readFile(s.config, 'utf8')).toBe('{"schema": 9}');
  });

  it('--quiet still says which hosts failed, on stderr, with exit 3', async () => {
    const s = await initialisedCli();
    s.hosts.get('127.0.0.1:2202')!.reachable = false;
    const r = await s.cli('sync', '--quiet');
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^nfsvol: host h2: FAILED .*; pending\n$/);
  });

  it('--quiet prints nothing on success; --verbose shows causes', async () => {
    const s = await initialisedCli();
    expect(await s.cli('volume', 'create', 'qq', '--quiet')).toEqual({ code: 0, stdout: '', stderr: '' });
    s.fs.put('.nfsvol/volumes/broken.json', 'garbage');
    const r = await s.cli('volume', 'ls', '--verbose');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^nfsvol: \.nfsvol\/volumes\/broken\.json is corrupt: not valid JSON.*\(REGISTRY_CORRUPT\)\n {2}caused by: SyntaxError/,
    );
  });

  it('a host cannot drive the terminal: control characters in its output are shown escaped', async () => {
    const s = await initialisedCli();
    const h1 = s.hosts.get('127.0.0.1:2201');
    if (h1) h1.uname = 'Linux \u001b]0;pwned\u0007\u001b[2J\u009b31m\n';
    const r = await s.cli('host', 'check', 'h1');
    expect(r.code).toBe(0);
    for (const c of ['\u001b', '\u0007', '\u009b']) expect(r.stdout + r.stderr).not.toContain(c);
    expect(r.stdout).toContain('Linux \\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m');
  });

  it('rm refused while mounted exits 1 and says where it is mounted', async () => {
    const s = await initialisedCli();
    await s.cli('volume', 'create', 'db', '-q');
    expect((await s.cli('volume', 'mount', 'db', '--host', 'h1', '--path', '/mnt/db')).code).toBe(0);
    const r = await s.cli('volume', 'rm', 'db');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('REFUSED db: db is mounted on h1:/mnt/db');
    expect((await s.cli('volume', 'rm', 'db', '--force')).code).toBe(0);
  });
});

describe('nfsvol as a process', () => {
  it('runs through its shebang entry point', async () => {
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'cli/main.ts', 'volume', '--help'], {
      env: { ...process.env, NFSVOL_CONFIG: '/nonexistent/config.json' },
    });
    expect(stdout).toContain('nfsvol volume create');
    expect((await readFile('cli/main.ts', 'utf8')).startsWith('#!/usr/bin/env node\n')).toBe(true);
    const err = await promisify(execFile)('npx', ['tsx', 'cli/main.ts', 'volume', 'create', '$(id)']).catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(err).toMatchObject({ code: 2 });
  }, 30_000);

  it('runs as the bundle npm installs (npm run build:cli), ssh2 loaded from node_modules', async () => {
    const out = await bundleCli(await mkdtemp(join(tmpdir(), 'nfsvol-bundle-')));
    const head = (await readFile(out, 'utf8')).slice(0, 100);
    expect(head.startsWith('#!/usr/bin/env node\n')).toBe(true);
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as {
      version: string;
      bin: { nfsvol: string };
    };
    expect(pkg.bin.nfsvol).toBe('dist/nfsvol.js');
    const env = { ...process.env, NFSVOL_CONFIG: '/nonexistent/config.json' };
    const { stdout } = await promisify(execFile)(process.execPath, [out, '--version'], { env });
    expect(stdout.trim()).toBe(pkg.version);
    const err = await promisify(execFile)(process.execPath, [out, 'volume', 'create', '$(id)'], {
      env,
    }).catch((e: unknown) => e as { code: number; stderr: string });
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('(VALIDATION)');
    // Loaded on the first SSH connection; it must resolve from where the bundle is.
    expect(createRequire(out).resolve('ssh2')).toContain('node_modules/ssh2');
  }, 30_000);
});

describe('exit codes say what happened', () => {
  it('host check: 0 when every check passes, 1 when one fails', async () => {
    const s = await initialisedCli();
    expect((await s.cli('host', 'check', 'h1')).code).toBe(0);
    s.host(1).reachable = false;
    const r = await s.cli('host', 'check', 'h1');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ssh/);
  });

  it('sync: 3 when some hosts failed (the rest is done), 1 when every host failed', async () => {
    const s = await initialisedCli();
    s.host(2).reachable = false;
    expect((await s.cli('sync')).code).toBe(3);
    s.host(1).reachable = false;
    expect((await s.cli('sync')).code).toBe(1);
  });

  it('volume create: 1 when a volume failed, 3 when only hosts failed', async () => {
    const s = await initialisedCli();
    s.fs.put('taken', 'a file where the directory would go');
    const r = await s.cli('volume', 'create', 'taken', 'fine');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED taken: .*VOLUME_PATH_TAKEN/);
    s.host(2).reachable = false;
    expect((await s.cli('volume', 'create', 'other')).code).toBe(3);
  });

  it('volume rm: 1 when a volume is refused (in use), its data and definitions kept', async () => {
    const s = await initialisedCli();
    expect((await s.cli('volume', 'create', 'db', '--on-delete', 'delete', '-q')).code).toBe(0);
    s.host(1).inUse.add('db');
    const r = await s.cli('volume', 'rm', 'db');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/REFUSED db: db is used by containers on h1.*\(VOLUME_IN_USE\)/);
    expect(s.fs.has('db')).toBe(true);
  });
});

describe('changing things after create, from the command line', () => {
  it('volume update changes what it is told and says what changed; nothing to change is a usage error', async () => {
    const s = await initialisedCli();
    expect((await s.cli('volume', 'create', 'db', '--mount-options', 'soft', '-q')).code).toBe(0);
    const r = await s.cli('volume', 'update', 'db', '--uid', '999', '--mount-options', 'hard', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      changed: string[];
      volume: { uid: number; mountOptions: string[] };
    };
    expect(out.changed).toEqual(['uid', 'mountOptions']);
    expect(out.volume).toMatchObject({ uid: 999, mountOptions: ['hard'] });
    const none = await s.cli('volume', 'update', 'db');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/at least one thing to change/);
    expect((await s.cli('volume', 'update', 'db', '--mount-options', 'addr=evil')).code).toBe(2);
  });

  it('cluster set --server redefines every host, and a bad address changes nothing', async () => {
    const s = await initialisedCli();
    expect((await s.cli('volume', 'create', 'v1', '-q')).code).toBe(0);
    const r = await s.cli('cluster', 'set', '--server', 'nas2.lan');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^changed server$/m);
    expect(r.stdout).toMatch(/host h1: ok, 0 defined, 0 removed, 1 redefined/);
    expect((await s.cli('cluster', 'set', '--server', 'nas,vers=3')).code).toBe(2);
  });
});
