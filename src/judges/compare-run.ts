import PQueue from 'p-queue';
import { bootstrapCI } from '../aggregate/bootstrap.js';
import { bradleyTerry } from '../aggregate/bradley-terry.js';
import { createRandom } from '../aggregate/random.js';
import { describeError, InputError } from '../core/errors.js';
import type { RunRecord } from '../store/store.js';
import { judgePair, positionBias, type OrderPolicy, type PairResult, type PairSettings } from './compare.js';
import { ImageRegistry, type RegisteredImage } from './image-registry.js';
import { matchFolders } from './match.js';
import { finishJudgeRun, startJudgeRun, type JudgeRunOptions } from './run.js';
import type { JudgeSession, SessionEvent } from './session.js';

export interface ComparedPair extends PairResult {
  key: string;
}

export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
}

/** What `quorum compare` concludes about B against A. */
export interface CompareSummary {
  a: string;
  b: string;
  pairs: number;
  judged: number;
  winsA: number;
  winsB: number;
  ties: number;
  /** (wins of B + ties / 2) / judged pairs, with a 95% bootstrap interval over pairs. */
  winRateB: Interval | null;
  /**
   * Bradley-Terry difference s_B - s_A in log-odds from the soft preferences (weak prior
   * N(0, 3^2)), 95% bootstrap interval over pairs. Positive: B is better.
   */
  bradleyTerry: Interval | null;
  positionBias: ReturnType<typeof positionBias>;
  /** Keys of pairs whose two orders disagreed (counted as ties). */
  inconsistent: string[];
  /** The pairs where the judge's two orders were furthest apart. */
  leastConsistent: { key: string; orderGap: number; preferenceB: number | null }[];
}

export interface CompareRunOptions extends Omit<JudgeRunOptions, 'templates' | 'command' | 'onEvent'> {
  dirA: string;
  dirB: string;
  reference?: string | undefined;
  settings: PairSettings;
  order: OrderPolicy;
  /** Seed for random orders and bootstrap intervals. @default 0 */
  seed?: number;
  /** Bootstrap rounds for the intervals. @default 1000 */
  rounds?: number;
  onEvent?: (event: SessionEvent | { type: 'plan'; calls: number } | { type: 'pair'; pair: ComparedPair }) => void;
}

export interface CompareRunResult {
  run: RunRecord;
  resumed: boolean;
  renamed?: string | undefined;
  /** The error that stopped the run, when one did. */
  fatal: string | undefined;
  pairs: ComparedPair[];
  summary: CompareSummary;
  unmatched: { path: string; reason: string }[];
  inputErrors: InputError[];
  counts: JudgeSession['counts'];
  interrupted: boolean;
  budgetExceeded: boolean;
}

/** Wins, ties, win rate and Bradley-Terry difference of B over A, with bootstrap intervals. */
export function summariseCompare(
  names: { a: string; b: string },
  pairs: readonly ComparedPair[],
  options: { seed?: number; rounds?: number } = {},
): CompareSummary {
  const judged = pairs.filter((p) => p.verdict !== null);
  const winsB = judged.filter((p) => p.verdict === 'b').length;
  const winsA = judged.filter((p) => p.verdict === 'a').length;
  const ties = judged.length - winsA - winsB;
  const boot = { rounds: options.rounds ?? 1000, seed: options.seed ?? 0, level: 0.95 };
  const winRate = (sample: readonly ComparedPair[]) =>
    sample.reduce((s, p) => s + (p.verdict === 'b' ? 1 : p.verdict === 'tie' ? 0.5 : 0), 0) / sample.length;
  const btDifference = (sample: readonly ComparedPair[]) => {
    const fit = bradleyTerry(
      sample.map((p) => ({ a: 'B', b: 'A', outcome: p.preference as number })),
      { items: ['A', 'B'], prior: { sigma: 3 }, standardErrors: false },
    );
    return (fit.scores[1] as number) - (fit.scores[0] as number);
  };
  const interval = (f: (s: readonly ComparedPair[]) => number): Interval | null => {
    if (judged.length === 0) return null;
    const ci = bootstrapCI(f, judged, boot);
    return { estimate: ci.estimate, lower: ci.lower, upper: ci.upper };
  };
  const bias = positionBias(judged);
  return {
    a: names.a,
    b: names.b,
    pairs: pairs.length,
    judged: judged.length,
    winsA,
    winsB,
    ties,
    winRateB: interval(winRate),
    bradleyTerry: interval(btDifference),
    positionBias: bias,
    inconsistent: judged.filter((p) => p.consistent === false).map((p) => p.key),
    leastConsistent: judged
      .filter((p) => p.orderGap !== null)
      .sort((x, y) => (y.orderGap as number) - (x.orderGap as number))
      .slice(0, 5)
      .map((p) => ({ key: p.key, orderGap: p.orderGap as number, preferenceB: p.preference })),
  };
}

/**
 * `quorum compare` without the terminal: matches the two folders' outputs by relative
 * path, judges every pair under the order policy (both orders by default), stores each
 * pair and the summary.
 */
export async function runCompare(options: CompareRunOptions): Promise<CompareRunResult> {
  const { store, provider, settings } = options;
  const folders = [options.dirA, options.dirB, ...(options.reference ? [options.reference] : [])];
  const matched = await matchFolders(folders);
  const names = { a: matched.names[0] as string, b: matched.names[1] as string };
  const judgeRun = startJudgeRun({ ...options, templates: [settings.template], command: 'compare' });
  const { run, resumed, renamed, judgeId, session } = judgeRun;
  const perOrder = settings.template.kind === 'levels' ? 1 : settings.samples;
  options.onEvent?.({ type: 'plan', calls: matched.keys.length * perOrder * (options.order === 'both' ? 2 : 1) });

  const images = new ImageRegistry(store, provider.maxImageSide);
  const inputErrors: InputError[] = [...matched.errors];
  const random = createRandom(options.seed ?? 0);
  // Coins are drawn up front, in key order, so `--order random` is reproducible.
  const coins = matched.keys.map(() => random.uniform() < 0.5);
  const pairs: (ComparedPair | undefined)[] = new Array(matched.keys.length);
  const pipeline = new PQueue({ concurrency: Math.max(8, (options.concurrency ?? 4) * 2) });
  await Promise.all(
    matched.keys.map((key, position) =>
      pipeline.add(async () => {
        if (session.stopping) return;
        let sides: RegisteredImage[];
        try {
          sides = await Promise.all(folders.map((_, f) => images.register(matched.paths[f]?.get(key) as string)));
        } catch (error) {
          inputErrors.push(error instanceof InputError ? error : new InputError(key, describeError(error), { cause: error }));
          return;
        }
        const [a, b, reference] = sides as [RegisteredImage, RegisteredImage, RegisteredImage | undefined];
        const result = await judgePair({
          session,
          provider,
          judgeId,
          settings,
          a,
          b,
          reference,
          order: options.order,
          coin: () => coins[position] as boolean,
        });
        const pair: ComparedPair = { key, ...result };
        pairs[position] = pair;
        store.putResults(
          [{ runId: run.id, kind: 'pair', itemKey: key, position, status: pair.verdict === null ? 'failed' : 'ok', score: pair.preference, value: pair }],
          { deferred: true },
        );
        options.onEvent?.({ type: 'pair', pair });
      }),
    ),
  );
  const { interrupted, fatal } = await finishJudgeRun(store, judgeRun);
  const done = pairs.filter((p): p is ComparedPair => p !== undefined);
  const summary = summariseCompare(names, done, { seed: options.seed ?? 0, rounds: options.rounds ?? 1000 });
  store.putResults([{ runId: run.id, kind: 'summary', itemKey: 'compare', position: 0, status: 'ok', score: summary.winRateB?.estimate ?? null, value: summary }]);
  return {
    run,
    resumed,
    renamed,
    fatal,
    pairs: done,
    summary,
    unmatched: matched.unmatched,
    inputErrors,
    counts: session.counts,
    interrupted,
    budgetExceeded: session.budgetExceeded,
  };
}
