import { describe, expect, it } from 'vitest';
import { initialisedCli } from '../../support/cli.js';

/** Volumes with labels to filter and format on. */
async function withVolumes(): Promise<Awaited<ReturnType<typeof initialisedCli>>> {
  const s = await initialisedCli();
  const make = async (...args: string[]): Promise<void> => {
    expect((await s.cli('volume', 'create', '-q', ...args)).code).toBe(0);
  };
  await make('web-cache', '--label', 'team=web', '--label', 'tier=cache');
  await make('web-db', '--label', 'team=web', '--label', 'opts=a=b', '--mode', '0700');
  await make('ops-logs', '--label', 'team=ops');
  await make('scratch');
  return s;
}

describe('docker-style output: -q, --format, --filter', { timeout: 60_000 }, () => {
  it('-q lists names only, one a line (volume ls, host ls); elsewhere it still means quiet', async () => {
    const s = await withVolumes();
    expect(await s.cli('volume', 'ls', '-q')).toEqual({
      code: 0,
      stdout: 'ops-logs\nscratch\nweb-cache\nweb-db\n',
      stderr: '',
    });
    expect((await s.cli('volume', 'ls', '--quiet')).stdout).toBe('ops-logs\nscratch\nweb-cache\nweb-db\n');
    expect((await s.cli('host', 'ls', '-q')).stdout).toBe('h1\nh2\n');
    expect(await s.cli('volume', 'create', 'more', '-q')).toEqual({ code: 0, stdout: '', stderr: '' });
    // --json keeps its documented shape, -q or not.
    const json = await s.cli('volume', 'ls', '-q', '--json');
    expect((JSON.parse(json.stdout) as { name: string }[]).map((v) => v.name)).toHaveLength(5);
  });

  it('--format json prints one JSON object a line: the same objects as --json', async () => {
    const s = await withVolumes();
    const lines = (await s.cli('volume', 'ls', '--format', 'json')).stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    const array = JSON.parse((await s.cli('volume', 'ls', '--json')).stdout) as unknown[];
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(array);
    expect(lines[3]).toBe(JSON.stringify(array[3]));

    const hosts = (await s.cli('host', 'ls', '--format', 'json')).stdout.trimEnd().split('\n');
    expect(hosts.map((l) => (JSON.parse(l) as { name: string }).name)).toEqual(['h1', 'h2']);

    const one = await s.cli('volume', 'inspect', 'web-db', '--format', 'json');
    expect(one.stdout.split('\n')).toHaveLength(2);
    expect(JSON.parse(one.stdout)).toMatchObject({ name: 'web-db', path: '/export/web-db' });
  });

  it('--format templates substitute fields, labels, JSON; \\t is a tab', async () => {
    const s = await withVolumes();
    const ls = await s.cli('volume', 'ls', '--format', '{{.Name}}\\t{{.Label "team"}}\\t{{.Mode}}');
    expect(ls.stdout).toBe('ops-logs\tops\t0755\nscratch\t\t0755\nweb-cache\tweb\t0755\nweb-db\tweb\t0700\n');
    const labels = await s.cli('volume', 'ls', '--format', '{{ .Name }}: {{.Labels}} {{json .Labels}}');
    expect(labels.stdout.split('\n')[3]).toBe('web-db: team=web,opts=a=b {"team":"web","opts":"a=b"}');
    const all = await s.cli('volume', 'ls', '--format', '{{json .}}');
    expect(JSON.parse(all.stdout.split('\n')[0] ?? '')).toMatchObject({
      name: 'ops-logs',
      labels: { team: 'ops' },
    });

    expect((await s.cli('volume', 'inspect', 'web-db', '--format', '{{.Path}}')).stdout).toBe(
      '/export/web-db\n',
    );
    const ins = await s.cli('volume', 'inspect', 'web-db', '--format', '{{.Owner}} {{.Hosts}} {{.Files}}');
    expect(ins.stdout).toBe('0:0 h1, h2 0\n');
    const hosts = await s.cli('host', 'ls', '--format', '{{.Name}}={{.SSH}}');
    expect(hosts.stdout).toBe('h1=root@127.0.0.1:2201\nh2=root@127.0.0.1:2202\n');
  });

  it('a template prints a label that holds terminal controls escaped; JSON keeps it exact', async () => {
    const s = await initialisedCli();
    expect((await s.cli('volume', 'create', 'vv', '--label', 'x=\u001b]0;pwned\u0007', '-q')).code).toBe(0);
    const text = await s.cli('volume', 'ls', '--format', '{{.Labels}}');
    expect(text.stdout).toBe('x=\\u001b]0;pwned\\u0007\n');
    const json = await s.cli('volume', 'ls', '--format', 'json');
    expect((JSON.parse(json.stdout) as { labels: Record<string, string> }).labels['x']).toBe(
      '\u001b]0;pwned\u0007',
    );
  });

  it('a bad --format or --filter exits 2 with one line naming what exists, before touching the export', async () => {
    const s = await withVolumes();
    const before = s.nfsCalls();
    for (const [args, says] of [
      [['volume', 'ls', '--format', '{{.Nmae}}'], /no field 'Nmae'.*Name, OnDelete, Access, Owner/],
      [['volume', 'ls', '--format', '{{range .}}x{{end}}'], /'\{\{range \.\}\}' is not a template action/],
      [['volume', 'ls', '--format', '{{.Name'], /unclosed/],
      [['volume', 'ls', '--format', 'table {{.Name}}'], /table templates are not supported/],
      [['volume', 'inspect', 'web-db', '--format', '{{.Nope}}'], /no field 'Nope'.*Path/],
      [['host', 'ls', '--format', '{{.Label "x"}}'], /not a template action/],
      [['volume', 'ls', '--filter', 'driver=local'], /unknown filter 'driver' \(known: name=, label=\)/],
      [['volume', 'ls', '--filter', 'label='], /needs a value/],
      [['host', 'ls', '--filter', 'label=x'], /unknown filter 'label' \(known: name=\)/],
      [['volume', 'ls', '--format', 'json', '--json'], /mutually exclusive/],
    ] as const) {
      const r = await s.cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(says);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
    expect(s.nfsCalls()).toBe(before);
  });

  it('--filter: name= matches a substring (any of them), label= a key or key=value (all of them)', async () => {
    const s = await withVolumes();
    const names = async (...filters: string[]): Promise<string> =>
      (await s.cli('volume', 'ls', '-q', ...filters.flatMap((f) => ['--filter', f]))).stdout;
    expect(await names('label=team=web')).toBe('web-cache\nweb-db\n');
    expect(await names('label=team')).toBe('ops-logs\nweb-cache\nweb-db\n');
    expect(await names('label=team=web', 'label=tier')).toBe('web-cache\n');
    expect(await names('label=opts=a=b')).toBe('web-db\n');
    expect(await names('label=opts=a')).toBe('');
    expect(await names('name=web')).toBe('web-cache\nweb-db\n');
    expect(await names('name=cache', 'name=logs')).toBe('ops-logs\nweb-cache\n');
    expect(await names('name=web', 'label=team=ops')).toBe('');
    // -f is --filter; the table and JSON listings filter the same way.
    expect((await s.cli('volume', 'ls', '-f', 'name=db', '--json')).stdout).toContain('"web-db"');
    const table = await s.cli('volume', 'ls', '-f', 'label=tier=cache');
    expect(table.stdout).toMatch(/^NAME +ON-DELETE +OWNER +MODE +LABELS\nweb-cache +retain/);
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect((await s.cli('host', 'ls', '-q', '-f', 'name=2')).stdout).toBe('h2\n');
  });

  it('volume rm -f is --force', async () => {
    const s = await withVolumes();
    expect((await s.cli('volume', 'mount', 'scratch', '--host', 'h1', '--path', '/mnt/s')).code).toBe(0);
    expect((await s.cli('volume', 'rm', 'scratch')).code).toBe(1);
    const r = await s.cli('volume', 'rm', '-f', 'scratch');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('removed scratch');
  });

  it('stops listing when the reader of stdout has gone (| head), exit 0', async () => {
    const s = await initialisedCli();
    const names = Array.from({ length: 1500 }, (_, i) => `v${String(i).padStart(4, '0')}`);
    expect((await s.cli('volume', 'create', '-q', ...names)).code).toBe(0);
    const closed = new AbortController();
    let blocks = 0;
    // Long lines, so the listing takes several blocks of output.
    const r = await s.cliWith(
      { stdoutClosed: closed.signal, onStdout: () => ++blocks === 1 && closed.abort() },
      'volume',
      'ls',
      '--format',
      '{{.Name}} {{.CreatedAt}} {{.CreatedAt}} {{.CreatedAt}}',
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    // One block of output was written; the listing stopped before the rest.
    expect(blocks).toBe(1);
    expect(r.stdout.split('\n').length).toBeLessThan(1500);
  }, 30_000);
});
