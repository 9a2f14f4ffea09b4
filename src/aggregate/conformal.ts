/**
 * Split conformal prediction intervals (Vovk, Gammerman and Shafer 2005; Lei, G'Sell,
 * Rinaldo, Tibshirani and Wasserman, "Distribution-free predictive inference for
 * regression", JASA 2018). Given nonconformity scores `s_i = |y_i - f(x_i)| / u(x_i)` of
 * n calibration points that took no part in fitting f, the interval
 * `f(x) +- q u(x)` with `q` the `ceil((n + 1) coverage)`-th smallest score covers a new
 * exchangeable point's y with probability at least `coverage` (and below
 * `coverage + 1 / (n + 1)` when scores have no ties).
 */
import { assertFiniteArray, fail } from './_validate.js';

/**
 * The conformal quantile: the `ceil((n + 1) coverage)`-th smallest of `scores`; Infinity
 * when that rank passes n (too few calibration points for the coverage asked: the only
 * honest interval is unbounded).
 * @example conformalQuantile([0.1, 0.4, 0.2, 0.3], 0.5) // => 0.3
 */
export function conformalQuantile(scores: readonly number[], coverage: number): number {
  assertFiniteArray('scores', scores, 1);
  if (!(coverage > 0 && coverage < 1)) fail('coverage', 'a number in (0, 1)', coverage);
  const n = scores.length;
  const rank = Math.ceil((n + 1) * coverage);
  if (rank > n) return Infinity;
  const sorted = Float64Array.from(scores).sort();
  return sorted[rank - 1] as number;
}

/**
 * Nonconformity scores `|y - prediction| / max(scale, minScale)`; without `scale`, the
 * absolute residuals. Scaling by the judge's own spread (locally weighted split conformal,
 * Lei et al. 2018 sec. 5.2) makes intervals wider where the judge is unsure.
 * @example conformityScores([3, 4], [2.5, 4.5], [0.5, 1]) // => [1, 0.5]
 */
export function conformityScores(
  y: readonly number[],
  prediction: readonly number[],
  scale?: readonly number[],
  minScale = 1e-3,
): number[] {
  assertFiniteArray('y', y);
  assertFiniteArray('prediction', prediction);
  if (y.length !== prediction.length || (scale && scale.length !== y.length)) fail('y, prediction, scale', 'arrays of one length', y.length);
  return y.map((v, i) => Math.abs(v - (prediction[i] as number)) / (scale ? Math.max(scale[i] as number, minScale) : 1));
}
