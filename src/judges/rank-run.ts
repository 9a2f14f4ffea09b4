import { bootstrapCI } from '../aggregate/bootstrap.js';
import type { Comparison } from '../aggregate/comparison.js';
import { createRandom } from '../aggregate/random.js';
import { describeError, InputError, UsageError } from '../core/errors.js';
import { collectInputs } from '../images/index.js';
import type { RunRecord } from '../store/store.js';
import { activeBudget, chooseActive, chooseRandom, fitScores, isSettled, RANK_PRIOR, type Candidate } from './active.js';
import { judgePair, positionBias, type PairResult, type PairSettings } from './compare.js';
import { ImageRegistry, type RegisteredImage } from './image-registry.js';
import { contentKey, matchFolders } from './match.js';
import { finishJudgeRun, startJudgeRun, type JudgeRunOptions } from './run.js';
import type { JudgeSession, SessionEvent } from './session.js';
import { bradleyTerry } from '../aggregate/bradley-terry.js';

export type RankStrategy = 'active' | 'round-robin' | 'random';

export interface RankedItem {
  name: string;
  /** Bradley-Terry score (log-odds, prior N(0, 2^2)); higher is better. */
  score: number;
  standardError: number | null;
  /** 95% percentile bootstrap interval over judged pairs. */
  lower: number;
  upper: number;
  rank: number;
  /** Pairs this item took part in, and its soft wins in them. */
  comparisons: number;
  wins: number;
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
  unmatched: { path: string; reason: string }[];
  inputErrors: InputError[];
  counts: JudgeSession['counts'];
  interrupted: boolean;
  budgetExceeded: boolean;
}

/** BT outcome for a judged pair: P(itemA beats itemB) = 1 - P(b better). */
function comparisonsOf(pairs: readonly RankedPair[]): Comparison[] {
  return pairs
    .filter((p) => p.preference !== null)
    .map((p) => ({ a: p.itemA, b: p.itemB, outcome: 1 - (p.preference as number) }));
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
  // ---- items and candidate pairs ----------------------------------------------------------
  let names: string[];
  const candidates: Candidate[] = [];
  const unmatched: { path: string; reason: string }[] = [];
  const inputErrors: InputError[] = [];
  let pathOf: (c: Candidate, side: 'a' | 'b') => string;
  let keys: string[] = [];
  if (options.items) {
    const collected = await collectInputs([options.items]);
    inputErrors.push(...collected.errors);
    const files = collected.files;
    names = files.map((f) => contentKey(f.relPath));
    for (let a = 0; a < files.length; a++) for (let b = a + 1; b < files.length; b++) candidates.push({ a, b });
    pathOf = (c, side) => (files[side === 'a' ? c.a : c.b] as { path: string }).path;
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
  for (const c of candidates) {
    for (const side of ['a', 'b'] as const) {
      const path = pathOf(c, side);
      if (registered.has(path)) continue;
      try {
        registered.set(path, await images.register(path));
      } catch (error) {
        registered.set(path, undefined);
        inputErrors.push(error instanceof InputError ? error : new InputError(path, describeError(error), { cause: error }));
      }
    }
  }
  const usable = candidates.filter((c) => registered.get(pathOf(c, 'a')) && registered.get(pathOf(c, 'b')));
  // Items left with nothing to compare (every image of theirs failed) are not ranked.
  const rankable = new Set(usable.flatMap((c) => [c.a, c.b]));
  candidates.length = 0;
  candidates.push(...usable);
  const all = candidates.length * 2;
  const budget = Math.min(all, options.budget ?? (options.strategy === 'active' ? activeBudget(itemCount) : all));

  // ---- judging ------------------------------------------------------------------------------
  const judgeRun = startJudgeRun({ ...options, templates: [settings.template], command: 'rank' });
  const { run, resumed, renamed, judgeId, session } = judgeRun;
  const perOrder = settings.template.kind === 'levels' ? 1 : settings.samples;
  options.onEvent?.({ type: 'plan', calls: budget * perOrder });
  const random = createRandom(options.seed ?? 0);
  const pairs: RankedPair[] = [];
  const remaining = new Set(candidates);
  let judgedOrders = 0;
  let settled = false;

  const judgeBatch = async (batch: Candidate[]) => {
    await Promise.all(
      batch.map(async (c) => {
        remaining.delete(c);
        judgedOrders += 2;
        const a = registered.get(pathOf(c, 'a')) as RegisteredImage;
        const b = registered.get(pathOf(c, 'b')) as RegisteredImage;
        const result = await judgePair({ session, provider, judgeId, settings, a, b, order: 'both' });
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

  const batchSize = Math.max(4, (options.concurrency ?? 4) * 2);
  if (options.strategy === 'round-robin') {
    await judgeBatch(chooseRandom([...remaining], Math.floor(budget / 2), random));
  } else {
    while (!session.stopping && remaining.size > 0 && judgedOrders + 2 <= budget) {
      const room = Math.min(batchSize, Math.floor((budget - judgedOrders) / 2));
      let batch: Candidate[];
      if (options.strategy === 'random' || pairs.length === 0) {
        // The first batch has no estimates to go on: a random spread of pairs.
        batch = chooseRandom([...remaining], room, random);
      } else {
        const fit = fitScores(itemCount, comparisonsOf(pairs));
        if (options.strategy === 'active' && pairs.length >= itemCount - 1 && isSettled(fit)) {
          settled = true;
          break;
        }
        batch = chooseActive(fit, [...remaining], room, random);
      }
      if (batch.length === 0) break;
      await judgeBatch(batch);
    }
  }
  const { interrupted, fatal } = await finishJudgeRun(store, judgeRun);

  // ---- scores and intervals -------------------------------------------------------------------
  const comparisons = comparisonsOf(pairs);
  const items = Array.from({ length: itemCount }, (_, i) => i);
  const fit = bradleyTerry(comparisons, { items, prior: RANK_PRIOR });
  const ci =
    comparisons.length > 0
      ? bootstrapCI(
          (sample) => bradleyTerry(sample, { items, prior: RANK_PRIOR, standardErrors: false }).scores,
          comparisons,
          { rounds: options.rounds ?? 200, seed: options.seed ?? 0, level: 0.95 },
        )
      : undefined;
  const tally = items.map(() => ({ comparisons: 0, wins: 0 }));
  for (const c of comparisons) {
    const ta = tally[c.a as number] as { comparisons: number; wins: number };
    const tb = tally[c.b as number] as { comparisons: number; wins: number };
    ta.comparisons++;
    tb.comparisons++;
    ta.wins += c.outcome;
    tb.wins += 1 - c.outcome;
  }
  const ranking: RankedItem[] = items
    .filter((i) => rankable.has(i))
    .map((i) => ({
      name: names[i] as string,
      score: fit.scores[i] as number,
      standardError: fit.standardErrors?.[i] ?? null,
      lower: ci ? (ci.lower[i] as number) : Number.NaN,
      upper: ci ? (ci.upper[i] as number) : Number.NaN,
      rank: 0,
      ...(tally[i] as { comparisons: number; wins: number }),
    }))
    .sort((x, y) => y.score - x.score)
    .map((r, k) => ({ ...r, rank: k + 1 }));

  const perContent = keys.map((key) => {
    const inKey = pairs.filter((p) => p.content === key && p.preference !== null);
    const winRates = items.map((i) => {
      const mine = inKey.filter((p) => p.itemA === i || p.itemB === i);
      if (mine.length === 0) return null;
      return mine.reduce((s, p) => s + (p.itemA === i ? 1 - (p.preference as number) : (p.preference as number)), 0) / mine.length;
    });
    return { key, winRates };
  });
  store.putResults([
    ...ranking.map((r, k) => ({ runId: run.id, kind: 'rank', itemKey: r.name, position: k, status: 'ok', score: r.score, value: r })),
    {
      runId: run.id,
      kind: 'summary',
      itemKey: 'rank',
      position: 0,
      status: 'ok',
      score: null,
      value: { strategy: options.strategy, judgedOrders, budget, settled, names, perContent, positionBias: positionBias(pairs) },
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
    pairs,
    judgedOrders,
    budget,
    settled,
    perContent,
    names,
    positionBias: positionBias(pairs),
    unmatched,
    inputErrors,
    counts: session.counts,
    interrupted,
    budgetExceeded: session.budgetExceeded,
  };
}
