import cliProgress from 'cli-progress';

/** Time for the progress display; injectable so tests drive it without waiting. */
export interface ProgressClock {
  now(): number;
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

export const systemClock: ProgressClock = {
  now: () => performance.now(),
  every: (ms, fn) => {
    const t = setInterval(fn, ms);
    // A pending progress line never keeps the process alive.
    t.unref();
    return () => clearInterval(t);
  },
};

export interface ProgressSink {
  /** The terminal to draw a bar on (stderr when it is one); without it, plain lines go to `line`. */
  readonly tty?: NodeJS.WriteStream | undefined;
  /** Writes a line of text on stderr. */
  readonly line: (text: string) => void;
  readonly clock?: ProgressClock;
}

/** Work shorter than this shows no progress at all: a bar that flashes by says nothing. */
export const SHOW_AFTER_MS = 1000;
/** Without a terminal, a line this often (a log, a CI job, `2> file`). */
export const LINE_EVERY_MS = 5000;

/**
 * Progress of a bulk operation on stderr: count, rate and time left. On a terminal, a bar drawn
 * in place (cli-progress); elsewhere a plain line every few seconds, and a last one at the end
 * if any was printed. Nothing at all for work done within a second.
 */
export class ProgressDisplay {
  private done = 0;
  private bar: cliProgress.SingleBar | undefined;
  private printed = false;
  private stopped = false;
  private readonly started: number;
  private readonly clock: ProgressClock;
  private readonly cancel: () => void;

  /**
   * @param doing what the bar says while it runs (`creating`)
   * @param did what a line says of the count (`created`)
   */
  constructor(
    private readonly doing: string,
    private readonly did: string,
    private readonly total: number,
    private readonly sink: ProgressSink,
  ) {
    this.clock = sink.clock ?? systemClock;
    this.started = this.clock.now();
    this.cancel = sink.tty
      ? this.clock.every(SHOW_AFTER_MS / 4, () => this.draw())
      : this.clock.every(LINE_EVERY_MS, () => this.line());
  }

  /** One more done. */
  tick(): void {
    this.done++;
    if (this.bar) this.bar.update(this.done, this.payload());
  }

  /** Ends the display: the bar's last state stays on screen; a plain last line if lines were printed. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.cancel();
    if (this.bar) {
      this.bar.update(this.done, this.payload());
      this.bar.stop();
    } else if (this.printed) {
      this.line();
    }
  }

  private elapsedMs(): number {
    return this.clock.now() - this.started;
  }

  private payload(): { rate: string; left: string } {
    const seconds = this.elapsedMs() / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const left = rate > 0 ? formatDuration((this.total - this.done) / rate) : '?';
    return { rate: rate >= 100 ? rate.toFixed(0) : rate.toFixed(1), left };
  }

  private draw(): void {
    if (this.bar || this.stopped || !this.sink.tty || this.elapsedMs() < SHOW_AFTER_MS) return;
    this.bar = new cliProgress.SingleBar({
      stream: this.sink.tty,
      format: `nfsvol: ${this.doing} [{bar}] {value}/{total} volumes | {rate}/s | {left} left`,
      barsize: 30,
      // A hidden cursor would stay hidden if the process is ended before the bar stops.
      hideCursor: false,
      // Never wrap: a wrapped line could not be redrawn in place.
      linewrap: false,
      fps: 10,
    });
    this.bar.start(this.total, this.done, this.payload());
  }

  private line(): void {
    const { rate, left } = this.payload();
    const end = this.stopped ? `in ${formatDuration(this.elapsedMs() / 1000)}` : `about ${left} left`;
    this.sink.line(`nfsvol: ${this.did} ${this.done}/${this.total} volumes (${rate}/s, ${end})\n`);
    this.printed = true;
  }
}

/** `42s`, `3m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
