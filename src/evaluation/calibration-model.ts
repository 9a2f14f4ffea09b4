/**
 * Calibrated scores: the judge's score mapped onto the human scale by the 4-parameter
 * logistic (VQEG 2003), with a split conformal interval (Lei et al. 2018). The
 * calibration items are split in two with a seed: one half fits the logistic, the other
 * gives the conformal scores, so the scores are honest residuals of a fixed map.
 */
import { conformalQuantile, conformityScores } from '../aggregate/conformal.js';
import { fitLogistic4, logistic4, type Logistic4Params } from '../aggregate/logistic4.js';
import { createRandom } from '../aggregate/random.js';

export interface CalibrationPoint {
  /** Judge score. */
  x: number;
  /** Human score on the dataset's raw scale. */
  y: number;
  /** The judge's own spread for this image (sample std or level spread). */
  spread?: number | undefined;
}

export interface CalibrationModel {
  params: [number, number, number, number];
  /** Nonconformity scores of the conformal half, sorted ascending. */
  scores: number[];
  /** Whether scores are divided by the judge's spread. */
  scaled: boolean;
  /** Floor of the spread when scaled, so a confident judge does not get a zero-width interval. */
  minSpread: number;
  fitted: number;
  conformal: number;
}

/**
 * Fits the map and the conformal scores. Needs at least 8 points (4 for the fit, the rest
 * for the scores); with `scaled`, every point needs a finite `spread`.
 */
export function fitCalibration(points: readonly CalibrationPoint[], options: { scaled?: boolean; seed?: number; minSpread?: number } = {}): CalibrationModel {
  if (points.length < 8) throw new RangeError(`Expected at least 8 scored calibration images, got ${points.length}`);
  const scaled = options.scaled ?? false;
  const order = Array.from(points, (_, i) => i);
  const random = createRandom(options.seed ?? 0);
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.integer(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const half = Math.floor(points.length / 2);
  const fitPart = order.slice(0, half).map((i) => points[i] as CalibrationPoint);
  const scorePart = order.slice(half).map((i) => points[i] as CalibrationPoint);
  const fit = fitLogistic4(fitPart.map((p) => p.x), fitPart.map((p) => p.y));
  const params = fit.params;
  const minSpread = options.minSpread ?? 0.05;
  const scores = conformityScores(
    scorePart.map((p) => p.y),
    scorePart.map((p) => logistic4(p.x, params)),
    scaled ? scorePart.map((p) => p.spread ?? Number.NaN) : undefined,
    minSpread,
  ).sort((a, b) => a - b);
  return { params, scores, scaled, minSpread, fitted: fitPart.length, conformal: scorePart.length };
}

export interface CalibratedScore {
  predicted: number;
  lower: number;
  upper: number;
  coverage: number;
}

/** The predicted human score of a judge score, with the interval at `coverage` (e.g. 0.9). */
export function calibrate(model: CalibrationModel, x: number, spread: number | null | undefined, coverage: number): CalibratedScore {
  const predicted = logistic4(x, model.params as unknown as Logistic4Params);
  const q = conformalQuantile(model.scores, coverage);
  const width = q * (model.scaled ? Math.max(spread ?? Number.NaN, model.minSpread) : 1);
  return { predicted, lower: predicted - width, upper: predicted + width, coverage };
}
