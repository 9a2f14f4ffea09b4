import { compareRunOptions, planPairs } from '../judges/plans.js';
import { runCompare, type CompareRunOptions, type CompareRunResult } from '../judges/compare-run.js';
import type { OrderPolicy } from '../judges/compare.js';
import { UsageError } from '../core/errors.js';
import { readPairOptions } from './_pair.js';
import { withJudgeRun } from './judge.js';
import type { PairOptions } from './options.js';

export interface CompareOptions extends PairOptions {
  /** Folder of reference images (full-reference comparison), matched like the outputs. */
  reference?: string | undefined;
  /**
   * `both`: judge (A,B) and (B,A) and map back; `random`: one seeded order; `fixed`: A first
   * (cheaper, biased by the judge's first-slot preference).
   * @default 'both'
   */
  order?: OrderPolicy | undefined;
  /** Progress: the plan, calls as they finish, each judged pair. */
  onEvent?: CompareRunOptions['onEvent'];
}

/**
 * Compares two systems output by output, as `quorum compare` does: files in `dirA` and
 * `dirB` are matched by relative path (extension ignored), each pair is judged in both
 * orders, and the summary gives wins/ties/losses, the win rate of B and the Bradley-Terry
 * difference with 95% intervals, and the judge's position bias. Calls are stored in `db`.
 * @example
 * const { summary } = await compare('out/model-a', 'out/model-b', { judge: 'openai:gpt-4o-mini' });
 * console.log(summary.winsB, summary.winsA, summary.winRateB);
 * // => 41 12 { estimate: 0.74, lower: 0.66, upper: 0.82 }
 */
export async function compare(dirA: string, dirB: string, options: CompareOptions): Promise<CompareRunResult> {
  const order = options.order ?? 'both';
  if (!['both', 'random', 'fixed'].includes(order)) throw new UsageError(`Expected \`order\` to be one of both, random, fixed, got \`${String(order)}\``);
  const numbers = await readPairOptions(options);
  const seed = numbers.bootstrapSeed;
  return withJudgeRun(options, async (judge, store, run) => {
    const { settings, stored } = await planPairs({ ...numbers, store, judge });
    const ref = options.reference;
    const dirs = [dirA, dirB];
    const planned = compareRunOptions(stored, dirs, order, ref);
    const { runOptions } = planned;
    return runCompare({
      store,
      provider: judge.provider,
      dirA,
      dirB,
      reference: ref,
      settings,
      order,
      seed,
      runName: options.runName ?? planned.runName,
      runOptions,
      argv: ['compare', ...dirs, ...(ref ? ['--ref', ref] : [])],
      ...run,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  });
}
