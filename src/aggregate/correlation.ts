/**
 * Agreement between predicted and human scores, the IQA convention:
 * SRCC, KRCC, PLCC (raw or after the 4-parameter logistic fit), RMSE.
 *
 * Shared policies:
 * - `x` and `y` must be arrays of finite numbers of equal length; NaN, Infinity or a
 *   length mismatch throw `StatisticsInputError` (filter missing values first: a silent
 *   pairwise deletion would change n behind the caller's back).
 * - Fewer than 2 pairs throw (4 for a logistic fit: fewer points than parameters).
 * - A constant `x` or `y` makes a correlation undefined: the result is NaN, as in SciPy.
 */
import { fitLogistic4 } from './logistic4.js';
import { argsort, sortedKeys } from './_argsort.js';
import { averageRanks } from './ranks.js';
import { assertPaired, fail } from './_validate.js';

export interface CorrelationOptions {
  /**
   * `'logistic4'` first maps x through the 4-parameter logistic fitted to (x, y)
   * (`fitLogistic4`), the usual IQA protocol for PLCC and RMSE.
   * @default 'none'
   */
  fit?: 'none' | 'logistic4';
}

function isConstant(x: ArrayLike<number>): boolean {
  const first = x[0];
  for (let i = 1; i < x.length; i++) if (x[i] !== first) return false;
  return true;
}

/** Accurate mean: the naive mean corrected by the mean residual. */
function mean(x: ArrayLike<number>): number {
  const n = x.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] as number;
  let m = s / n;
  let r = 0;
  for (let i = 0; i < n; i++) r += (x[i] as number) - m;
  m += r / n;
  return m;
}

/** Pearson correlation of validated, non-constant samples (two-pass, scaled). */
function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (isConstant(x) || isConstant(y)) return NaN;
  const n = x.length;
  const mx = mean(x);
  const my = mean(y);
  // Scale the residuals by their largest magnitude so that squares cannot overflow.
  let ax = 0;
  let ay = 0;
  for (let i = 0; i < n; i++) {
    ax = Math.max(ax, Math.abs((x[i] as number) - mx));
    ay = Math.max(ay, Math.abs((y[i] as number) - my));
  }
  if (ax === 0 || ay === 0) return NaN;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = ((x[i] as number) - mx) / ax;
    const dy = ((y[i] as number) - my) / ay;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const r = sxy / (Math.sqrt(sxx) * Math.sqrt(syy));
  return Math.max(-1, Math.min(1, r));
}

function fitted(x: readonly number[], y: readonly number[], options: CorrelationOptions): readonly number[] {
  const fit = options.fit ?? 'none';
  if (fit === 'none') return x;
  if (fit !== 'logistic4') fail('options.fit', "'none' or 'logistic4'", fit);
  const model = fitLogistic4(x, y);
  return x.map((v) => model.predict(v));
}

/**
 * Pearson linear correlation (PLCC), `cov(x, y) / (sd(x) sd(y))`, optionally after the
 * 4-parameter logistic fit of y on x. NaN when x or y is constant.
 * @example plcc([1, 2, 3, 4], [1, 3, 2, 4]) // => 0.8
 */
export function plcc(x: readonly number[], y: readonly number[], options: CorrelationOptions = {}): number {
  const withFit = options.fit === 'logistic4';
  assertPaired(x, y, withFit ? 4 : 2);
  if (isConstant(x) || isConstant(y)) return NaN;
  return pearson(fitted(x, y, options), y);
}

/**
 * Spearman rank correlation (SRCC): Pearson correlation of the ranks, ties given their
 * average rank (`scipy.stats.spearmanr`). NaN when x or y is constant.
 * @example srcc([1, 2, 3, 4], [10, 30, 20, 40]) // => 0.8
 */
export function srcc(x: readonly number[], y: readonly number[]): number {
  assertPaired(x, y, 2);
  return pearson(averageRanks(x, argsort(x)), averageRanks(y, argsort(y)));
}

/**
 * Kendall rank correlation tau-b,
 * `(n_c - n_d) / sqrt((n_0 - n_1)(n_0 - n_2))` with n_1, n_2 the pairs tied in x, in y
 * (`scipy.stats.kendalltau`). O(n log n) by Knight's merge-sort algorithm (1966).
 * NaN when x or y is constant.
 * @example krcc([1, 2, 3, 4], [10, 30, 20, 40]) // => 0.6666666666666666
 */
export function krcc(x: readonly number[], y: readonly number[]): number {
  assertPaired(x, y, 2);
  const n = x.length;
  // y's sorted order; the dense rank of y (0, 1, ...) at each position of that order,
  // and the pairs tied in y (n2), from runs of equal keys.
  const sortedY = sortedKeys(y);
  const byY = sortedY.order;
  const rankAt = new Int32Array(n);
  let n2 = 0;
  let rank = 0;
  let runY = 1;
  for (let k = 1; k < n; k++) {
    if (sortedY.hi[k] === sortedY.hi[k - 1] && sortedY.lo[k] === sortedY.lo[k - 1]) runY++;
    else {
      n2 += (runY * (runY - 1)) / 2;
      runY = 1;
      rank++;
    }
    rankAt[k] = rank;
  }
  n2 += (runY * (runY - 1)) / 2;
  // Order by (x, y): a stable sort by x of the y-sorted order.
  const xByY = new Float64Array(n);
  for (let k = 0; k < n; k++) xByY[k] = x[byY[k] as number] as number;
  const sortedX = sortedKeys(xByY);
  const byX = sortedX.order;
  // Pairs tied in x (n1) and tied in both (n3), from runs in the (x, y)-sorted order;
  // `ys` is y's dense rank in that order.
  const ys = new Int32Array(n);
  let n1 = 0;
  let n3 = 0;
  let runX = 1;
  let runXY = 1;
  ys[0] = rankAt[byX[0] as number] as number;
  for (let k = 1; k < n; k++) {
    ys[k] = rankAt[byX[k] as number] as number;
    const sameX = sortedX.hi[k] === sortedX.hi[k - 1] && sortedX.lo[k] === sortedX.lo[k - 1];
    if (sameX) runX++;
    else {
      n1 += (runX * (runX - 1)) / 2;
      runX = 1;
    }
    if (sameX && ys[k] === ys[k - 1]) runXY++;
    else {
      n3 += (runXY * (runXY - 1)) / 2;
      runXY = 1;
    }
  }
  n1 += (runX * (runX - 1)) / 2;
  n3 += (runXY * (runXY - 1)) / 2;
  // Discordant pairs = inversions of y in that order (equal y never counts as one).
  const swaps = countInversions(ys);
  const n0 = (n * (n - 1)) / 2;
  const numerator = n0 - n1 - n2 + n3 - 2 * swaps;
  const denominator = Math.sqrt(n0 - n1) * Math.sqrt(n0 - n2);
  if (denominator === 0) return NaN;
  return Math.max(-1, Math.min(1, numerator / denominator));
}

/** Sorts `a` in place (bottom-up merge sort) and returns its number of strict inversions. */
function countInversions(a: Int32Array): number {
  const n = a.length;
  let src: Int32Array = a;
  let dst: Int32Array = new Int32Array(n);
  let inversions = 0;
  // Runs of 32 by insertion sort (each shift past a greater element is one inversion),
  // then bottom-up merges counting the elements each right-hand pick jumps over.
  const RUN = 32;
  for (let lo = 0; lo < n; lo += RUN) {
    const hi = Math.min(lo + RUN, n);
    for (let i = lo + 1; i < hi; i++) {
      const v = a[i] as number;
      let j = i - 1;
      while (j >= lo && (a[j] as number) > v) {
        a[j + 1] = a[j] as number;
        j--;
      }
      inversions += i - 1 - j;
      a[j + 1] = v;
    }
  }
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        if ((src[i] as number) <= (src[j] as number)) dst[k++] = src[i++] as number;
        else {
          inversions += mid - i;
          dst[k++] = src[j++] as number;
        }
      }
      while (i < mid) dst[k++] = src[i++] as number;
      while (j < hi) dst[k++] = src[j++] as number;
    }
    [src, dst] = [dst, src];
  }
  if (src !== a) a.set(src);
  return inversions;
}

/**
 * Root-mean-square error `sqrt(mean((x - y)^2))` of predictions x against observations
 * y, optionally after mapping x through the logistic fit (`fit: 'logistic4'`), which
 * is how IQA papers report it.
 * @example rmse([1, 2, 3], [1, 2, 5]) // => 1.1547005383792515
 */
export function rmse(x: readonly number[], y: readonly number[], options: CorrelationOptions = {}): number {
  const withFit = options.fit === 'logistic4';
  assertPaired(x, y, withFit ? 4 : 1);
  const predicted = fitted(x, y, options);
  const n = x.length;
  let scale = 0;
  for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs((predicted[i] as number) - (y[i] as number)));
  if (scale === 0) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) s += (((predicted[i] as number) - (y[i] as number)) / scale) ** 2;
  return scale * Math.sqrt(s / n);
}
