/**
 * The Bradley-Terry difference between two items judged against each other, with its
 * exact posterior interval (one dimension: computed by quadrature, no resampling).
 */
import { assertPositive, fail } from './_validate.js';

export interface PairDifferenceOptions {
  /**
   * Prior N(0, sigma^2) on each item's score, so N(0, 2 sigma^2) on the difference.
   * @default 3
   */
  sigma?: number;
  /** Central posterior probability of the interval, in (0, 1). @default 0.95 */
  level?: number;
}

export interface PairDifference {
  /** MAP difference `s_first - s_second` in log-odds (the two-item Bradley-Terry fit with the prior). */
  estimate: number;
  /** Equal-tailed posterior interval: the `(1 - level)/2` and `(1 + level)/2` posterior quantiles. */
  lower: number;
  upper: number;
  /** Laplace standard error at the MAP: `1 / sqrt(n p (1 - p) + 1 / (2 sigma^2))`. */
  standardError: number;
  level: number;
  /** Number of outcomes (comparisons) behind the estimate. */
  n: number;
}

const log1pExp = (x: number): number => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Nodes and weights of 10-point Gauss-Legendre quadrature on [-1, 1] (Newton on P_10). */
const GAUSS = ((m: number) => {
  const nodes: number[] = [];
  const weights: number[] = [];
  for (let i = 1; i <= m; i++) {
    let x = Math.cos((Math.PI * (i - 0.25)) / (m + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= m; k++) [p0, p1] = [p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k];
      dp = (m * (x * p1 - p0)) / (x * x - 1);
      const step = p1 / dp;
      x -= step;
      if (Math.abs(step) < 1e-16) break;
    }
    nodes.push(x);
    weights.push(2 / ((1 - x * x) * dp * dp));
  }
  return { nodes, weights };
})(10);

/**
 * Bradley-Terry difference `d = s_first - s_second` from comparisons of two items, where
 * `outcomes[i]` is P(first beats second) in comparison i (1 win, 0 loss, 0.5 tie, soft
 * values as fractional wins). Posterior with a N(0, sigma^2) prior on each score:
 * `log p(d) = W log sigmoid(d) + L log sigmoid(-d) - d^2 / (4 sigma^2) + const`, with
 * W = sum y_i and L = sum (1 - y_i); the likelihood only involves d, so this is the exact
 * marginal of the two-score posterior.
 *
 * - `estimate`: the MAP (safeguarded Newton; the objective is strictly concave).
 * - Interval: equal-tailed posterior quantiles by composite 10-point Gauss-Legendre
 *   quadrature over the region where the density is above e^-50 of its peak (relative
 *   accuracy about 1e-10). Unlike a percentile bootstrap it never collapses to a point:
 *   4 wins out of 4 give [0.59, 10.12] around the MAP 3.10 with sigma 3, not [d, d].
 * - Why it covers: when the true difference is drawn from the prior, a posterior interval
 *   covers it with exactly its level; with soft outcomes or ties (whose variance is below
 *   the Bernoulli p(1 - p) the likelihood assumes) it is conservative.
 * - The sum W is taken over the sorted outcomes, so the result does not depend on their order.
 * - Empty `outcomes` give the prior: estimate 0, interval +-z sqrt(2) sigma. Outcomes
 *   outside [0, 1] or NaN throw `StatisticsInputError`.
 *
 * @example
 * const d = pairDifferencePosterior([1, 1, 1, 1]);
 * [d.estimate, d.lower, d.upper] // => [3.10, 0.59, 10.12]
 */
export function pairDifferencePosterior(outcomes: readonly number[], options: PairDifferenceOptions = {}): PairDifference {
  if (!Array.isArray(outcomes)) fail('outcomes', 'an array of probabilities', outcomes);
  outcomes.forEach((y, i) => {
    if (typeof y !== 'number' || !(y >= 0 && y <= 1)) fail(`outcomes[${i}]`, 'a probability in [0, 1]', y);
  });
  const sigma = options.sigma ?? 3;
  assertPositive('options.sigma', sigma);
  const level = options.level ?? 0.95;
  if (typeof level !== 'number' || !(level > 0 && level < 1)) fail('options.level', 'a number in (0, 1)', level);

  const n = outcomes.length;
  let wins = 0;
  for (const y of [...outcomes].sort((a, b) => a - b)) wins += y;
  const losses = n - wins;
  const tau = 1 / (2 * sigma * sigma); // prior precision of d
  const logDensity = (d: number) => -wins * log1pExp(-d) - losses * log1pExp(d) - (tau * d * d) / 2;
  const gradient = (d: number) => wins * sigmoid(-d) - losses * sigmoid(d) - tau * d;
  const curvature = (d: number) => n * sigmoid(d) * sigmoid(-d) + tau;

  // MAP: the gradient decreases from +inf to -inf; the root lies in [-L/tau, W/tau].
  let lo = -losses / tau - 1;
  let hi = wins / tau + 1;
  let d = 0;
  for (let it = 0; it < 200; it++) {
    const g = gradient(d);
    if (g === 0) break;
    if (g > 0) lo = d;
    else hi = d;
    let next = d + g / curvature(d);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - d) <= 1e-14 * (1 + Math.abs(d))) {
      d = next;
      break;
    }
    d = next;
  }
  const map = d;
  const peak = logDensity(map);
  const standardError = 1 / Math.sqrt(curvature(map));

  // Integration range: step out from the MAP until the density is below e^-50 of the
  // peak (concave log-density: it keeps falling).
  const edge = (direction: 1 | -1): number => {
    let step = standardError;
    while (logDensity(map + direction * step) - peak > -50) step *= 2;
    return map + direction * step;
  };
  const left = edge(-1);
  const right = edge(1);
  const density = (x: number) => Math.exp(logDensity(x) - peak);
  const integral = (a: number, b: number): number => {
    const mid = (a + b) / 2;
    const half = (b - a) / 2;
    let s = 0;
    for (let k = 0; k < GAUSS.nodes.length; k++) s += (GAUSS.weights[k] as number) * density(mid + half * (GAUSS.nodes[k] as number));
    return s * half;
  };
  const cells = 256;
  const width = (right - left) / cells;
  const cumulative = new Float64Array(cells + 1);
  for (let k = 0; k < cells; k++) cumulative[k + 1] = (cumulative[k] as number) + integral(left + k * width, left + (k + 1) * width);
  const total = cumulative[cells] as number;

  const quantile = (q: number): number => {
    const target = q * total;
    let k = 0;
    while (k < cells - 1 && (cumulative[k + 1] as number) < target) k++;
    const a = left + k * width;
    let lower = a;
    let upper = a + width;
    let x = a + width / 2;
    for (let it = 0; it < 100; it++) {
      const f = (cumulative[k] as number) + integral(a, x) - target;
      if (f > 0) upper = x;
      else lower = x;
      let next = x - f / density(x);
      if (!(next > lower && next < upper)) next = (lower + upper) / 2;
      if (Math.abs(next - x) <= 1e-13 * (1 + Math.abs(x))) return next;
      x = next;
    }
    return x;
  };
  return {
    estimate: map,
    lower: quantile((1 - level) / 2),
    upper: quantile((1 + level) / 2),
    standardError,
    level,
    n,
  };
}
