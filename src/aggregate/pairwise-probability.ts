/**
 * Probabilities and losses for one pair (VisualQuality-R1).
 */
import { normalCdf } from './normal.js';
import { assertNonNegative, assertProbability, fail } from './_validate.js';

/**
 * Thurstone Case V with per-item variance:
 * `P(A > B) = Phi((muA - muB) / sqrt(varA + varB + eps))`, e.g. from the means and
 * unbiased variances of K sampled scores per image.
 *
 * Policies: means must be finite and variances, eps >= 0 (else `StatisticsInputError`).
 * If `varA + varB + eps` is 0 the result is the step 1, 0.5 or 0 by the sign of the
 * difference. Symmetric: `P(A > B) + P(B > A) = 1`.
 * @example thurstoneProbability(3.5, 0.25, 3, 0.25) // => 0.7602497192111531
 */
export function thurstoneProbability(muA: number, varA: number, muB: number, varB: number, eps = 1e-6): number {
  if (typeof muA !== 'number' || !Number.isFinite(muA)) fail('muA', 'a finite number', muA);
  if (typeof muB !== 'number' || !Number.isFinite(muB)) fail('muB', 'a finite number', muB);
  assertNonNegative('varA', varA);
  assertNonNegative('varB', varB);
  assertNonNegative('eps', eps);
  const spread = Math.sqrt(varA + varB + eps);
  const d = muA - muB;
  if (spread === 0) return d > 0 ? 1 : d < 0 ? 0 : 0.5;
  return normalCdf(d / spread);
}

/**
 * Fidelity of a predicted preference p to a target g:
 * `F(p, g) = sqrt(p g) + sqrt((1 - p)(1 - g))`, in [0, 1], 1 when p = g in {0, 1};
 * `1 - F` is the fidelity loss (Tsai et al. 2007, used by VisualQuality-R1 and
 * DeQA-Score). Both arguments must be probabilities in [0, 1].
 * @example fidelity(0.8, 1) // => 0.8944271909999159
 */
export function fidelity(p: number, g: number): number {
  assertProbability('p', p);
  assertProbability('g', g);
  return Math.sqrt(p * g) + Math.sqrt((1 - p) * (1 - g));
}
