import PQueue from 'p-queue';
import { pairDifferencePosterior } from '../aggregate/pair-difference.js';
import { wilsonInterval } from '../aggregate/proportion.js';
import { createRandom } from '../aggregate/random.js';
import { describeError, InputError } from '../core/errors.js';
import type { RunRecord } from '../store/store.js';
import { judgePair, positionBias, type OrderPolicy, type PairResult, type PairSettings } from './compare.js';
import { byKey, FEW_PAIRS, lowCoverage, positionArtefacts } from './pair-checks.js';
import { ImageRegistry, type RegisteredImage } from './image-registry.js';
import { matchFolders } from './match.js';
import { finishJudgeRun, startJudgeRun, type JudgeRunOptions } from './run.js';
import { inShard, type Shard } from './shard.js';
import type { JudgeSession, SessionEvent } from './session/session.js';
import { pairAsked, type PairJudging, type PairJudgingFactory } from './panels/pairs.js';

export interface ComparedPair extends PairResult {
  key: string;
  /**
   * `ok`: a verdict; `failed`: the judge was asked and nothing usable came back; `error`:
   * an image could not be read (see `errors`); `not-run`: never reached (Ctrl-C,
   * `--max-cost`, a run stopped by an error no retry fixes). Absent in runs stored by older versions.
   */
  status?: 'ok' | 'failed' | 'error' | 'not-run';
  errors?: string[];
}

export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
}

/** Prior on each system's Bradley-Terry score in `compare`: N(0, 3^2), weak. */
export const COMPARE_PRIOR = { sigma: 3 } as const;

/** How the intervals of a compare summary were computed (stored with it and printed). */
export interface CompareIntervals {
  level: number;
  /** Win rate: Wilson score interval over judged pairs (ties count 1/2). */
  winRate: 'wilson';
  /** Bradley-Terry difference: equal-tailed posterior interval, prior N(0, sigma^2) per system. */
  difference: 'posterior';
  priorSigma: number;
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
  /** (wins of B + ties / 2) / judged pairs, with a 95% Wilson interval. */
  winRateB: Interval | null;
  /**
   * Bradley-Terry difference s_B - s_A in log-odds from the soft preferences (prior
   * N(0, 3^2) per system), 95% posterior interval. Positive: B is better. Null when no
   * pair was judged or when the verdicts are position artefacts.
   */
  bradleyTerry: Interval | null;
  intervals: CompareIntervals;
  /** Fewer than `FEW_PAIRS` judged pairs: the intervals rest mostly on the prior. */
  few: boolean;
  positionBias: ReturnType<typeof positionBias>;
  /** The two orders mostly disagreed because of the slot, not the images (see `positionArtefacts`). */
  positionArtefacts: boolean;
  /** Keys of pairs whose two orders disagreed (counted as ties). */
  inconsistent: string[];
  /** Keys of judged pairs with level coverage below 0.5 in some order (the judge ignored the format). */
  lowCoverage: string[];
  /** The pairs where the judge's two orders were furthest apart. */
  leastConsistent: { key: string; orderGap: number; preferenceB: number | null }[];
}

export interface CompareRunOptions extends Omit<JudgeRunOptions, 'templates' | 'command' | 'onEvent'> {
  dirA: string;
  dirB: string;
  reference?: string | undefined;
  settings: PairSettings;
  order: OrderPolicy;
  /** Seed of the random orders (`order: 'random'`). @default 0 */
  seed?: number;
  /**
   * Judge only the matched pairs whose key (relative path) falls in this shard. The pairs
   * and the summary returned are over this part; a shard stores its pairs but no summary
   * (merged with the other shards, the unsharded command summarises the whole from the cache).
   */
  shard?: Shard | undefined;
  /**
   * Judges the pairs in place of `provider` (a panel: see `panelPairJudging`); the run is
   * still opened under `provider`, whose own session then makes no call.
   */
  pairJudging?: PairJudgingFactory | undefined;
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
  /** With `shard`: matched pairs left to the other shards (absent from `pairs`). */
  otherShards: number;
}

/** A pair with no judgment: an unreadable image, or never reached. */
function unjudged(key: string, paths: { a: string; b: string }, status: 'error' | 'not-run', error: string): ComparedPair {
  return {
    key,
    a: { path: paths.a, sha256: '' },
    b: { path: paths.b, sha256: '' },
    orders: [],
    preference: null,
    verdict: null,
    consistent: null,
    orderGap: null,
    status,
    errors: [error],
  };
}

/**
 * Wins, ties, win rate and Bradley-Terry difference of B over A, with 95% intervals that
 * stay honest with few pairs: Wilson for the win rate, the exact posterior for the
 * difference (docs/statistics.md). Pairs are read in key order, so the summary does not
 * depend on the order they arrived in; no resampling is involved.
 */
export function summariseCompare(names: { a: string; b: string }, pairs: readonly ComparedPair[]): CompareSummary {
  const sorted = byKey(pairs);
  const judged = sorted.filter((p) => p.verdict !== null);
  const winsB = judged.filter((p) => p.verdict === 'b').length;
  const winsA = judged.filter((p) => p.verdict === 'a').length;
  const ties = judged.length - winsA - winsB;
  const level = 0.95;
  const bias = positionBias(judged);
  const artefacts = positionArtefacts(bias);
  let winRateB: Interval | null = null;
  let bradleyTerry: Interval | null = null;
  if (judged.length > 0) {
    const w = wilsonInterval(winsB + ties / 2, judged.length, { level });
    winRateB = { estimate: w.estimate, lower: w.lower, upper: w.upper };
    if (!artefacts) {
      const d = pairDifferencePosterior(judged.map((p) => p.preference as number), { sigma: COMPARE_PRIOR.sigma, level });
      bradleyTerry = { estimate: d.estimate, lower: d.lower, upper: d.upper };
    }
  }
  return {
    a: names.a,
    b: names.b,
    pairs: pairs.length,
    judged: judged.length,
    winsA,
    winsB,
    ties,
    winRateB,
    bradleyTerry,
    intervals: { level, winRate: 'wilson', difference: 'posterior', priorSigma: COMPARE_PRIOR.sigma },
    few: judged.length < FEW_PAIRS,
    positionBias: bias,
    positionArtefacts: artefacts,
    inconsistent: judged.filter((p) => p.consistent === false).map((p) => p.key),
    lowCoverage: judged.filter(lowCoverage).map((p) => p.key),
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
  const judging: PairJudging | undefined = options.pairJudging?.(store, run.id, { defer: options.defer, hold: options.hold, awaiting: options.awaiting });
  const perOrder = settings.template.kind === 'levels' ? 1 : settings.samples;
  // Positions (and the coins of `--order random`) are over every matched pair, the same on every shard.
  const shard = options.shard;
  const here = matched.keys.flatMap((key, position) => (!shard || inShard(key, shard) ? [position] : []));
  options.onEvent?.({ type: 'plan', calls: here.length * perOrder * (options.order === 'both' ? 2 : 1) });

  const images = new ImageRegistry(store, provider.maxImageSide);
  const inputErrors: InputError[] = [...matched.errors];
  const pathsOf = (key: string) => ({ a: matched.paths[0]?.get(key) ?? '', b: matched.paths[1]?.get(key) ?? '' });
  const random = createRandom(options.seed ?? 0);
  // Coins are drawn up front, in key order, so `--order random` is reproducible.
  const coins = matched.keys.map(() => random.uniform() < 0.5);
  const pairs: (ComparedPair | undefined)[] = new Array(matched.keys.length);
  const pipeline = new PQueue({ concurrency: Math.max(8, (options.concurrency ?? 4) * 2) });
  await Promise.all(
    here.map((position) =>
      pipeline.add(async () => {
        if (session.stopping) return;
        const key = matched.keys[position] as string;
        let sides: RegisteredImage[];
        try {
          sides = await Promise.all(folders.map((_, f) => images.register(matched.paths[f]?.get(key) as string)));
        } catch (error) {
          const bad = error instanceof InputError ? error : new InputError(key, describeError(error), { cause: error });
          inputErrors.push(bad);
          pairs[position] = unjudged(key, pathsOf(key), 'error', bad.message);
          return;
        }
        const [a, b, reference] = sides as [RegisteredImage, RegisteredImage, RegisteredImage | undefined];
        const pairInput = { a, b, reference, order: options.order, coin: () => coins[position] as boolean };
        const result = await (judging ? judging.judge(pairInput) : judgePair({ ...pairInput, session, provider, judgeId, settings }));
        const asked = pairAsked(result);
        // Nothing asked because the run stopped, or because its answers wait in a batch (held): not run.
        const status = result.verdict !== null ? 'ok' : asked || (!session.stopping && session.held === undefined) ? 'failed' : 'not-run';
        const pair: ComparedPair = {
          key,
          ...result,
          status,
          errors: status === 'not-run' ? [`not run: ${session.notRunReason()}`] : result.orders.flatMap((o) => o.errors),
        };
        pairs[position] = pair;
        store.putResults(
          [{ runId: run.id, kind: 'pair', itemKey: key, position, status: pair.verdict === null ? 'failed' : 'ok', score: pair.preference, value: pair }],
          { deferred: true },
        );
        options.onEvent?.({ type: 'pair', pair });
      }),
    ),
  );
  await judging?.finish();
  const { interrupted, fatal } = await finishJudgeRun(store, judgeRun);
  // Every matched pair is accounted for: unreadable ones as errors, unreached ones as not run.
  const done = here.map((position) => {
    const key = matched.keys[position] as string;
    return pairs[position] ?? unjudged(key, pathsOf(key), 'not-run', `not run: ${session.notRunReason()}`);
  });
  store.putResults(
    done.flatMap((p, k) =>
      p.status === 'error' || p.status === 'not-run'
        ? [{ runId: run.id, kind: 'pair', itemKey: p.key, position: here[k] as number, status: p.status, score: null, value: p }]
        : [],
    ),
  );
  const summary = summariseCompare(names, done);
  // A shard's summary is over its part: printed, never stored as the run's (merged shards would disagree on it).
  if (!shard) {
    store.putResults([{ runId: run.id, kind: 'summary', itemKey: 'compare', position: 0, status: 'ok', score: summary.winRateB?.estimate ?? null, value: summary }]);
  }
  return {
    run,
    resumed,
    renamed,
    fatal,
    pairs: done,
    summary,
    unmatched: matched.unmatched,
    inputErrors,
    counts: judging?.counts() ?? session.counts,
    interrupted,
    budgetExceeded: judging?.budgetExceeded() ?? session.budgetExceeded,
    otherShards: matched.keys.length - here.length,
  };
}
