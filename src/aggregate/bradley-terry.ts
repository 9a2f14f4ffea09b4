import type { Comparison } from './comparison.js';
import { fitPaired, type PairedFit, type PairedFitOptions } from './paired-fit.js';

/**
 * Bradley-Terry scores by damped Newton: maximise
 * `sum w [y log sigmoid(s_a - s_b) + (1 - y) log sigmoid(s_b - s_a)]`,
 * plus `-|s|^2 / (2 sigma^2)` with `prior: { sigma }`.
 *
 * Policies: ties are outcome 0.5 and soft outcomes count as fractional wins; duplicate
 * pairs are pooled before iterating. Without a prior, each connected component is fitted
 * and centred on its own (see `components`), and data where some group never loses (or
 * never wins) against the rest of its component throw `SeparationError`, since the
 * maximum-likelihood scores are infinite. With a prior every input gives finite scores.
 * Invalid comparisons (outcome outside [0, 1], NaN, negative weight, `a === b`) throw
 * `StatisticsInputError`.
 *
 * @example
 * const fit = bradleyTerry([
 *   { a: 'x', b: 'y', outcome: 1 },
 *   { a: 'x', b: 'y', outcome: 0 },
 *   { a: 'x', b: 'y', outcome: 1 },
 * ]);
 * fit.scores // => [0.3466, -0.3466] (x won 2 of 3: log 2 apart)
 */
export function bradleyTerry(comparisons: readonly Comparison[], options: PairedFitOptions = {}): PairedFit {
  return fitPaired('bradley-terry', comparisons, options);
}
