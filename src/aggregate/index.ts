/**
 * Statistics core: pure functions, no I/O. Formulas and conventions are in
 * docs/statistics.md, with the papers they come from.
 */
export { StatisticsInputError, SeparationError } from './errors.js';

export { erf, erfc, erfcx, normalPdf, normalCdf, logNormalCdf, normalQuantile } from './normal.js';
export { createRandom, type Random } from './random.js';
export { ranks } from './ranks.js';

export { srcc, krcc, plcc, rmse, type CorrelationOptions } from './correlation.js';
export { fitLogistic4, logistic4, type Logistic4Fit, type Logistic4Options, type Logistic4Params } from './logistic4.js';
export {
  bootstrapCI,
  type BootstrapOptions,
  type BootstrapInterval,
  type BootstrapVectorInterval,
} from './bootstrap.js';

export { LEVELS, LEVEL_WEIGHTS, levelMoments, type LevelMoments } from './level-moments.js';
export { softLabels, type SoftLabel, type SoftLabelOptions } from './soft-labels.js';

export { thurstoneProbability, fidelity } from './pairwise-probability.js';
export type { Comparison, ItemId } from './comparison.js';
export { bradleyTerry } from './bradley-terry.js';
export {
  bradleyTerryIntervals,
  canonicalComparisons,
  type BradleyTerryIntervals,
  type BradleyTerryIntervalOptions,
} from './bradley-terry-intervals.js';
export { pairDifferencePosterior, type PairDifference, type PairDifferenceOptions } from './pair-difference.js';
export { wilsonInterval, type ProportionInterval } from './proportion.js';
export { thurstone } from './thurstone.js';
export { winProbability, type PairedFit, type PairedFitOptions } from './paired-fit.js';
export {
  scoreAgainstAnchors,
  type AnchorSet,
  type AnchorScore,
  type AnchorScoreOptions,
} from './score-against-anchors.js';

export { cohenKappa, type CohenKappaOptions, type Label } from './cohen-kappa.js';
export { fleissKappa } from './fleiss-kappa.js';
export { krippendorffAlpha, type KrippendorffOptions, type RatingValue } from './krippendorff-alpha.js';
export {
  expectedCalibrationError,
  calibrationBins,
  type CalibrationBin,
  type CalibrationOptions,
} from './calibration.js';
export { mean, sampleStd } from './descriptive.js';
