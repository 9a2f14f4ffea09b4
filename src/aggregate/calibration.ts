/**
 * Calibration of predicted pairwise probabilities (Naeini et al. 2015; Guo et al. 2017).
 */
import { assertFiniteArray, assertInteger, assertSameLength, fail } from './_validate.js';

export interface CalibrationOptions {
  /** Equal-width bins over [0, 1]; bin b is [b/B, (b+1)/B), the last one closed. @default 10 */
  bins?: number;
  /**
   * Count every prediction in both orientations, (p, y) and (1 - p, 1 - y), so that the
   * result does not depend on which item of a pair was listed first.
   * @default false
   */
  symmetric?: boolean;
}

export interface CalibrationBin {
  lower: number;
  upper: number;
  count: number;
  /** Mean predicted probability in the bin (NaN when empty). */
  meanPredicted: number;
  /** Mean observed outcome in the bin (NaN when empty). */
  meanObserved: number;
}

/**
 * Reliability-diagram bins: predictions grouped by equal-width probability bins, with
 * the mean prediction and mean observed outcome in each.
 *
 * `predicted[i]` is P(a beats b) and `observed[i]` the outcome, 1 win, 0 loss, 0.5 tie
 * (soft outcomes allowed). Both must be in [0, 1] and of equal length (else
 * `StatisticsInputError`).
 * @example calibrationBins([0.15, 0.85], [0, 1], { bins: 2 }).map((b) => b.count) // => [1, 1]
 */
export function calibrationBins(
  predicted: readonly number[],
  observed: readonly number[],
  options: CalibrationOptions = {},
): CalibrationBin[] {
  assertFiniteArray('predicted', predicted, 1);
  assertFiniteArray('observed', observed);
  assertSameLength('predicted', predicted, 'observed', observed);
  const bins = options.bins ?? 10;
  assertInteger('options.bins', bins, 1);
  const symmetric = options.symmetric ?? false;
  predicted.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) fail(`predicted[${i}]`, 'a probability in [0, 1]', p);
  });
  observed.forEach((y, i) => {
    if (!(y >= 0 && y <= 1)) fail(`observed[${i}]`, 'an outcome in [0, 1]', y);
  });
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  const add = (p: number, y: number): void => {
    const b = Math.min(Math.floor(p * bins), bins - 1);
    count[b] = (count[b] as number) + 1;
    sumP[b] = (sumP[b] as number) + p;
    sumY[b] = (sumY[b] as number) + y;
  };
  for (let i = 0; i < predicted.length; i++) {
    add(predicted[i] as number, observed[i] as number);
    if (symmetric) add(1 - (predicted[i] as number), 1 - (observed[i] as number));
  }
  return Array.from({ length: bins }, (_, b) => ({
    lower: b / bins,
    upper: (b + 1) / bins,
    count: count[b] as number,
    meanPredicted: (sumP[b] as number) / (count[b] as number),
    meanObserved: (sumY[b] as number) / (count[b] as number),
  }));
}

/**
 * Expected calibration error `sum_b (n_b / N) |mean(y_b) - mean(p_b)|` over equal-width
 * bins of predicted probability (empty bins contribute nothing). Same inputs and
 * policies as `calibrationBins`.
 * @example expectedCalibrationError([0.9, 0.9, 0.2, 0.2], [1, 0, 0, 0]) // => 0.3
 */
export function expectedCalibrationError(
  predicted: readonly number[],
  observed: readonly number[],
  options: CalibrationOptions = {},
): number {
  const bins = calibrationBins(predicted, observed, options);
  let total = 0;
  let weighted = 0;
  for (const bin of bins) {
    if (bin.count === 0) continue;
    total += bin.count;
    weighted += bin.count * Math.abs(bin.meanObserved - bin.meanPredicted);
  }
  return weighted / total;
}
