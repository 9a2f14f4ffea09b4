/**
 * The unit of pairwise data: one judgement of item `a` against item `b`.
 */

/** An item: a system name, an image hash, an index. `1` and `'1'` are different items. */
export type ItemId = string | number;

/**
 * One comparison of `a` with `b`.
 *
 * - `outcome` is the probability that `a` is better than `b`, in [0, 1]: 1 a win for `a`,
 *   0 a win for `b`, 0.5 a tie; soft values (a judge's preference probability) are
 *   allowed and count as fractional wins.
 * - `weight` (default 1, any finite value >= 0) multiplies the comparison's
 *   log-likelihood; a weight-0 comparison registers its items and nothing else.
 */
export interface Comparison {
  a: ItemId;
  b: ItemId;
  outcome: number;
  weight?: number;
}
