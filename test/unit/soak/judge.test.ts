import { describe, expect, it } from 'vitest';
import { stateToJson, type FinalState } from '../../soak/final-state.js';
import { judge, type SoakEvidence } from '../../soak/harness.js';
import type { CommandRecord } from '../../soak/history.js';
import { formatReport } from '../../soak/report.js';

const empty: FinalState = {
  clusterId: 'c1',
  records: new Map([['a', { onDelete: 'retain' }]]),
  badRecords: new Map(),
  dirs: new Set(['a']),
  archive: [],
  mountRecords: [],
  pending: new Map(),
  hosts: [{ name: 'h1', reachable: true, definitions: [], mounts: [], foreign: [] }],
};

function evidence(sync: Partial<CommandRecord>, lockTrace = ''): SoakEvidence {
  const finalSync: CommandRecord = {
    id: 9,
    actor: 'final',
    kind: 'sync',
    args: ['sync'],
    startedMs: 100,
    endedMs: 110,
    exitCode: 0,
    killed: false,
    stdout: '{"hosts":[],"ok":true}',
    stderr: '',
    ...sync,
  };
  const defined = {
    ...empty,
    hosts: [{ ...empty.hosts[0]!, definitions: [{ name: 'a', labels: {}, device: ':/export/a' }] }],
  };
  return {
    seed: 5,
    durationMs: 60_000,
    outDir: '/tmp/x',
    history: [finalSync],
    containers: [],
    // Round-tripped through JSON, as --recheck reads it.
    pre: JSON.parse(JSON.stringify(stateToJson(empty))) as SoakEvidence['pre'],
    final: JSON.parse(JSON.stringify(stateToJson(defined))) as SoakEvidence['final'],
    finalSyncId: 9,
    lockTrace,
    faults: {},
    containerCounts: { started: 0, stopped: 0, skipped: 0 },
  };
}

describe('soak verdict from evidence', () => {
  it('judges the saved state readings: pre-sync gaps, a failed final sync, no lock trace', () => {
    const r = judge(evidence({ exitCode: 1, stdout: '{"hosts":[{"host":"h1","ok":false}]}' }));
    expect(r.violations.map((v) => `${v.invariant} ${v.phase}`)).toEqual([
      'I1-record-complete pre-sync',
      'I1-record-complete final',
    ]);
    expect(r.lockTrace.recorded).toBe(false);
    const text = formatReport(r);
    expect(text).toContain('lock trace: none recorded');
    expect(text).toContain('[I1-record-complete] (pre-sync) seed 5: a: has a record but no definition on h1');
    expect(text).toContain('reproduce: npm run soak -- --seed 5 --minutes 1.0');
  });

  it('a clean run with a lock trace passes and says what the trace held', () => {
    const trace = [
      '{"event":"acquired","key":"volume-a","owner":"o1","pid":1}',
      '{"event":"releasing","key":"volume-a","owner":"o1","pid":1}',
    ].join('\n');
    const e = evidence({}, trace);
    const r = judge({ ...e, pre: e.final });
    expect(r.violations).toEqual([]);
    expect(formatReport(r)).toMatch(/lock trace: 2 events, 1 acquisitions on 1 keys/);
  });
});
