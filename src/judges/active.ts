import { bradleyTerry } from '../aggregate/bradley-terry.js';
import type { Comparison } from '../aggregate/comparison.js';
import type { PairedFit } from '../aggregate/paired-fit.js';
import type { Random } from '../aggregate/random.js';

/**
 * Choosing which pairs to judge next, from the current estimates. Pure: no I/O, so the
 * same code drives `quorum rank --strategy active` and the simulations in `bench/rank.ts`.
 */

/** A pair that could be judged: two item indices (and, for systems, the content it is about). */
export interface Candidate {
  a: number;
  b: number;
  /** Content key (systems mode) so several contents of one system pair stay distinct. */
  content?: string;
}

/** Prior on Bradley-Terry scores while ranking: keeps early fits finite (separation, lone items). */
export const RANK_PRIOR = { sigma: 2 } as const;

export function fitScores(itemCount: number, comparisons: readonly Comparison[]): PairedFit {
  const items = Array.from({ length: itemCount }, (_, i) => i);
  return bradleyTerry(comparisons, { items, prior: RANK_PRIOR });
}

/**
 * Picks up to `count` candidates with the largest expected information: p(1-p), the
 * Fisher information of one Bradley-Terry comparison at the current estimates, times the
 * combined standard error of the two scores (uncertain, close pairs first). Each item
 * appears at most `perItem` times in one batch so a batch spreads over the ranking; ties
 * are broken by the seeded `random` stream.
 */
export function chooseActive(
  fit: PairedFit,
  candidates: readonly Candidate[],
  count: number,
  random: Random,
  perItem = 2,
): Candidate[] {
  const se = fit.standardErrors ?? fit.scores.map(() => 1);
  const scored = candidates.map((c) => {
    const d = (fit.scores[c.a] as number) - (fit.scores[c.b] as number);
    const p = 1 / (1 + Math.exp(-d));
    const spread = Math.sqrt((se[c.a] as number) ** 2 + (se[c.b] as number) ** 2);
    return { c, u: p * (1 - p) * spread, tie: random.uniform() };
  });
  scored.sort((x, y) => y.u - x.u || x.tie - y.tie);
  const used = new Map<number, number>();
  const chosen: Candidate[] = [];
  for (const { c } of scored) {
    if (chosen.length >= count) break;
    if ((used.get(c.a) ?? 0) >= perItem || (used.get(c.b) ?? 0) >= perItem) continue;
    used.set(c.a, (used.get(c.a) ?? 0) + 1);
    used.set(c.b, (used.get(c.b) ?? 0) + 1);
    chosen.push(c);
  }
  return chosen;
}

/** Picks `count` candidates uniformly at random (the baseline active choice is measured against). */
export function chooseRandom(candidates: readonly Candidate[], count: number, random: Random): Candidate[] {
  const pool = [...candidates];
  const chosen: Candidate[] = [];
  while (chosen.length < count && pool.length > 0) {
    const k = Math.floor(random.uniform() * pool.length);
    chosen.push(pool[k] as Candidate);
    pool[k] = pool[pool.length - 1] as Candidate;
    pool.pop();
  }
  return chosen;
}

/**
 * The order is settled when every two neighbours in the current ranking are separated by
 * more than `z` combined standard errors (z = 1.96: 95% two-sided).
 */
export function isSettled(fit: PairedFit, z = 1.96): boolean {
  if (!fit.standardErrors) return false;
  const order = fit.scores.map((s, i) => ({ s, i })).sort((x, y) => y.s - x.s);
  for (let k = 0; k + 1 < order.length; k++) {
    const hi = order[k] as { s: number; i: number };
    const lo = order[k + 1] as { s: number; i: number };
    const se = Math.hypot(fit.standardErrors[hi.i] as number, fit.standardErrors[lo.i] as number);
    if (!(hi.s - lo.s > z * se)) return false;
  }
  return true;
}

/** The default budget of judged orders for active ranking: 2 N log2 N. */
export function activeBudget(items: number): number {
  return Math.ceil(2 * items * Math.log2(Math.max(2, items)));
}
