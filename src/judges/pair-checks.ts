/**
 * What pair summaries flag (and, from `pair-order`, the order they read pairs in).
 * Imports no judging machinery, only pure statistics, so the report can use it cheaply.
 */
import { wilsonInterval } from '../aggregate/proportion.js';
import type { PairResult, positionBias } from './compare.js';

export { byKey, canonicalPairs } from './pair-order.js';

/** Level coverage below this means the judge mostly ignored the answer format (as `score` flags it). */
export const LOW_LEVEL_COVERAGE = 0.5;

/** An interval resting on fewer judged pairs than this is flagged as resting on few data. */
export const FEW_PAIRS = 5;

/**
 * The lowest level coverage over a pair's orders (the mass its level tokens got), or null
 * for sample templates, which have none.
 */
export function pairCoverage(pair: PairResult): number | null {
  const values = pair.orders.map((o) => o.coverage).filter((c): c is number => c !== null);
  return values.length ? Math.min(...values) : null;
}

/** Whether any order of the pair had level coverage below `LOW_LEVEL_COVERAGE`. */
export function lowCoverage(pair: PairResult): boolean {
  const c = pairCoverage(pair);
  return c !== null && c < LOW_LEVEL_COVERAGE;
}

/**
 * Whether the verdicts are position artefacts: at least `FEW_PAIRS` pairs were judged in
 * both orders, at least half of them changed their winner with the order, and the slot,
 * not the image, decided the orders: the first slot won at least 75% (or at most 25%) of
 * decided orders, and the 95% Wilson interval of that share excludes 1/2. A judge that is
 * merely noisy on close pairs disagrees too, but without a slot preference; its verdicts
 * are ties, which the intervals already show. With fewer pairs no such call is made (the
 * intervals are flagged as resting on few pairs instead).
 */
export function positionArtefacts(bias: ReturnType<typeof positionBias>): boolean {
  const { swapDisagreementRate: rate, firstSlotPreference: first, decidedOrders } = bias;
  if (bias.pairsBothOrders < FEW_PAIRS || rate === null || first === null || rate < 0.5) return false;
  if (Math.abs(first - 0.5) < 0.25) return false;
  const slot = wilsonInterval(first * decidedOrders, decidedOrders);
  return slot.lower > 0.5 || slot.upper < 0.5;
}
