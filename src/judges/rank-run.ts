import { bradleyTerryIntervals } from '../aggregate/bradley-terry-intervals.js';
import type { Comparison } from '../aggregate/comparison.js';
import { createRandom } from '../aggregate/random.js';
import { describeError, InputError, UsageError } from '../core/errors.js';
import { collectInputs } from '../images/index.js';
import type { RunRecord } from '../store/store.js';
import { ActiveRanker, activeBudget, allPairsPool, listPool, RANK_PRIOR, type Candidate, type PairPool } from './active.js';
import { judgePair, positionBias, type PairResult, type PairSettings } from './compare.js';
import { canonicalPairs, FEW_PAIRS, lowCoverage, positionArtefacts } from './pair-checks.js';
import { ImageRegistry, type RegisteredImage } from './image-registry.js';
import { contentKey, matchFolders } from './match.js';
import { finishJudgeRun, startJudgeRun, type JudgeRunOptions } from './run.js';
import { inShard, type Shard } from './shard.js';
import type { JudgeSession, SessionEvent } from './session/session.js';
import type { PairJudging, PairJudgingFactory } from './panels/pairs.js';

export type RankStrategy = 'active' | 'round-robin' | 'random';

export interface RankedItem {
  name: string;
  /**
   * `ranked`: scored from its judged pairs. `not-ranked`: no judged pair (never chosen
   * within the budget, every pair failed, or its images could not be read): no score,
   * no rank, never the prior's 0.
   */
  status: 'ranked' | 'not-ranked';
  /** Why an item is not ranked. */
  reason?: string;
  /** Bradley-Terry score (log-odds, prior N(0, 2^2)); higher is better. */
  score: number | null;
  /** Posterior (Laplace) standard error of the score. */
  standardError: number | null;
  /** 95% interval: the wider of the percentile bootstrap over judged pairs and score +- 1.96 SE. */
  lower: number | null;
  upper: number | null;
  rank: number | null;
  /** Pairs this item took part in, and its soft wins in them. */
  comparisons: number;
  wins: number;
  /** Fewer than `FEW_PAIRS` judged pairs: the interval rests mostly on the prior. */
  few: boolean;
  /** Its judged pairs with level coverage below 0.5 in some order. */
  lowCoveragePairs: number;
}

/** How a ranking's intervals were computed (stored with it and printed). */
export interface RankIntervals {
  level: number;
  method: 'bootstrap+posterior';
  rounds: number;
  seed: number;
  priorSigma: number;
}

export interface RankedPair extends PairResult {
  itemA: number;
  itemB: number;
  content?: string | undefined;
}

export interface RankRunOptions extends Omit<JudgeRunOptions, 'templates' | 'command' | 'onEvent'> {
  /** System folders (outputs matched by relative path), or… */
  systems?: readonly string[] | undefined;
  /** …one folder whose images are ranked themselves. */
  items?: string | undefined;
  settings: PairSettings;
  strategy: RankStrategy;
  /** Most judged orders (each pair is judged in both orders, so a pair costs 2). */
  budget?: number | undefined;
  seed?: number;
  /** Bootstrap rounds for the intervals. @default 200 */
  rounds?: number;
  /**
   * Judge only the planned pairs whose two images' content hashes fall in this shard
   * (round-robin and random only: their pairs are planned before any answer). The ranking
   * returned is over this part; a shard stores its pairs but no ranking or summary.
   */
  shard?: Shard | undefined;
  /**
   * Judges the pairs in place of `provider` (a panel: see `panelPairJudging`); the run is
   * still opened under `provider`, whose own session then makes no call.
   */
  pairJudging?: PairJudgingFactory | undefined;
  onEvent?: (event: SessionEvent | { type: 'plan'; calls: number } | { type: 'pair'; pair: RankedPair }) => void;
}

export interface RankRunResult {
  run: RunRecord;
  resumed: boolean;
  renamed?: string | undefined;
  /** The error that stopped the run, when one did. */
  fatal: string | undefined;
  mode: 'systems' | 'items';
  strategy: RankStrategy;
  ranking: RankedItem[];
  pairs: RankedPair[];
  /** Orders judged (cached or not): what the budget counts. */
  judgedOrders: number;
  budget: number;
  settled: boolean;
  /** Systems mode: per content key, each system's soft win rate in that content. */
  perContent: { key: string; winRates: (number | null)[] }[];
  names: string[];
  positionBias: ReturnType<typeof positionBias>;
  /** The two orders mostly disagreed because of the slot, not the images (see `positionArtefacts`). */
  positionArtefacts: boolean;
  /** Judged pairs with level coverage below 0.5 in some order. */
  lowCoveragePairs: number;
  intervals: RankIntervals;
  unmatched: { path: string; reason: string }[];
  inputErrors: InputError[];
  counts: JudgeSession['counts'];
  interrupted: boolean;
  budgetExceeded: boolean;
  /** With `shard`: planned pairs left to the other shards (absent from `pairs`). */
  otherShards: number;
}

/** The ranking summary stored with a run (what `quorum show` prints again). */
export type StoredRankSummary = Pick<
  RankRunResult,
  'strategy' | 'judgedOrders' | 'budget' | 'settled' | 'names' | 'perContent' | 'positionBias' | 'positionArtefacts' | 'lowCoveragePairs' | 'intervals'
>;

/** BT outcome for a judged pair: P(itemA beats itemB) = 1 - P(b better). Canonical order. */
function comparisonsOf(pairs: readonly RankedPair[]): Comparison[] {
  return canonicalPairs(pairs)
    .filter((p) => p.preference !== null)
    .map((p) => ({ a: p.itemA, b: p.itemB, outcome: 1 - (p.preference as number) }));
}

/**
 * Scores, intervals and ranks from judged pairs (in canonical order). Items with no
 * judged pair are listed as `not-ranked` with `reason(i)`, after the ranked ones.
 */
export function rankItems(
  names: readonly string[],
  pairs: readonly RankedPair[],
  intervals: RankIntervals,
  reason: (item: number) => string,
): RankedItem[] {
  const comparisons = comparisonsOf(pairs);
  const items = names.map((_, i) => i);
  const ci = bradleyTerryIntervals(comparisons, {
    items,
    prior: { sigma: intervals.priorSigma },
    level: intervals.level,
    rounds: intervals.rounds,
    seed: intervals.seed,
  });
  const wins = items.map(() => 0);
  for (const c of comparisons) {
    wins[c.a as number] = (wins[c.a as number] as number) + c.outcome;
    wins[c.b as number] = (wins[c.b as number] as number) + 1 - c.outcome;
  }
  const low = items.map(() => 0);
  for (const p of pairs) {
    if (p.preference === null || !lowCoverage(p)) continue;
    low[p.itemA] = (low[p.itemA] as number) + 1;
    low[p.itemB] = (low[p.itemB] as number) + 1;
  }
  const ranked: RankedItem[] = [];
  const unranked: RankedItem[] = [];
  for (const i of items) {
    const comparisonsOfItem = ci.comparisons[i] as number;
    const common = { name: names[i] as string, comparisons: comparisonsOfItem, wins: wins[i] as number, lowCoveragePairs: low[i] as number };
    if (comparisonsOfItem === 0) {
      unranked.push({ ...common, status: 'not-ranked', reason: reason(i), score: null, standardError: null, lower: null, upper: null, rank: null, few: true });
    } else {
      ranked.push({
        ...common,
        status: 'ranked',
        score: ci.scores[i] as number,
        standardError: ci.standardErrors[i] as number,
        lower: ci.lower[i] as number,
        upper: ci.upper[i] as number,
        rank: 0,
        few: comparisonsOfItem < FEW_PAIRS,
      });
    }
  }
  ranked.sort((x, y) => (y.score as number) - (x.score as number) || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  ranked.forEach((r, k) => (r.rank = k + 1));
  return [...ranked, ...unranked];
}

/** Sharding needs pairs planned before any answer: refused for the active strategy. */
export function checkShardStrategy(strategy: RankStrategy, sharded: boolean): void {
  if (sharded && strategy === 'active') {
    throw new UsageError('--shard needs --strategy round-robin or random: active chooses each pair from the answers before it, so its pairs cannot be split in advance');
  }
}

/**
 * `quorum rank` without the terminal. Items are systems (folders matched by relative
 * path; a comparison is two systems' outputs for one content) or images. Pairs are
 * judged in both orders; Bradley-Terry with a weak prior gives the scores; percentile
 * bootstrap over judged pairs gives the intervals.
 */
export async function runRank(options: RankRunOptions): Promise<RankRunResult> {
  const { store, provider, settings } = options;
  if (!options.systems?.length === !options.items) {
    throw new UsageError('Give either system folders or --items <folder>');
  }
  const shard = options.shard;
  checkShardStrategy(options.strategy, shard !== undefined);
  // ---- items and candidate pairs ----------------------------------------------------------
  let names: string[];
  const candidates: Candidate[] = [];
  const unmatched: { path: string; reason: string }[] = [];
  const inputErrors: InputError[] = [];
  let pathOf: (c: Candidate, side: 'a' | 'b') => string;
  let keys: string[] = [];
  // Items mode pairs every two images: N(N-1)/2 pairs (50 million at 10,000 images) are
  // never listed, only the files; systems mode lists its (few systems x contents) pairs.
  let files: { path: string }[] | null = null;
  if (options.items) {
    const collected = await collectInputs([options.items]);
    inputErrors.push(...collected.errors);
    const itemFiles = collected.files;
    files = itemFiles;
    names = itemFiles.map((f) => contentKey(f.relPath));
    pathOf = (c, side) => (itemFiles[side === 'a' ? c.a : c.b] as { path: string }).path;
  } else {
    const systems = options.systems as readonly string[];
    if (systems.length < 2) throw new UsageError(`Give at least two system folders to rank, got ${systems.length}`);
    const matched = await matchFolders(systems, 2);
    names = matched.names;
    keys = matched.keys;
    unmatched.push(...matched.unmatched);
    inputErrors.push(...matched.errors);
    for (const key of matched.keys) {
      for (let a = 0; a < systems.length; a++) {
        for (let b = a + 1; b < systems.length; b++) {
          if (matched.paths[a]?.has(key) && matched.paths[b]?.has(key)) candidates.push({ a, b, content: key });
        }
      }
    }
    pathOf = (c, side) => matched.paths[side === 'a' ? c.a : c.b]?.get(c.content as string) as string;
  }
  const itemCount = names.length;
  if (itemCount < 2) throw new UsageError(`Need at least two items to rank, found ${itemCount}`);

  // Every image is read and checked once, up front: a bad file is reported once, and the
  // pairs it is in are never chosen (active choice would otherwise keep picking the
  // item it knows least about).
  const images = new ImageRegistry(store, provider.maxImageSide);
  const registered = new Map<string, RegisteredImage | undefined>();
  const register = async (path: string) => {
    if (registered.has(path)) return;
    try {
      registered.set(path, await images.register(path));
    } catch (error) {
      registered.set(path, undefined);
      inputErrors.push(error instanceof InputError ? error : new InputError(path, describeError(error), { cause: error }));
    }
  };
  // Items left with nothing to compare (every image of theirs failed) are not ranked.
  let rankable: Set<number>;
  let pool: PairPool;
  if (files) {
    if (files.length >= 2) for (const f of files) await register(f.path);
    const readable = files.flatMap((f, i) => (registered.get(f.path) ? [i] : []));
    rankable = new Set(readable.length >= 2 ? readable : []);
    pool = allPairsPool(itemCount, [...rankable]);
  } else {
    for (const c of candidates) for (const side of ['a', 'b'] as const) await register(pathOf(c, side));
    const usable = candidates.filter((c) => registered.get(pathOf(c, 'a')) && registered.get(pathOf(c, 'b')));
    rankable = new Set(usable.flatMap((c) => [c.a, c.b]));
    pool = listPool(itemCount, usable);
  }
  const all = pool.size * 2;
  const budget = Math.min(all, options.budget ?? (options.strategy === 'active' ? activeBudget(itemCount) : all));

  // ---- judging ------------------------------------------------------------------------------
  const judgeRun = startJudgeRun({ ...options, templates: [settings.template], command: 'rank' });
  const { run, resumed, renamed, judgeId, session } = judgeRun;
  const judging: PairJudging | undefined = options.pairJudging?.(store, run.id, { defer: options.defer, hold: options.hold, awaiting: options.awaiting });
  const perOrder = settings.template.kind === 'levels' ? 1 : settings.samples;
  const random = createRandom(options.seed ?? 0);
  const pairs: RankedPair[] = [];
  const ranker = new ActiveRanker(itemCount);
  let judgedOrders = 0;
  let settled = false;

  /** A pair's identity for sharding: its two images' content hashes, in sorted order. */
  const pairShardKey = (c: Candidate) =>
    [pathOf(c, 'a'), pathOf(c, 'b')].map((p) => (registered.get(p) as RegisteredImage).sha256).sort().join(':');
  const judgeBatch = async (batch: Candidate[]) => {
    await Promise.all(
      batch.map(async (c) => {
        judgedOrders += 2;
        const a = registered.get(pathOf(c, 'a')) as RegisteredImage;
        const b = registered.get(pathOf(c, 'b')) as RegisteredImage;
        const result = await (judging ? judging.judge({ a, b, order: 'both' }) : judgePair({ session, provider, judgeId, settings, a, b, order: 'both' }));
        const pair: RankedPair = { ...result, itemA: c.a, itemB: c.b, content: c.content };
        pairs.push(pair);
        store.putResults([
          {
            runId: run.id,
            kind: 'pair',
            itemKey: `${c.content ?? ''}:${names[c.a]}:${names[c.b]}`,
            position: pairs.length - 1,
            status: pair.verdict === null ? 'failed' : 'ok',
            score: pair.preference,
            value: pair,
          },
        ]);
        options.onEvent?.({ type: 'pair', pair });
      }),
    );
  };

  const takeRandom = (count: number) => {
    const batch: Candidate[] = [];
    while (batch.length < count) {
      const c = pool.takeRandom(random);
      if (c === undefined) break;
      batch.push(c);
    }
    return batch;
  };
  const batchSize = Math.max(4, (options.concurrency ?? 4) * 2);
  let otherShards = 0;
  if (options.strategy !== 'active') {
    // Round-robin and random plan every pair before any answer, from the seed alone: every
    // shard draws the same plan and keeps its own part.
    const planned = takeRandom(Math.floor(budget / 2));
    const mine = shard ? planned.filter((c) => inShard(pairShardKey(c), shard)) : planned;
    otherShards = planned.length - mine.length;
    options.onEvent?.({ type: 'plan', calls: mine.length * 2 * perOrder });
    if (options.strategy === 'round-robin') await judgeBatch(mine);
    else for (let k = 0; k < mine.length && !session.stopping; k += batchSize) await judgeBatch(mine.slice(k, k + batchSize));
  } else {
    options.onEvent?.({ type: 'plan', calls: budget * perOrder });
    while (!session.stopping && pool.size > 0 && judgedOrders + 2 <= budget) {
      const room = Math.min(batchSize, Math.floor((budget - judgedOrders) / 2));
      let batch: Candidate[];
      if (pairs.length === 0) {
        // The first batch has no estimates to go on: a random spread of pairs.
        batch = takeRandom(room);
      } else {
        if (pairs.length >= itemCount - 1 && ranker.settled()) {
          settled = true;
          break;
        }
        batch = ranker.choose(pool, room, random);
      }
      if (batch.length === 0) break;
      const before = pairs.length;
      await judgeBatch(batch);
      // The scores steering the choice follow each batch (a few warm-started sweeps), in a
      // canonical order so that completion order does not change them.
      ranker.add(comparisonsOf(pairs.slice(before)));
    }
  }
  await judging?.finish();
  const { interrupted, fatal } = await finishJudgeRun(store, judgeRun);

  // ---- scores and intervals -------------------------------------------------------------------
  const judged = canonicalPairs(pairs);
  const rounds = options.rounds ?? 200;
  const seed = options.seed ?? 0;
  const intervals: RankIntervals = { level: 0.95, method: 'bootstrap+posterior', rounds, seed, priorSigma: RANK_PRIOR.sigma };
  const attempted = new Set(pairs.flatMap((p) => [p.itemA, p.itemB]));
  const ranking = rankItems(names, judged, intervals, (i) =>
    !rankable.has(i)
      ? 'its images could not be read'
      : attempted.has(i)
        ? 'every pair it was in failed'
        : shard
          ? 'not compared in this shard (its pairs fell in other shards, or the run stopped first)'
          : 'not compared (budget reached or run stopped first)',
  );
  const items = names.map((_, i) => i);
  const bias = positionBias(judged);
  const lowCoveragePairs = judged.filter((p) => p.preference !== null && lowCoverage(p)).length;
  const perContent = keys.map((key) => {
    const inKey = judged.filter((p) => p.content === key && p.preference !== null);
    const winRates = items.map((i) => {
      const mine = inKey.filter((p) => p.itemA === i || p.itemB === i);
      if (mine.length === 0) return null;
      return mine.reduce((s, p) => s + (p.itemA === i ? 1 - (p.preference as number) : (p.preference as number)), 0) / mine.length;
    });
    return { key, winRates };
  });
  // A shard's ranking is over its part: returned, never stored as the run's (merged shards would disagree on it).
  if (!shard) store.putResults([
    ...ranking.map((r, k) => ({ runId: run.id, kind: 'rank', itemKey: r.name, position: k, status: r.status === 'ranked' ? 'ok' : 'not-ranked', score: r.score, value: r })),
    {
      runId: run.id,
      kind: 'summary',
      itemKey: 'rank',
      position: 0,
      status: 'ok',
      score: null,
      value: {
        strategy: options.strategy,
        judgedOrders,
        budget,
        settled,
        names,
        perContent,
        positionBias: bias,
        positionArtefacts: positionArtefacts(bias),
        lowCoveragePairs,
        intervals,
      } satisfies StoredRankSummary,
    },
  ]);
  return {
    run,
    resumed,
    renamed,
    fatal,
    mode: options.items ? 'items' : 'systems',
    strategy: options.strategy,
    ranking,
    pairs: judged,
    judgedOrders,
    budget,
    settled,
    perContent,
    names,
    positionBias: bias,
    positionArtefacts: positionArtefacts(bias),
    lowCoveragePairs,
    intervals,
    unmatched,
    inputErrors,
    counts: judging?.counts() ?? session.counts,
    interrupted,
    budgetExceeded: judging?.budgetExceeded() ?? session.budgetExceeded,
    otherShards,
  };
}
