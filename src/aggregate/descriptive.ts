/**
 * Mean of a sample: sum x_i / n. NaN for an empty sample (no policy can invent a value).
 *
 * @example
 * mean([3, 4, 5]) // => 4
 */
export function mean(x: readonly number[]): number {
  if (x.length === 0) return Number.NaN;
  let sum = 0;
  for (const v of x) sum += v;
  return sum / x.length;
}

/**
 * Unbiased sample standard deviation: sqrt(sum (x_i - mean)^2 / (n - 1)) (numpy
 * `std(ddof=1)`). NaN for fewer than two values: one sample says nothing about spread.
 *
 * @example
 * sampleStd([3, 4, 5]) // => 1
 */
export function sampleStd(x: readonly number[]): number {
  if (x.length < 2) return Number.NaN;
  const m = mean(x);
  let ss = 0;
  for (const v of x) ss += (v - m) ** 2;
  return Math.sqrt(ss / (x.length - 1));
}
