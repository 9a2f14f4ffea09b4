import { UsageError } from '../core/errors.js';
import { planPairs, rankRunOptions } from '../judges/plans.js';
import { runRank, type RankRunOptions, type RankRunResult, type RankStrategy } from '../judges/rank-run.js';
import { integerOption } from './_validate.js';
import { readPairOptions } from './_pair.js';
import { withJudgeRun } from './judge.js';
import type { PairOptions } from './options.js';

export interface RankOptions extends PairOptions {
  /**
   * `active`: judge the most informative pairs first and stop at the budget or when the
   * order is settled; `round-robin`: every pair; `random`: random pairs up to the budget.
   * @default 'active'
   */
  strategy?: RankStrategy | undefined;
  /** Most judged orders (a pair costs 2), >= 2. @default 2 N log2 N for active, every pair otherwise */
  budget?: number | undefined;
  /** Progress: the plan, calls as they finish, each judged pair. */
  onEvent?: RankRunOptions['onEvent'];
}

/**
 * Ranks systems or images from pairwise judgments in both orders, as `quorum rank` does:
 * Bradley-Terry scores (log-odds) with 95% bootstrap intervals. Give system folders
 * (outputs matched by relative path; at least two) or `{ items: folder }` to rank the
 * images of one folder themselves. Calls are stored in `db`.
 * @example
 * const { ranking } = await rank(['out/gen-1', 'out/gen-2', 'out/gen-3'], { judge: 'openai:gpt-4o-mini' });
 * const best = await rank({ items: 'candidates/' }, { judge: 'openai:gpt-4o-mini', budget: 60 });
 * console.log(best.ranking[0]);
 * // => { name: 'c.png', score: 1.2, lower: 0.4, upper: 1.9, ... }
 */
export async function rank(systemsOrItems: readonly string[] | { items: string }, options: RankOptions): Promise<RankRunResult> {
  const items = 'items' in systemsOrItems ? systemsOrItems.items : undefined;
  const systems = items === undefined ? [...(systemsOrItems as readonly string[])] : undefined;
  if (systems && systems.length < 2) throw new UsageError(`Give at least two system folders, or { items: folder }; got ${systems.length}`);
  if (items !== undefined && !items) throw new UsageError('Expected `items` to be a folder, got ``');
  const strategy = options.strategy ?? 'active';
  if (!['active', 'round-robin', 'random'].includes(strategy)) {
    throw new UsageError(`Expected \`strategy\` to be one of active, round-robin, random, got \`${String(strategy)}\``);
  }
  const budget = integerOption('budget', options.budget, 2);
  const numbers = await readPairOptions(options);
  const seed = numbers.bootstrapSeed;
  return withJudgeRun(options, async (judge, store, run) => {
    const { settings, stored } = await planPairs({ ...numbers, store, judge });
    const planned = rankRunOptions(stored, items !== undefined ? { items } : { systems: systems ?? [] }, strategy, budget, seed);
    const { runOptions } = planned;
    return runRank({
      store,
      provider: judge.provider,
      ...(items !== undefined ? { items } : { systems }),
      settings,
      strategy,
      budget,
      seed,
      runName: options.runName ?? planned.runName,
      runOptions,
      argv: ['rank', ...(items !== undefined ? ['--items', items] : (systems ?? []))],
      ...run,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  });
}
