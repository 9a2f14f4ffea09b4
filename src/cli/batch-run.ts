import type { ArgsDef } from 'citty';
import { UsageError } from '../core/errors.js';
import type { RunRecord, Store } from '../store/store.js';
import type { BatchEvent, BatchJudge, BatchSummary } from '../judges/batch/run-batched.js';
import type { JudgeSession } from '../judges/session/session.js';
import type { JudgeRunOptions } from '../judges/run.js';
import { numArg, type Args } from './args.js';
import type { RunTerminal } from './judge-run.js';
import type { CommandIO } from './main.js';

/** Options of `score`, `compare` and `rank` about provider batches. */
export const batchArgs = {
  batch: {
    type: 'boolean',
    description:
      "Send the requests through the provider's batch API (OpenAI Batch API, Anthropic Message Batches): batch prices (half the list price), answers within 24 h. The batch is stored at once; rerunning the command re-attaches to it. A panel (--judge panel:NAME) batches one round per step that reads earlier answers (a layer; the neurons behind an escalation judge)",
  },
  wait: { type: 'boolean', description: 'With --batch: wait for the batch to end (default); --no-wait submits, prints the batch id and returns', default: true },
  'batch-poll': { type: 'string', valueHint: 'seconds', description: 'With --batch: seconds between two status checks of a batch', default: '30' },
} as const satisfies ArgsDef;

/** What a command's run function receives on top of its own options (batch mode's hooks). */
export type PassOverrides = Pick<JudgeRunOptions, 'defer' | 'hold' | 'awaiting' | 'fresh' | 'onSession'> & {
  /** Set for the collecting pass of `--batch`: its events are not progress. */
  onEvent?: () => void;
};

/**
 * Runs a judging command live, or with `--batch` through the providers' batch APIs
 * (`runBatched`): progress and batch notes on stderr, Ctrl-C stops waiting (the batch
 * stays stored; a rerun re-attaches). `pass` runs the strategy once with the overrides;
 * `judges` are every judge it may ask, and `layered` says that some of its questions
 * depend on others' answers (a panel: one round of batches per layer or escalation step).
 */
export async function judgedRun<R extends { run: RunRecord }>(input: {
  args: Args;
  io: CommandIO;
  terminal: RunTerminal;
  judges: readonly BatchJudge[];
  layered?: boolean;
  store: Store;
  pass: (overrides: PassOverrides) => Promise<R>;
}): Promise<{ result: R; batch: BatchSummary | undefined }> {
  const { args, io, terminal, store } = input;
  const batch = args['batch'] === true;
  const pollSeconds = numArg(args, 'batch-poll', 0.01) ?? 30;
  if (!batch) {
    if (args['wait'] === false) throw new UsageError('--no-wait is only used with --batch');
    if (args['batch-poll'] !== undefined && args['batch-poll'] !== '30') throw new UsageError('--batch-poll is only used with --batch');
    return { result: await input.pass({}), batch: undefined };
  }
  if (args['max-cost'] !== undefined) {
    throw new UsageError('--max-cost is not enforced with --batch (a batch is priced when it ends); leave it out, the summary shows the cost at batch prices');
  }
  // Ctrl-C is handled here, not by the terminal: it stops collecting or waiting, once.
  const sessions: JudgeSession[] = [];
  const { runBatched } = await import('../judges/batch/run-batched.js');
  const handle = runBatched({
    store,
    judges: input.judges,
    ...(input.layered ? { layered: true } : {}),
    options: {
      wait: args['wait'] !== false,
      pollMs: pollSeconds * 1000,
      cwd: process.cwd(),
      onEvent: (e) => onBatchEvent(e, io, terminal),
    },
    pass: (hooks) =>
      input.pass({
        ...(hooks.defer ? { defer: hooks.defer } : {}),
        ...(hooks.awaiting ? { awaiting: hooks.awaiting } : {}),
        ...(hooks.hold !== undefined ? { hold: hooks.hold } : {}),
        // `--new` starts the run afresh once; the later passes resume that run.
        fresh: hooks.first && args['new'] === true,
        onSession: (s) => sessions.push(s),
        ...(hooks.collecting ? { onEvent: () => {} } : {}),
      }),
  });
  const stop = () => {
    terminal.progress.clear();
    io.note('interrupted: batches already submitted stay with the provider and in the database; rerun the command to collect them');
    for (const s of sessions) s.stop();
    handle.stop();
  };
  io.onInterrupt(stop);
  try {
    const out = await handle.done;
    return { result: out.result, batch: out.batch };
  } finally {
    io.offInterrupt(stop);
  }
}

function onBatchEvent(e: BatchEvent, io: CommandIO, terminal: RunTerminal): void {
  switch (e.type) {
    case 'planned':
      terminal.progress.clear();
      io.note(
        `batch${e.round > 1 ? ` round ${e.round}` : ''}: ${e.requests} request(s) not in the database` +
          (e.waiting ? `, ${e.waiting} already in ${e.batches} submitted batch(es): re-attached` : ''),
      );
      return;
    case 'submitted':
      terminal.progress.clear();
      io.note(`batch: submitted ${e.remoteId} (${e.requests} request(s)); stored in the database`);
      return;
    case 'progress':
      terminal.progress.waiting(`waiting for ${e.batches} batch(es): ${e.done}/${e.total} done${e.failed ? `, ${e.failed} failed` : ''}`);
      return;
    case 'collected':
      terminal.progress.waiting(undefined);
      terminal.progress.clear();
      io.note(`batch: ${e.remoteId} ended: ${e.succeeded} answered, ${e.errored} failed, ${e.expired} expired or canceled`);
      return;
    case 'failed':
      terminal.progress.clear();
      io.note(`batch: ${e.remoteId} failed: ${e.error}; its requests are submitted again on the next run`);
      return;
  }
}

/** The run summary's batch line, or undefined when the run used no batch. */
export function batchLine(summary: BatchSummary | undefined): string | undefined {
  if (!summary || summary.requests === 0) return undefined;
  const money = (v: number | null) => (v === null ? 'unknown' : `$${v.toFixed(4)}`);
  const parts = [`${summary.succeeded} answered`];
  if (summary.errored) parts.push(`${summary.errored} failed`);
  if (summary.expired) parts.push(`${summary.expired} expired or canceled`);
  if (summary.pending.length) parts.push(`waiting in ${summary.pending.join(', ')}`);
  const cost = summary.succeeded && summary.costUsd !== null ? `; ${money(summary.costUsd)} at batch prices (live: ${money(summary.liveCostUsd)})` : '';
  return `batch: ${summary.requests} request(s): ${parts.join(', ')}${cost}`;
}

/**
 * The exit code once the batch is counted: requests that failed or expired in the batch
 * leave items without answers (a rerun submits them again), so a clean run becomes 1.
 * A batch still processing (`--no-wait`) is not a failure; Ctrl-C exits 130.
 */
export function batchExit(code: number, summary: BatchSummary | undefined): number {
  if (summary?.interrupted) return 130;
  return code === 0 && summary && summary.errored + summary.expired > 0 ? 1 : code;
}
