/**
 * Intervals for a proportion (a win rate).
 */
import { assertPositive, fail } from './_validate.js';
import { normalQuantile } from './normal.js';

export interface ProportionInterval {
  /** successes / trials. */
  estimate: number;
  lower: number;
  upper: number;
  level: number;
}

/**
 * Wilson score interval for a proportion (Wilson 1927; Brown, Cai and DasGupta 2001):
 * the p with `|p^ - p| <= z sqrt(p (1 - p) / n)`, i.e.
 * `(p^ + z^2/2n +- z sqrt(p^(1 - p^)/n + z^2/4n^2)) / (1 + z^2/n)`.
 *
 * - Never degenerate: all successes in 4 trials gives [0.51, 1], not [1, 1]; it stays
 *   inside [0, 1] and contains p^.
 * - Fractional successes are allowed (a tie counts 1/2, a soft outcome its probability).
 *   The interval uses the binomial variance p(1 - p), the largest variance any outcome in
 *   [0, 1] with mean p can have, so for ties and soft outcomes it is conservative.
 * - `trials` must be finite and > 0, `successes` in [0, trials], `level` in (0, 1);
 *   else `StatisticsInputError`.
 *
 * @example
 * wilsonInterval(4, 4) // => { estimate: 1, lower: 0.5101, upper: 1, level: 0.95 }
 */
export function wilsonInterval(successes: number, trials: number, options: { level?: number } = {}): ProportionInterval {
  assertPositive('trials', trials);
  if (typeof successes !== 'number' || !(successes >= 0 && successes <= trials)) {
    fail('successes', `a number in [0, trials] = [0, ${trials}]`, successes);
  }
  const level = options.level ?? 0.95;
  if (typeof level !== 'number' || !(level > 0 && level < 1)) fail('options.level', 'a number in (0, 1)', level);
  const z = normalQuantile((1 + level) / 2);
  const p = successes / trials;
  const z2n = (z * z) / trials;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / trials + z2n / (4 * trials));
  return {
    estimate: p,
    lower: Math.min(p, Math.max(0, centre - half)),
    upper: Math.max(p, Math.min(1, centre + half)),
    level,
  };
}
