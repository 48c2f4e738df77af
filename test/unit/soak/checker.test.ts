import { describe, expect, it } from 'vitest';
import {
  checkInUse,
  checkMounts,
  checkOutcomes,
  checkRemovals,
  checkState,
  checkStuckLocks,
  type CheckCounts,
} from '../../soak/checker.js';
import type { FinalState, HostState } from '../../soak/final-state.js';
import type { CommandRecord } from '../../soak/history.js';

let nextId = 1;
function cmd(
  args: string[],
  startedMs: number,
  endedMs: number,
  out: unknown,
  extra: Partial<CommandRecord> = {},
): CommandRecord {
  const kind: CommandRecord['kind'] =
    args[0] === 'sync' ? 'sync' : ((args[1] ?? 'ls') as CommandRecord['kind']);
  return {
    id: nextId++,
    actor: 'w0',
    kind,
    args,
    startedMs,
    endedMs,
    exitCode: 0,
    killed: false,
    stdout: out === undefined ? '' : JSON.stringify(out),
    stderr: '',
    ...extra,
  };
}
const created = (name: string) => ({ volumes: [{ name, status: 'created' }], hosts: [] });
const removed = (name: string, policy: string, archivedAs?: string) => ({
  volumes: [{ name, status: 'removed', policy, ...(archivedAs ? { archivedAs } : {}) }],
  hosts: [],
});

function host(name: string, definitions: string[], over: Partial<HostState> = {}): HostState {
  return {
    name,
    reachable: true,
    definitions: definitions.map((d) => ({ name: d, labels: {}, device: `:/export/${d}` })),
    mounts: [],
    foreign: [],
    ...over,
  };
}
function state(over: Partial<FinalState> = {}): FinalState {
  return {
    clusterId: 'c1',
    records: new Map(),
    badRecords: new Map(),
    dirs: new Set(),
    archive: [],
    mountRecords: [],
    pending: new Map(),
    hosts: [],
    ...over,
  };
}
const counts = (): CheckCounts => ({ checks: 0, undetermined: 0 });

describe('soak checker: outcomes (I5, I6)', () => {
  it('a volume reported created and never removed must have its record and directory', () => {
    const h = [cmd(['volume', 'create', 'a', '--on-delete', 'retain'], 0, 10, created('a'))];
    const v = checkOutcomes(h, state(), counts());
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ invariant: 'I6-created-exists' });
    expect(v[0]?.message).toMatch(/record is missing and its directory is missing/);
    expect(v[0]?.commands?.[0]).toMatch(/nfsvol volume create a --on-delete retain/);
    const ok = state({ records: new Map([['a', { onDelete: 'retain' }]]), dirs: new Set(['a']) });
    expect(checkOutcomes(h, ok, counts())).toEqual([]);
  });

  it('a record whose policy is not the one its creator asked for is reported', () => {
    const h = [cmd(['volume', 'create', 'a', '--on-delete', 'delete'], 0, 10, created('a'))];
    const s = state({ records: new Map([['a', { onDelete: 'retain' }]]), dirs: new Set(['a']) });
    expect(checkOutcomes(h, s, counts())[0]?.message).toMatch(/on-delete retain.*asked for delete/);
  });

  it('removed with delete: record and data gone; archive: in the archive; retain: data kept', () => {
    const h = [
      cmd(['volume', 'create', 'a', '--on-delete', 'delete'], 0, 10, created('a')),
      cmd(['volume', 'rm', 'a'], 20, 30, removed('a', 'delete')),
      cmd(['volume', 'create', 'b', '--on-delete', 'archive'], 0, 10, created('b')),
      cmd(['volume', 'rm', 'b'], 20, 30, removed('b', 'archive', '.nfsvol/archive/b-1')),
      cmd(['volume', 'create', 'c', '--on-delete', 'retain'], 0, 10, created('c')),
      cmd(['volume', 'rm', 'c'], 20, 30, removed('c', 'retain')),
    ];
    const good = state({ dirs: new Set(['c']), archive: ['b-1'] });
    expect(checkOutcomes(h, good, counts())).toEqual([]);
    const bad = state({ dirs: new Set(['a', 'b']), records: new Map([['c', { onDelete: 'retain' }]]) });
    const msgs = checkOutcomes(h, bad, counts()).map((v) => v.message);
    expect(msgs).toEqual([
      expect.stringMatching(/^a: .*data was not deleted/),
      expect.stringMatching(/^b: .*still in place.*archive has no \.nfsvol\/archive\/b-1/),
      expect.stringMatching(/^c: .*record is still there; its data is gone/),
    ]);
  });

  it('claims that overlap a removal or creation are undetermined, not judged', () => {
    const h = [
      cmd(['volume', 'create', 'a', '--on-delete', 'retain'], 0, 10, created('a')),
      cmd(['volume', 'rm', 'a'], 5, 15, undefined, { killed: true, exitCode: null, signal: 'SIGKILL' }),
    ];
    const c = counts();
    expect(checkOutcomes(h, state(), c)).toEqual([]);
    expect(c.undetermined).toBe(1);
  });

  it('two creations with no possible removal between them are reported', () => {
    const h = [
      cmd(['volume', 'create', 'a', '--on-delete', 'retain'], 0, 10, created('a')),
      cmd(['volume', 'create', 'a', '--on-delete', 'retain'], 2, 12, created('a')),
    ];
    const s = state({ records: new Map([['a', { onDelete: 'retain' }]]), dirs: new Set(['a']) });
    expect(checkOutcomes(h, s, counts())[0]?.message).toMatch(/created by two commands/);
  });
});

describe('soak checker: state (I1, I2)', () => {
  it('a record needs a directory and a definition or pending entry on every reachable host', () => {
    const s = state({
      records: new Map([['a', { onDelete: 'retain' }]]),
      dirs: new Set(['a']),
      hosts: [host('h1', ['a']), host('h2', []), host('h3', [], { reachable: false, error: 'down' })],
    });
    expect(checkState(s, 'final', counts()).map((v) => [v.invariant, v.message])).toEqual([
      ['I1-record-complete', 'a: has a record but no definition on h2 and no pending entry for it'],
      ['harness', 'h3 did not answer when the state was read: down'],
    ]);
    const pending = { ...s, hosts: s.hosts.slice(0, 2), pending: new Map([['h2', ['define:a']]]) };
    expect(checkState(pending, 'final', counts())).toEqual([]);
  });

  it('definitions and host mounts need records', () => {
    const s = state({
      hosts: [host('h1', ['x'], { mounts: [{ device: '10.0.2.2:/export/y', mountpoint: '/mnt/soak/y' }] })],
      mountRecords: [{ volume: 'z', host: 'h1', path: '/mnt/soak/z' }],
    });
    const msgs = checkState(s, 'pre-sync', counts()).map((v) => v.message);
    expect(msgs).toEqual([
      'h1: Docker volume x is labelled for this cluster but has no record (and no pending removal)',
      'h1: 10.0.2.2:/export/y is mounted at /mnt/soak/y but volume y has no record',
      'h1: 10.0.2.2:/export/y is mounted at /mnt/soak/y with no mount record',
      'mount record z@h1 names a volume with no record',
      'mount record z@h1 says /mnt/soak/z, but nothing is mounted there',
    ]);
  });
});

describe('soak checker: data kept while used (I3)', () => {
  it('reports a delete or archive while a container used the volume, not after it stopped', () => {
    const rm = cmd(['volume', 'rm', 'a'], 50, 60, removed('a', 'delete'));
    const running = { name: 'c1', host: 'h1', volume: 'a', startedMs: 10, lostLines: [] };
    expect(checkInUse([rm], [running], counts())[0]?.message).toMatch(
      /removed \(delete\) while container c1 on h1/,
    );
    expect(checkInUse([rm], [{ ...running, stoppedMs: 40 }], counts())).toEqual([]);
    expect(checkInUse([rm], [{ ...running, lostLines: ['LOST 1'] }], counts())).toHaveLength(2);
  });

  it('reports a delete while a reported host mount was not unmounted', () => {
    const mount = cmd(['volume', 'mount', 'a', '--host', 'h1', '--path', '/mnt/soak/a'], 0, 10, {
      volume: 'a',
      host: 'h1',
      path: '/mnt/soak/a',
    });
    const rm = cmd(['volume', 'rm', 'a'], 50, 60, removed('a', 'archive', '.nfsvol/archive/a-1'));
    expect(checkInUse([mount, rm], [], counts())[0]?.message).toMatch(/while mounted on h1:\/mnt\/soak\/a/);
  });
});

describe('soak checker: mounts (I5)', () => {
  const mountOut = { volume: 'a', host: 'h1', path: '/mnt/soak/a' };
  const mounted = state({
    mountRecords: [{ volume: 'a', host: 'h1', path: '/mnt/soak/a' }],
    hosts: [host('h1', [], { mounts: [{ device: '10.0.2.2:/export/a', mountpoint: '/mnt/soak/a' }] })],
  });
  const bare = state({ hosts: [host('h1', [])] });

  it('a reported mount with nothing after it is recorded and mounted', () => {
    const h = [cmd(['volume', 'mount', 'a', '--host', 'h1', '--path', '/mnt/soak/a'], 0, 10, mountOut)];
    expect(checkMounts(h, mounted, counts())).toEqual([]);
    expect(checkMounts(h, bare, counts())[0]?.message).toMatch(
      /reported mounted .* but there is no mount record and nothing is mounted at \/mnt\/soak\/a/,
    );
  });

  it('a reported unmount with no mount after it left nothing; a later unmount makes a mount undetermined', () => {
    const un = {
      ...cmd(['volume', 'unmount', 'a', '--host', 'h1'], 20, 30, mountOut),
      kind: 'unmount' as const,
    };
    expect(checkMounts([un], bare, counts())).toEqual([]);
    expect(checkMounts([un], mounted, counts())[0]?.message).toMatch(
      /reported unmounted.*record is still there/,
    );
    const m = cmd(['volume', 'mount', 'a', '--host', 'h1', '--path', '/mnt/soak/a'], 0, 10, mountOut);
    const c = counts();
    expect(checkMounts([m, { ...un, exitCode: 1, stdout: '' }], bare, c)).toEqual([]);
    expect(c.undetermined).toBe(1);
  });
});

describe('soak checker: what the commands themselves show', () => {
  it('an rm that failed after removing definitions from hosts is reported (I1)', () => {
    const out = {
      volumes: [{ name: 'a', status: 'failed', error: { code: 'LOCK_TIMEOUT', message: 'x' } }],
      hosts: [{ host: 'h2', ok: true, removed: ['a'] }],
    };
    const rm = cmd(['volume', 'rm', 'a'], 0, 10, out, { exitCode: 1 });
    expect(checkRemovals([rm], counts())[0]?.message).toBe(
      'a: rm failed (LOCK_TIMEOUT) and kept the record, but had already removed its definition from h2, with nothing pending',
    );
    const notFound = { volumes: [{ name: 'a', status: 'failed', error: { code: 'NOT_FOUND' } }], hosts: [] };
    expect(checkRemovals([cmd(['volume', 'rm', 'a'], 0, 10, notFound)], counts())).toEqual([]);
  });

  it('an rm that failed past the hosts and says the volume stays marked removing is not (the next rm finishes it)', () => {
    const out = {
      volumes: [
        { name: 'a', status: 'failed', state: 'removing', error: { code: 'NFS3ERR_IO', message: 'x' } },
      ],
      hosts: [{ host: 'h2', ok: true, removed: ['a'] }],
    };
    const c = counts();
    expect(checkRemovals([cmd(['volume', 'rm', 'a'], 0, 10, out, { exitCode: 1 })], c)).toEqual([]);
    expect(c.checks).toBe(1);
  });

  it('a lock whose holder was killed long before must not keep failing commands (liveness)', () => {
    const holder = cmd(
      ['volume', 'mount', 'a', '--host', 'h1', '--path', '/mnt/soak/a'],
      0,
      5_000,
      undefined,
      {
        killed: true,
        exitCode: null,
        pid: 4242,
        clockShift: '+5m',
      },
    );
    const late = cmd(['volume', 'rm', 'a'], 90_000, 105_000, undefined, {
      exitCode: 1,
      stderr:
        'nfsvol: timed out waiting for lock .nfsvol/locks/volume-a.lock held by 4242-ab12cd34 (LOCK_TIMEOUT)\n',
    });
    const early = { ...late, id: late.id + 100, startedMs: 20_000 };
    expect(checkStuckLocks([holder, early], counts())).toEqual([]);
    expect(checkStuckLocks([holder, late], counts())[0]?.message).toBe(
      'a lock held by pid 4242 (clock +5m), SIGKILLed 85 s before, still made a command time out',
    );
  });

  it('the export root left mounted on a host is named as such', () => {
    const s = state({
      hosts: [
        host('h1', [], { mounts: [{ device: '10.0.2.2:/export', mountpoint: '/tmp/nfsvol-check.x' }] }),
      ],
    });
    expect(checkState(s, 'final', counts()).map((v) => v.message)).toEqual([
      "h1: the export itself (10.0.2.2:/export) is still mounted at /tmp/nfsvol-check.x: a mount nfsvol left behind (host check's test mount?)",
    ]);
  });
});
