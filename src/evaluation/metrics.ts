/**
 * What `quorum eval` reports, computed from numbers only (no I/O): agreement with human
 * scores (the IQA convention: SRCC, KRCC, PLCC raw and after the 4-parameter logistic
 * fit, RMSE after it; VQEG 2003), each with a seeded percentile bootstrap interval over
 * images; ladder ordering; level calibration; the paired bootstrap of an SRCC difference.
 */
import { bootstrapCI } from '../aggregate/bootstrap.js';
import { expectedCalibrationError } from '../aggregate/calibration.js';
import { krcc, plcc, rmse, srcc } from '../aggregate/correlation.js';
import { ResampledAgreement } from '../aggregate/resampled-agreement.js';
import { fitLogistic4 } from '../aggregate/logistic4.js';
import { wilsonInterval } from '../aggregate/proportion.js';
import { softLabels } from '../aggregate/soft-labels.js';

export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
}

export interface Agreement {
  /** Images with both a judge score and a human score. */
  n: number;
  srcc: Interval;
  krcc: Interval;
  plcc: Interval;
  /** PLCC after the logistic fit of human on judge score. */
  plccFitted: Interval;
  /** RMSE after the fit, on the human scale given. */
  rmse: Interval;
  /** The fit on all images: `[b1, b2, b3, b4]`. */
  logistic: number[];
}

export interface BootstrapSettings {
  /** @default 1000 */
  rounds?: number | undefined;
  /** @default 0 */
  seed?: number | undefined;
}

const interval = (b: { estimate: number; lower: number; upper: number }): Interval => ({ estimate: b.estimate, lower: b.lower, upper: b.upper });

/**
 * Agreement of judge scores `x` with human scores `y` (paired, finite, n >= 4). Each
 * interval resamples images with replacement (the same resamples for every statistic,
 * from `seed`); resamples where a statistic is undefined (constant column) are left out.
 * A resample's logistic refit is one step from the fit on all images (the one-step
 * bootstrap of `ResampledAgreement`): full refits made `quorum eval` on 10,000 images
 * take minutes.
 * @example agreement([1, 2, 3, 4, 5], [1.2, 1.9, 3.5, 3.9, 5.1]).srcc.estimate // => 1
 */
export function agreement(x: readonly number[], y: readonly number[], settings: BootstrapSettings = {}): Agreement {
  const full = fitLogistic4(x, y);
  const predicted = x.map((v) => full.predict(v));
  const fullPlcc = plcc(predicted, y);
  const fullRmse = rmse(predicted, y);
  const resampled = new ResampledAgreement(x, y, full.params);
  const n = x.length;
  const counts = new Int32Array(n);
  const options = { rounds: settings.rounds ?? 1000, seed: settings.seed ?? 0 };
  // The units are image indices; a resample of them becomes its draw counts.
  const stats = bootstrapCI(
    (sample: readonly number[]) => {
      counts.fill(0);
      for (const i of sample) counts[i] = (counts[i] as number) + 1;
      return resampled.statistics(counts, n);
    },
    Array.from({ length: n }, (_, i) => i),
    options,
  );
  const at = (c: number): Interval => ({ estimate: stats.estimate[c] as number, lower: stats.lower[c] as number, upper: stats.upper[c] as number });
  return {
    n,
    srcc: { ...at(0), estimate: srcc(x, y) },
    krcc: { ...at(1), estimate: krcc(x, y) },
    plcc: { ...at(2), estimate: plcc(x, y) },
    plccFitted: { ...at(3), estimate: fullPlcc },
    rmse: { ...at(4), estimate: fullRmse },
    logistic: full.params,
  };
}

export interface LadderPoint {
  group: string;
  distortion: string;
  /** 0 pristine, 1..5 increasingly distorted. */
  level: number;
  /** The judge's score. */
  score: number;
}

export interface LadderOrdering {
  distortion: string;
  /** Adjacent level pairs (k, k+1) judged, over every image. */
  pairs: number;
  /** Pairs where the less distorted version scored higher; a tie counts one half. */
  correct: number;
  /** correct / pairs with its Wilson 95% interval. */
  rate: Interval;
  /** Mean over images of the SRCC between score and -level (pristine included). */
  withinSrcc: number;
}

/**
 * Ordering of distortion ladders: per distortion, the rate of correctly ordered adjacent
 * levels (the pristine image is level 0 of every distortion) and the mean within-image
 * SRCC. Chains with a missing level skip only the pairs that need it.
 */
export function ladderOrdering(points: readonly LadderPoint[]): LadderOrdering[] {
  const pristine = new Map<string, number>();
  const chains = new Map<string, Map<string, Map<number, number>>>();
  for (const p of points) {
    if (p.level === 0) {
      pristine.set(p.group, p.score);
      continue;
    }
    const byGroup = chains.get(p.distortion) ?? new Map<string, Map<number, number>>();
    chains.set(p.distortion, byGroup);
    const chain = byGroup.get(p.group) ?? new Map<number, number>();
    byGroup.set(p.group, chain);
    chain.set(p.level, p.score);
  }
  return [...chains].map(([distortion, byGroup]) => {
    let pairs = 0;
    let correct = 0;
    let srccSum = 0;
    let srccCount = 0;
    for (const [group, chain] of byGroup) {
      const base = pristine.get(group);
      if (base !== undefined) chain.set(0, base);
      const levels = [...chain.keys()].sort((a, b) => a - b);
      for (let k = 0; k + 1 < levels.length; k++) {
        const a = levels[k] as number;
        const b = levels[k + 1] as number;
        if (b !== a + 1) continue;
        const sa = chain.get(a) as number;
        const sb = chain.get(b) as number;
        pairs++;
        correct += sa > sb ? 1 : sa === sb ? 0.5 : 0;
      }
      if (levels.length >= 2) {
        const r = srcc(levels.map((l) => chain.get(l) as number), levels.map((l) => -l));
        // A judge that gives every level one score has no ordering: counted as 0.
        srccSum += Number.isNaN(r) ? 0 : r;
        srccCount++;
      }
    }
    const wilson = wilsonInterval(Math.round(correct), pairs);
    return { distortion, pairs, correct, rate: { estimate: pairs ? correct / pairs : NaN, lower: wilson.lower, upper: wilson.upper }, withinSrcc: srccCount ? srccSum / srccCount : NaN };
  });
}

/**
 * Expected calibration error of the judge's level distributions against the DeQA-Score
 * soft labels of the human MOS and std (`softLabels` over the dataset's `range`): every
 * (image, level) pair is a prediction p and a soft outcome, binned as in
 * `expectedCalibrationError` (10 equal bins).
 */
export function levelCalibration(
  judged: readonly (readonly number[])[],
  mos: readonly number[],
  std: readonly number[],
  range: readonly [number, number],
): number {
  const labels = softLabels(mos, std, { range });
  const predicted: number[] = [];
  const observed: number[] = [];
  judged.forEach((p, i) => {
    const soft = (labels[i] as { probabilities: number[] }).probabilities;
    for (let l = 0; l < 5; l++) {
      predicted.push(p[l] as number);
      observed.push(soft[l] as number);
    }
  });
  return expectedCalibrationError(predicted, observed);
}

export interface PairedDifference extends Interval {
  /** Images both evaluations scored. */
  n: number;
  /** False when the interval of the difference holds 0. */
  significant: boolean;
}

/**
 * Paired bootstrap of `srcc(a, human) - srcc(b, human)` over the images both scored: the
 * same resampled images for both, so what they share cancels (Efron and Tibshirani 1993).
 */
export function pairedSrccDifference(
  a: readonly number[],
  b: readonly number[],
  human: readonly number[],
  settings: BootstrapSettings = {},
): PairedDifference {
  const units = human.map((h, i) => [a[i] as number, b[i] as number, h] as const);
  const d = bootstrapCI(
    (s) => srcc(s.map((u) => u[0]), s.map((u) => u[2])) - srcc(s.map((u) => u[1]), s.map((u) => u[2])),
    units,
    { rounds: settings.rounds ?? 1000, seed: settings.seed ?? 0 },
  );
  return { ...interval(d), n: units.length, significant: !(d.lower <= 0 && d.upper >= 0) };
}
