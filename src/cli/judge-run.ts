import type { ArgsDef } from 'citty';
import { planPairs } from '../judges/plans.js';
import type { JudgeRunOptions } from '../judges/run.js';
import type { JudgeSession, SessionEvent } from '../judges/session/session.js';
import type { PairResult, PairSettings } from '../judges/compare.js';
import type { ScoreSettings } from '../judges/score.js';
import type { Provider } from '../core/provider.js';
import type { Price } from '../judges/prices.js';
import { Store, type RetryFailed } from '../store/store.js';
import { existsSync } from 'node:fs';
import type { DryRunPlan } from '../dry-run/index.js';
import type { DryRunJudgeInput } from '../dry-run/plan.js';
import { endpointLines } from '../judges/pool/report.js';
import { poolOf, type EndpointPool } from '../judges/pool/pool.js';
import { parseShard, shardLabel, type Shard } from '../judges/shard.js';
import type { LevelsSupport } from '../judges/session/probe.js';
import { dbPath, enumArg, str, type Args } from './args.js';
import { chooseJudge, pairOptionsFrom, setupJudge, type JudgeSetup } from './judge-options.js';
import type { PairJudgingFactory, PanelPairResult } from '../judges/panels/pairs.js';
import { batchLine } from './batch-run.js';
import type { BatchJudge, BatchSummary } from '../judges/batch/run-batched.js';
import { choosePanel } from './panels/options.js';
import type { CommandIO } from './main.js';
import { writeOutput } from './outputs.js';
import { Progress } from './progress.js';

/** Options of every judging command about the run itself. */
export const runArgs = {
  shard: {
    type: 'string',
    valueHint: 'k/n',
    description:
      'Judge only shard k of n (0 <= k < n): a deterministic part of the items (score: images by content hash; compare: matched pairs by relative path; rank round-robin/random: planned pairs by their images\' content hashes), for splitting a dataset across machines; `quorum merge` unites the databases (docs/scaling.md)',
  },
  'dry-run': {
    type: 'boolean',
    description:
      'Print the planned calls (samples, requests, how many are cached), estimated tokens and cost, and exit: nothing is sent, no run is created',
  },
  new: { type: 'boolean', description: 'Start the --run afresh even if it exists (the old one is kept as NAME~ID)' },
  'retry-failed': {
    type: 'boolean',
    description:
      'Ask stored parse failures again. By default only failures the server caused (no log-probabilities came back) are re-asked; --retry-failed re-asks answers that did not parse too, --no-retry-failed none',
  },
} as const satisfies ArgsDef;

/** `--retry-failed` as the session's rule. */
export function retryFailedOf(args: Args): RetryFailed {
  const v = args['retry-failed'];
  return v === true ? 'all' : v === false ? 'none' : 'mismatch';
}


/** Events every judging run reports; `cached` counts samples served from the store. */
export type RunEvent =
  | SessionEvent
  | { type: 'plan'; calls: number }
  | { type: 'unplanned'; calls: number }
  | { type: 'cached'; calls: number };

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

  readonly #args: Args;
  #pool: EndpointPool | undefined;
  readonly #started = performance.now();

  constructor(label: string, io: CommandIO, args: Args) {
    this.#io = io;
    this.#args = args;
    this.progress = new Progress(label, { stream: io.stderr, quiet: Boolean(args['quiet']) });
    io.onInterrupt(this.#onSigint);
  }

  /** Options for `startJudgeRun` that come from the judge setup, the run flags and this terminal. */
  runOptions(judge: JudgeSetup): Pick<
    JudgeRunOptions,
    'price' | 'concurrency' | 'rpm' | 'maxCost' | 'retry' | 'onSession' | 'argv' | 'retryFailed' | 'fresh'
  > {
    this.#pool = poolOf(judge.provider);
    return {
      argv: this.#io.argv,
      price: judge.price,
      concurrency: judge.concurrency,
      rpm: judge.rpm,
      maxCost: judge.maxCost,
      retry: judge.retry,
      retryFailed: retryFailedOf(this.#args),
      fresh: this.#args['new'] === true,
      onSession: (s) => {
        this.#session = s;
        // While --rpm holds requests back no call completes: say so instead of freezing.
        s.queue.on('rateLimit', () => this.progress.waiting(`waiting for rate limit (--rpm ${judge.rpm})`));
        s.queue.on('rateLimitCleared', () => this.progress.waiting(undefined));
      },
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
      case 'cached':
        this.progress.cached(ev.calls);
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
      case 'fatal':
        // Said once, here; the items it left are counted as not run in the summary.
        this.progress.clear();
        this.progress.setNote('stopped');
        this.#io.note(`error: ${ev.error}; the run stopped, nothing more is sent`);
        return true;
      case 'learned':
        this.progress.clear();
        this.#io.note(`note: the judge takes fewer choices per request than asked (${ev.detail}); the remaining samples are asked in further requests, and this is remembered for this judge`);
        return true;
      case 'waiting':
        this.progress.note(`waiting for ${ev.calls} sample(s) another quorum process is asking right now`);
        return true;
      default:
        return false;
    }
  }

  /** Stops listening for Ctrl-C without drawing progress (a dry run ends here). */
  release(): void {
    this.#io.offInterrupt(this.#onSigint);
  }

  /** Ends progress and interrupt handling; for an endpoint pool, one line per endpoint. */
  done(): void {
    this.#io.offInterrupt(this.#onSigint);
    this.progress.done();
    const pool = this.#pool;
    if (pool) for (const line of endpointLines(pool.stats(), (performance.now() - this.#started) / 1000)) this.#io.note(line);
  }

  /** Data to stdout, or to `--out FILE`; a failed write names the command that prints the stored run again. */
  async output(args: Args, text: string | Iterable<string>, run: { name: string }): Promise<void> {
    await writeOutput(args, this.#io.env, this.#io.stdout, text, run);
  }
}

/**
 * The store a dry run reads: the database read-only when it exists, else an empty one in
 * memory (a dry run creates no file).
 */
export function openForDryRun(args: Args, env: NodeJS.ProcessEnv): Store {
  const file = dbPath(args, env);
  return existsSync(file) ? Store.open(file, { readOnly: true }) : Store.open(':memory:');
}

/** The store a judging command opens: for `--dry-run` as `openForDryRun`, else the database for writing. */
export function openRunStore(args: Args, env: NodeJS.ProcessEnv): Store {
  return args['dry-run'] === true ? openForDryRun(args, env) : Store.open(dbPath(args, env));
}

/** Lines to say before a run about how its judge was set up. */
export function judgeNotes(judge: JudgeSetup): string[] {
  const endpoints = judge.named?.entry.endpoints;
  return endpoints && endpoints.length > 1 && judge.named
    ? [`note: judge ${judge.named.name} lists ${endpoints.length} endpoints; this version sends every request to the first (${endpoints[0]?.url})`]
    : [];
}

/**
 * Prints a dry run's plan (stdout, or `--out`), with a note when the judge's
 * log-probability support was assumed rather than known.
 */
export async function printDryRun(plan: DryRunPlan, args: Args, io: CommandIO, assumed: LevelsSupport | undefined): Promise<number> {
  if (assumed?.how === 'unprobed') {
    plan.notes.push(
      `whether the judge returns log-probabilities is not known yet: assumed ${assumed.readsLevels ? 'yes' : 'no'}; the real run asks first with one probe request (counted above)`,
    );
  }
  const format = enumArg(args, 'format', ['table', 'json', 'jsonl', 'csv'] as const, 'table');
  const { formatDryRun } = await import('../dry-run/index.js');
  await writeOutput(args, io.env, io.stdout, formatDryRun(plan, format), { name: 'dry-run' });
  return 0;
}

/** `--dry-run` of a scoring (`score`, `eval`, `calibrate`): `inputs` planned as `plan` would score them with `judge`, printed; returns the exit code. */
export async function printScoreDryRun(
  args: Args,
  io: CommandIO,
  store: Store,
  judge: JudgeSetup,
  inputs: readonly string[],
  plan: { settings: ScoreSettings; levels: LevelsSupport | undefined },
): Promise<number> {
  const { dryRunScore } = await import('../dry-run/index.js');
  const planned = await dryRunScore({
    store,
    provider: judge.provider,
    price: judge.price,
    retryFailed: retryFailedOf(args),
    name: judge.named?.name,
    inputs,
    settings: plan.settings,
    probes: plan.levels?.how === 'unprobed' ? 1 : 0,
  });
  return printDryRun(planned, args, io, plan.levels);
}

/** One judge a pairwise `--dry-run` plans: the command's judge, or each judge of a panel. */
export interface PlannedJudge {
  provider: Provider;
  price: Price | undefined;
  settings: PairSettings;
  name: string | undefined;
  /** The judge asks only some of the planned pairs (a panel's neurons behind escalation). */
  upperBound: boolean;
}

/** What a pairwise command (`compare`, `rank`) holds while it runs. */
export interface PairCommand {
  /** `--dry-run`: plan only (the store is read-only, or empty when the database does not exist). */
  dryRun: boolean;
  /** Probe requests the real run would send first (whether the judge returns log-probabilities is unknown). */
  probes: number;
  /** How log-probability support was settled when the template was chosen by it. */
  levels: LevelsSupport | undefined;
  judge: JudgeSetup;
  /** What `judgedRun` asks: every judge of the run (one, or a panel's) and whether its questions depend on others' answers. */
  judged: { judges: readonly BatchJudge[]; layered: boolean };
  settings: PairSettings;
  store: Store;
  terminal: RunTerminal;
  /** Run options every pairwise run stores (the command adds its own). */
  stored: Record<string, unknown>;
  /** `--shard k/n`: the part of the pairs this process judges. */
  shard: Shard | undefined;
  /** `--dry-run`: `plan` run for each judge that would ask (one, or a panel's), given what every pair plan takes, as one plan. */
  planDry(planOne: (judge: DryRunJudgeInput & { settings: PairSettings; probes: number }) => Promise<DryRunPlan>): Promise<DryRunPlan>;
  /** The options every pairwise run takes from the command: name, stored options, shard, panel, terminal, events. */
  runFields(runName: string, runOptions: Record<string, unknown>): ReturnType<RunTerminal['runOptions']> & {
    runName: string;
    runOptions: Record<string, unknown>;
    shard: Shard | undefined;
    /** `--judge panel:NAME`: the panel judges the pairs (`judge` is its first neuron, under which the run is opened). */
    pairJudging: PairJudgingFactory | undefined;
    /** The run's events: shared ones, then the cached samples of each judged pair. */
    onEvent(e: RunEvent | { type: 'pair'; pair: PairResult }): void;
  };
  /** Ends progress, says the batch's and the panel's lines, and writes the output. */
  print(args: Args, batch: BatchSummary | undefined, pairs: readonly PairResult[], text: string | Iterable<string>, run: { name: string }): Promise<void>;
  /** Notes for unmatched files, bad inputs and the run; returns the exit code. */
  finish(result: {
    run: { name: string };
    resumed: boolean;
    unmatched: readonly { path: string; reason: string }[];
    inputErrors: readonly Error[];
    renamed?: string | undefined;
    counts: { requests: number; cached: number; rejected: number };
    failedPairs: number;
    fatal?: string | undefined;
    interrupted: boolean;
    budgetExceeded: boolean;
    /** With `--shard`: pairs judged here and left to the other shards. */
    pairsHere: number;
    otherShards: number;
  }): number;
  close(): Promise<void>;
}

/** Sets up the judge, the pair template and settings, the store and the terminal. */
export async function openPairCommand(label: string, args: Args, io: CommandIO): Promise<PairCommand> {
  // Options are checked first: a usage error costs no call, not even the probe.
  const shardArg = str(args, 'shard');
  const shard = shardArg !== undefined ? parseShard(shardArg) : undefined;
  // A panel (`--judge panel:NAME`): its neurons judge every pair in place of one judge.
  const panelChoice = await choosePanel(args, io.env);
  // Panels, dry runs and batches load only where they are used (start-up, bench/startup.ts).
  const panel = panelChoice
    ? await (await import('./panels/pairs.js')).openPanelPairs(args, io, panelChoice, { onEvent: (e) => terminal.event(e), onSession: () => undefined })
    : undefined;
  const choice = panel ? undefined : await chooseJudge(args, io);
  const options = choice ? await pairOptionsFrom(args, choice) : undefined;
  const judge = panel ? panel.judge : await setupJudge(args, io, choice);
  const dryRun = args['dry-run'] === true;
  let plan: { settings: PairSettings; stored: Record<string, unknown>; levels: LevelsSupport | undefined };
  let store: Store | undefined;
  try {
    store = openRunStore(args, io.env);
    plan = panel ? { ...panel, levels: undefined } : await planPairs({ store, judge, ...(options as NonNullable<typeof options>), probe: !dryRun });
  } catch (error) {
    store?.close();
    await (panel ? panel.close() : judge.provider.close?.());
    throw error;
  }
  const { settings, stored } = plan;
  const probes = plan.levels?.how === 'unprobed' ? 1 : 0;
  for (const line of judgeNotes(judge)) io.note(line);
  const terminal = new RunTerminal(label, io, args);
  const onEvent = (e: RunEvent | { type: 'pair'; pair: PairResult }) => {
    if (!terminal.event(e) && e.type === 'pair') terminal.progress.cached(e.pair.orders.reduce((n, o) => n + o.cached, 0));
  };
  return {
    dryRun,
    probes,
    levels: plan.levels,
    judge,
    judged: panel ? panel.judged : { judges: [judge], layered: false },
    settings,
    store,
    terminal,
    stored,
    shard,
    planDry: async (planOne) => {
      const judges: PlannedJudge[] = panel ? panel.planned : [{ provider: judge.provider, price: judge.price, settings, name: judge.named?.name, upperBound: false }];
      const plans: DryRunPlan[] = [];
      const retryFailed = retryFailedOf(args);
      for (const j of judges) {
        plans.push(await planOne({ store, provider: j.provider, price: j.price, retryFailed, name: j.name, settings: j.settings, probes: panel ? 0 : probes }));
      }
      const first = plans[0] as DryRunPlan;
      return {
        ...first,
        judges: plans.flatMap((p, i) => p.judges.map((x) => ({ ...x, upperBound: x.upperBound || (judges[i] as PlannedJudge).upperBound }))),
        notes: [...first.notes, ...(panel?.planned.some((j) => j.upperBound) ? ['escalation: the neurons are planned for every pair; they judge only the pairs whose two orders the cheap judge disagrees on'] : [])],
      };
    },
    runFields: (runName, runOptions) => ({ runName, runOptions, shard, pairJudging: panel?.pairJudging, ...terminal.runOptions(judge), onEvent }),
    print: async (args, batch, pairs, text, run) => {
      const line = batchLine(batch);
      terminal.done();
      if (line) io.note(line);
      // Pairs whose answers a batch still holds (or lost: a rerun asks them again) are not run, said once.
      const { pairAsked } = await import('../judges/panels/pairs.js');
      const { panelNotes } = await import('./panels/show.js');
      const waiting = batch?.reason !== undefined ? pairs.filter((p) => p.verdict === null && !pairAsked(p)).length : 0;
      if (waiting) io.note(`${waiting} pair(s) not run: ${batch?.reason}`);
      // A panel's neurons that failed on some pairs, one line each (over the pairs it was asked).
      const withPanel = pairs.filter((p): p is PanelPairResult => 'panel' in p && (!waiting || pairAsked(p)));
      for (const note of panelNotes(withPanel, 'pair(s)')) io.note(note);
      for (const p of withPanel) for (const e of p.panel.errors) io.note(`panel ${p.panel.name}: ${p.a.path} vs ${p.b.path}: ${e}`);
      await terminal.output(args, text, run);
    },
    finish: (r) => {
      for (const u of r.unmatched) io.note(`unmatched: ${u.path} (${u.reason})`);
      for (const e of r.inputErrors) io.note(`error: ${e.message}`);
      if (r.failedPairs) io.note(`${r.failedPairs} pair(s) failed: \`quorum show ${r.run.name} --calls\` has the details`);
      if (r.renamed) io.note(`the earlier run named ${r.run.name} is kept as ${r.renamed}`);
      if (shard) {
        io.note(
          `shard ${shardLabel(shard)}: ${r.pairsHere} pairs here, ${r.otherShards} left to the other shards; ` +
            `the ${label === 'rank' ? 'ranking' : 'summary'} above is over this shard's pairs only and is not stored ` +
            '(`quorum merge` the shards, then run the command unsharded on the merged database: served from the cache)',
        );
      }
      io.note(
        `run ${r.run.name}${r.resumed ? ' (resumed)' : ''}: ${r.counts.requests} requests` +
          `${r.counts.rejected ? `, ${r.counts.rejected} rejected` : ''}, ${r.counts.cached} cached; db ${store.file}`,
      );
      if (r.fatal) return 1;
      if (r.interrupted) return 130;
      return r.failedPairs > 0 || r.inputErrors.length > 0 || r.budgetExceeded ? 1 : 0;
    },
    close: async () => {
      store.close();
      await (panel ? panel.close() : judge.provider.close?.());
    },
  };
}
