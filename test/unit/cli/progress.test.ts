import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ProgressDisplay, formatDuration, type ProgressClock } from '../../../cli/progress.js';
import { initialisedCli } from '../../support/cli.js';

/** A clock the test moves: timers fire in order as time passes, never on their own. */
class FakeClock implements ProgressClock {
  private t = 0;
  private timers: { ms: number; fn: () => void; next: number }[] = [];

  now(): number {
    return this.t;
  }

  every(ms: number, fn: () => void): () => void {
    const timer = { ms, fn, next: this.t + ms };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.t = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.t = end;
  }
}

/** A terminal that records what is drawn on it. */
function fakeTty(): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const stream = new Writable({
    write: (chunk: Buffer, _enc, cb) => {
      out += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns: 100 });
  return { stream, text: () => out };
}

describe('progress display', () => {
  it('without a terminal: a plain line every 5 s with count, rate and time left, and a last one', () => {
    const clock = new FakeClock();
    const lines: string[] = [];
    const p = new ProgressDisplay('creating', 'created', 1000, { line: (t) => lines.push(t), clock });
    for (let i = 0; i < 200; i++) p.tick();
    clock.advance(4999);
    expect(lines).toEqual([]);
    clock.advance(1);
    for (let i = 0; i < 300; i++) p.tick();
    clock.advance(5000);
    clock.advance(2500);
    p.stop();
    p.stop();
    expect(lines).toEqual([
      'nfsvol: created 200/1000 volumes (40.0/s, about 20s left)\n',
      'nfsvol: created 500/1000 volumes (50.0/s, about 10s left)\n',
      'nfsvol: created 500/1000 volumes (40.0/s, in 13s)\n',
    ]);
  });

  it('work done within the first interval prints nothing at all', () => {
    const clock = new FakeClock();
    const lines: string[] = [];
    const p = new ProgressDisplay('creating', 'created', 3, { line: (t) => lines.push(t), clock });
    p.tick();
    clock.advance(900);
    p.stop();
    clock.advance(60_000);
    expect(lines).toEqual([]);
    const tty = fakeTty();
    const q = new ProgressDisplay('creating', 'created', 3, {
      tty: tty.stream,
      line: () => undefined,
      clock,
    });
    clock.advance(999);
    q.stop();
    expect(tty.text()).toBe('');
  });

  it('on a terminal: a bar after a second, drawn in place, its last state left on screen', () => {
    const clock = new FakeClock();
    const tty = fakeTty();
    const lines: string[] = [];
    const p = new ProgressDisplay('removing', 'removed', 400, {
      tty: tty.stream,
      line: (t) => lines.push(t),
      clock,
    });
    for (let i = 0; i < 100; i++) p.tick();
    clock.advance(1000);
    expect(tty.text()).toContain('nfsvol: removing [');
    expect(tty.text()).toContain('100/400 volumes | 100/s | 3s left');
    for (let i = 0; i < 300; i++) p.tick();
    clock.advance(1000);
    p.stop();
    const screen = tty.text();
    expect(screen).toContain('400/400 volumes | 200/s | 0s left');
    // Drawn in place: the cursor moves back over the line, no line per update; and the cursor
    // is never hidden (it would stay hidden if the process were killed mid-bar).
    expect(screen.split('\n').length).toBeLessThanOrEqual(2);
    expect(screen).not.toContain('\u001b[?25l');
    expect(lines).toEqual([]);
  });

  it('formats durations briefly', () => {
    expect([0, 0.2, 42, 185, 3725].map(formatDuration)).toEqual(['0s', '1s', '42s', '3m05s', '1h02m']);
  });
});

// Each creates hundreds of volumes in memory: seconds on a busy machine.
describe('progress of bulk commands', { timeout: 60_000 }, () => {
  /** A create of 300 volumes while the clock moves 1 s every 20 directories made. */
  async function bulkCreate(...flags: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const s = await initialisedCli();
    const clock = new FakeClock();
    const mkdir = s.fs.mkdir.bind(s.fs);
    let made = 0;
    s.fs.mkdir = async (...a: Parameters<typeof mkdir>) => {
      if (++made % 20 === 0) clock.advance(1000);
      return mkdir(...a);
    };
    const names = Array.from({ length: 300 }, (_, i) => `p${String(i).padStart(3, '0')}`);
    return s.cliWith({ clock }, 'volume', 'create', ...names, ...flags);
  }

  it('volume create prints progress lines on stderr only; stdout holds the result alone', async () => {
    const r = await bulkCreate();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^created 300 volume\(s\)\nhost h1: ok, 300 defined/);
    expect(r.stdout).not.toContain('volumes (');
    const progress = r.stderr.split('\n').filter((l) => l.includes('volumes ('));
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress[0]).toMatch(/^nfsvol: created \d+\/300 volumes \([\d.]+\/s, about \d+s left\)$/);
    expect(progress.at(-1)).toMatch(/^nfsvol: created 300\/300 volumes \([\d.]+\/s, in 1\ds\)$/);
  });

  it('--quiet and --json print no progress; --verbose a line per volume instead', async () => {
    const quiet = await bulkCreate('--quiet');
    expect(quiet).toEqual({ code: 0, stdout: '', stderr: '' });
    const json = await bulkCreate('--json');
    expect(json.stderr).not.toContain('volumes (');
    expect((JSON.parse(json.stdout) as { volumes: unknown[] }).volumes).toHaveLength(300);
    const verbose = await bulkCreate('--verbose');
    expect(verbose.stderr).not.toContain('volumes (');
    expect(
      verbose.stderr
        .split('\n')
        .filter((l) => / p\d+: created$/.test(l) || /^nfsvol: p\d+: created$/.test(l)),
    ).toHaveLength(300);
  });

  it('volume rm shows the same progress', async () => {
    const s = await initialisedCli();
    const names = Array.from({ length: 120 }, (_, i) => `r${String(i).padStart(3, '0')}`);
    expect((await s.cli('volume', 'create', '-q', ...names)).code).toBe(0);
    const clock = new FakeClock();
    const rm = s.fs.rm.bind(s.fs);
    let removed = 0;
    s.fs.rm = async (...a: Parameters<typeof rm>) => {
      if (++removed % 10 === 0) clock.advance(1000);
      return rm(...a);
    };
    const r = await s.cliWith({ clock }, 'volume', 'rm', ...names);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^nfsvol: removed \d+\/120 volumes \([\d.]+\/s, about \d+s left\)$/m);
    expect(r.stderr).toMatch(/^nfsvol: removed 120\/120 volumes \([\d.]+\/s, in \d+s\)$/m);
  });
});
