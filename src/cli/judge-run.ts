import { writeFile } from 'node:fs/promises';
import type { JudgeRunOptions } from '../judges/run.js';
import type { JudgeSession, SessionEvent } from '../judges/session.js';
import { str, type Args, type JudgeSetup } from './judge-options.js';
import type { CommandIO } from './main.js';
import { Progress } from './progress.js';

/** Events every judging run reports; `cached` counts samples served from the store. */
export type RunEvent = SessionEvent | { type: 'plan'; calls: number } | { type: 'unplanned'; calls: number };

/**
 * The terminal side of a judging run, shared by `score`, `compare` and `rank`: progress
 * on stderr, Ctrl-C (first: finish calls in flight; second: abandon them), the budget
 * notice, and the options every run passes through from the judge setup.
 */
export class RunTerminal {
  readonly progress: Progress;
  readonly #io: CommandIO;
  #session: JudgeSession | undefined;
  readonly #onSigint = () => {
    const session = this.#session;
    if (!session) return;
    if (!session.stopping) {
      this.progress.clear();
      this.#io.note('interrupted: finishing calls in flight (Ctrl-C again to abandon them)');
      session.stop();
    } else session.abort();
  };

  constructor(label: string, io: CommandIO, args: Args) {
    this.#io = io;
    this.progress = new Progress(label, { stream: io.stderr, quiet: Boolean(args['quiet']) });
    io.onInterrupt(this.#onSigint);
  }

  /** Options for `startJudgeRun` that come from the judge setup and this terminal. */
  runOptions(judge: JudgeSetup): Pick<
    JudgeRunOptions,
    'price' | 'concurrency' | 'rpm' | 'maxCost' | 'retry' | 'onSession' | 'argv'
  > {
    return {
      argv: this.#io.argv,
      price: judge.price,
      concurrency: judge.concurrency,
      rpm: judge.rpm,
      maxCost: judge.maxCost,
      retry: judge.retry,
      onSession: (s) => (this.#session = s),
    };
  }

  /** Handles the events all runs share; returns false for a strategy's own events. */
  event(e: RunEvent | { type: string }): boolean {
    const ev = e as RunEvent;
    switch (ev.type) {
      case 'plan':
        this.progress.setTotal(ev.calls);
        return true;
      case 'unplanned':
        this.progress.unplan(ev.calls);
        return true;
      case 'calls':
        this.progress.calls(ev.ok, ev.failed, ev.costUsd);
        return true;
      case 'retry':
        this.progress.note(`retrying: ${ev.error}`);
        return true;
      case 'budget':
        this.progress.clear();
        this.#io.note(`--max-cost ${ev.maxCost} reached (spent about $${ev.spentUsd.toFixed(4)}): no new calls issued`);
        return true;
      default:
        return false;
    }
  }

  /** Ends progress and interrupt handling. */
  done(): void {
    this.#io.offInterrupt(this.#onSigint);
    this.progress.done();
  }

  /** Data to stdout, or to `--out FILE`. */
  async output(args: Args, text: string): Promise<void> {
    const out = str(args, 'out');
    if (out) await writeFile(out, text);
    else this.#io.stdout.write(text);
  }
}
