import { assertFiniteArray } from './_validate.js';

/**
 * Mean of a sample: sum x_i / n. NaN for an empty sample (no policy can invent a value).
 * NaN or +/-Infinity throws `StatisticsInputError` naming the position (`x[2]`), as every
 * statistic here: filter missing values first.
 *
 * @example
 * mean([3, 4, 5]) // => 4
 */
export function mean(x: readonly number[]): number {
  assertFiniteArray('x', x);
  if (x.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of x) sum += v;
  return sum / x.length;
}

/**
 * Unbiased sample standard deviation: sqrt(sum (x_i - mean)^2 / (n - 1)) (numpy
 * `std(ddof=1)`). NaN for fewer than two values: one sample says nothing about spread.
 * NaN or +/-Infinity throws `StatisticsInputError` naming the position.
 *
 * @example
 * sampleStd([3, 4, 5]) // => 1
 */
export function sampleStd(x: readonly number[]): number {
  assertFiniteArray('x', x);
  if (x.length < 2) return Number.NaN;
  const m = mean(x);
  let ss = 0;
  for (const v of x) ss += (v - m) ** 2;
  return Math.sqrt(ss / (x.length - 1));
}
