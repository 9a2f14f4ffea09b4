/**
 * Seeded percentile bootstrap (Efron 1979; Efron and Tibshirani 1993, ch. 13).
 */
import { createRandom } from './random.js';
import { assertInteger, fail } from './_validate.js';

export interface BootstrapOptions {
  /** Resamples drawn. @default 1000 */
  rounds?: number;
  /** Central coverage of the interval, in (0, 1). @default 0.95 */
  level?: number;
  /** Seed of the resampling stream; the same seed gives the same interval. @default 0 */
  seed?: number;
  /** Return every resample's statistic as `samples`. @default false */
  keepSamples?: boolean;
}

export interface BootstrapInterval {
  /** The statistic on the original data. */
  estimate: number;
  lower: number;
  upper: number;
  level: number;
  rounds: number;
  /** Resamples whose statistic was finite and entered the quantiles. */
  valid: number;
  samples?: number[];
}

export interface BootstrapVectorInterval {
  estimate: number[];
  lower: number[];
  upper: number[];
  level: number;
  rounds: number;
  /** Per coordinate, resamples whose value was finite. */
  valid: number[];
  /** `samples[round][coordinate]`. */
  samples?: number[][];
}

/** Quantile with linear interpolation between order statistics (type 7, numpy's default). */
function quantileSorted(sorted: Float64Array, q: number): number {
  const m = sorted.length;
  if (m === 0) return NaN;
  const h = (m - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, m - 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (h - lo) * (b - a);
}

/**
 * Percentile bootstrap interval of `statistic`: resample the units of `data` with
 * replacement (same size), recompute, and take the `(1 - level) / 2` and
 * `(1 + level) / 2` quantiles (linear interpolation, type 7) of the replicates.
 *
 * - Units are whatever the statistic needs: `[x, y]` pairs for a correlation, the
 *   comparisons for a ranking. The statistic may return a number or a vector (e.g. all
 *   scores of a Bradley-Terry fit; pass `items` to the fit so coordinates line up).
 * - Reproducible: the stream comes from `createRandom(seed)`.
 * - Replicates that are NaN or infinite (a resample with a constant column makes a
 *   correlation NaN) are left out of the quantiles and counted out of `valid`; when none
 *   is valid the bounds are NaN. Errors thrown by the statistic propagate (a fit without
 *   prior can meet separation in a resample: give it a prior).
 * - A percentile interval need not contain the estimate for a skewed statistic; it does
 *   for the mean of any data in practice.
 *
 * @example
 * const x = [1.2, 2.3, 2.9, 3.8, 4.1, 4.6, 3.3, 1.9];
 * const y = [20, 35, 41, 70, 66, 88, 52, 30];
 * const pairs = x.map((v, i) => [v, y[i]] as const);
 * bootstrapCI((s) => srcc(s.map((p) => p[0]), s.map((p) => p[1])), pairs, { rounds: 1000, seed: 7 })
 * // => { estimate: 0.976, lower: 0.802, upper: 1, level: 0.95, rounds: 1000, valid: 1000 }
 */
export function bootstrapCI<T>(
  statistic: (sample: readonly T[]) => number,
  data: readonly T[],
  options?: BootstrapOptions,
): BootstrapInterval;
export function bootstrapCI<T>(
  statistic: (sample: readonly T[]) => readonly number[],
  data: readonly T[],
  options?: BootstrapOptions,
): BootstrapVectorInterval;
export function bootstrapCI<T>(
  statistic: (sample: readonly T[]) => number | readonly number[],
  data: readonly T[],
  options: BootstrapOptions = {},
): BootstrapInterval | BootstrapVectorInterval {
  if (typeof statistic !== 'function') fail('statistic', 'a function', typeof statistic);
  if (!Array.isArray(data) || data.length === 0) fail('data', 'a non-empty array', Array.isArray(data) ? 'empty' : data);
  const rounds = options.rounds ?? 1000;
  assertInteger('options.rounds', rounds, 1);
  const level = options.level ?? 0.95;
  if (typeof level !== 'number' || !(level > 0 && level < 1)) fail('options.level', 'a number in (0, 1)', level);
  const seed = options.seed ?? 0;
  const keep = options.keepSamples ?? false;

  const estimate = statistic(data);
  const isVector = typeof estimate !== 'number';
  const width = isVector ? estimate.length : 1;
  const replicates = Array.from({ length: width }, () => new Float64Array(rounds));
  const counts = new Int32Array(width);
  const samples: number[][] = [];
  const random = createRandom(seed);
  const n = data.length;
  const sample = new Array<T>(n);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) sample[i] = data[random.integer(n)] as T;
    const value = statistic(sample);
    const vector = typeof value === 'number' ? [value] : value;
    if ((typeof value === 'number') === isVector || vector.length !== width) {
      fail('statistic', `to return the same shape on every resample (${isVector ? `${width} values` : 'a number'})`, value);
    }
    if (keep) samples.push(Array.from(vector));
    for (let c = 0; c < width; c++) {
      const v = vector[c] as number;
      if (Number.isFinite(v)) {
        (replicates[c] as Float64Array)[counts[c] as number] = v;
        counts[c] = (counts[c] as number) + 1;
      }
    }
  }
  const lowerQ = (1 - level) / 2;
  const upperQ = (1 + level) / 2;
  const lower: number[] = [];
  const upper: number[] = [];
  for (let c = 0; c < width; c++) {
    const sorted = (replicates[c] as Float64Array).subarray(0, counts[c] as number).sort();
    lower.push(quantileSorted(sorted, lowerQ));
    upper.push(quantileSorted(sorted, upperQ));
  }
  if (isVector) {
    const result: BootstrapVectorInterval = {
      estimate: Array.from(estimate),
      lower,
      upper,
      level,
      rounds,
      valid: Array.from(counts),
    };
    if (keep) result.samples = samples;
    return result;
  }
  const result: BootstrapInterval = {
    estimate,
    lower: lower[0] as number,
    upper: upper[0] as number,
    level,
    rounds,
    valid: counts[0] as number,
  };
  if (keep) result.samples = samples.map((v) => v[0] as number);
  return result;
}
