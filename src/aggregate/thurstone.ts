import type { Comparison } from './comparison.js';
import { fitPaired, type PairedFit, type PairedFitOptions } from './paired-fit.js';

/**
 * Thurstone Case V scores by damped Newton: maximise
 * `sum w [y log Phi(s_a - s_b) + (1 - y) log Phi(s_b - s_a)]`, plus
 * `-|s|^2 / (2 sigma^2)` with `prior: { sigma }`. `log Phi` and its derivative are
 * evaluated without underflow (see `logNormalCdf`), so far-apart items stay finite.
 *
 * Same policies as `bradleyTerry` (ties, soft outcomes, components, separation).
 *
 * @example
 * const fit = thurstone([
 *   { a: 'x', b: 'y', outcome: 0.8413447460685429 }, // Phi(1)
 * ]);
 * fit.scores // => [0.5, -0.5] (to 1e-15)
 */
export function thurstone(comparisons: readonly Comparison[], options: PairedFitOptions = {}): PairedFit {
  return fitPaired('thurstone', comparisons, options);
}
