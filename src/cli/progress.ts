import type { OutputStream } from './output.js';
/**
 * Progress on stderr. On a terminal, one line rewritten in place (at most 10 times a
 * second); otherwise a plain line every `intervalMs`, so logs stay readable. Once the
 * run is planned, a timer redraws the line (every second on a terminal, every
 * `intervalMs` otherwise) even when no call completes, so a run held back by `--rpm` or
 * a slow judge still shows its elapsed time moving; the timer never keeps the process
 * alive.
 */
export class Progress {
  readonly #stream: OutputStream;
  readonly #tty: boolean;
  readonly #intervalMs: number;
  readonly #label: string;
  readonly #start = performance.now();
  #last = 0;
  #total = 0;
  #cached = 0;
  #ok = 0;
  #failed = 0;
  #cost = 0;
  #note = '';
  #waiting = '';
  #drawn = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(label: string, options: { stream?: OutputStream; intervalMs?: number; quiet?: boolean } = {}) {
    this.#label = label;
    this.#stream = options.stream ?? process.stderr;
    this.#tty = Boolean(this.#stream.isTTY) && !options.quiet;
    this.#intervalMs = options.quiet ? Number.POSITIVE_INFINITY : (options.intervalMs ?? 5000);
  }

  setTotal(calls: number): void {
    this.#total = calls;
    if (this.#timer === undefined && Number.isFinite(this.#intervalMs)) {
      this.#timer = setInterval(() => this.#tick(true), this.#tty ? 1000 : Math.max(1000, this.#intervalMs));
      // Progress must never be the reason a finished (or failed) run does not exit.
      this.#timer.unref();
    }
  }
  /** Takes back calls that were planned but will not happen (bad input, a duplicate image). */
  unplan(calls: number): void {
    this.#total = Math.max(0, this.#total - calls);
  }
  cached(n: number): void {
    this.#cached += n;
    this.#tick();
  }
  calls(ok: number, failed: number, costUsd: number): void {
    this.#ok += ok;
    this.#failed += failed;
    this.#cost += costUsd;
    this.#tick();
  }
  /** Replaces the note without drawing (an old `retrying:` must not outlive a stop). */
  setNote(text: string): void {
    this.#note = text;
  }
  note(text: string): void {
    this.#note = text;
    this.#tick(true);
  }
  /** What the run waits for while no call can start (`waiting for rate limit`), or undefined when it no longer waits. */
  waiting(text: string | undefined): void {
    if ((text ?? '') === this.#waiting) return;
    this.#waiting = text ?? '';
    if (text) this.#tick(true);
  }

  line(): string {
    const done = this.#cached + this.#ok + this.#failed;
    const seconds = (performance.now() - this.#start) / 1000;
    const made = this.#ok + this.#failed;
    const rate = seconds > 0 ? made / seconds : 0;
    const left = Math.max(0, this.#total - done);
    const eta = rate > 0 && left > 0 ? ` · ETA ${formatDuration(left / rate)}` : '';
    const parts = [
      `${this.#label} ${done}/${this.#total} calls`,
      this.#cached ? `${this.#cached} cached` : '',
      `${rate.toFixed(1)}/s${eta}`,
      `${formatDuration(Math.floor(seconds))} elapsed`,
      this.#failed ? `${this.#failed} failed` : '',
      this.#cost > 0 ? `$${this.#cost.toFixed(4)}` : '',
      this.#waiting,
      this.#note,
    ];
    return parts.filter(Boolean).join(' · ');
  }

  #tick(force = false): void {
    const now = performance.now();
    const every = this.#tty ? 100 : this.#intervalMs;
    if (!force && now - this.#last < every) return;
    this.#last = now;
    if (this.#tty) {
      this.#stream.write(`\r\x1b[2K${this.line()}`);
      this.#drawn = true;
    } else if (Number.isFinite(this.#intervalMs)) {
      this.#stream.write(`${this.line()}\n`);
    }
  }

  /** Final line, always printed (unless quiet). */
  done(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#waiting = '';
    if (this.#tty) this.#stream.write(`\r\x1b[2K${this.line()}\n`);
    else if (Number.isFinite(this.#intervalMs)) this.#stream.write(`${this.line()}\n`);
    this.#drawn = false;
  }

  /** Clears the live line before other stderr output. */
  clear(): void {
    if (this.#tty && this.#drawn) this.#stream.write('\r\x1b[2K');
  }
}

/** Seconds as `13s`, `2m05s` or `2h01m` (rounded up to the second). */
export function formatDuration(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
