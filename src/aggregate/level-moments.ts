/**
 * Moments of a distribution over ordered quality levels (Q-Align / DeQA-Score scoring).
 */
import { assertFiniteArray, assertSameLength, fail } from './_validate.js';

/** The five level words, best first, as the judge is asked to answer. */
export const LEVELS = ['excellent', 'good', 'fair', 'poor', 'bad'] as const;

/** Their weights, aligned with `LEVELS`: 5 for excellent down to 1 for bad. */
export const LEVEL_WEIGHTS: readonly number[] = [5, 4, 3, 2, 1];

export interface LevelMoments {
  /** `mu = sum p_i w_i` over the normalised distribution. */
  mean: number;
  /** `sqrt(sum p_i (w_i - mu)^2)`. */
  std: number;
  /** Shannon entropy `-sum p_i ln p_i` in nats (0 ln 0 = 0); divide by ln 2 for bits. */
  entropy: number;
  /**
   * The sum of the probabilities as given, before normalising. Well below 1 means the
   * judge put its mass elsewhere than on the levels: report it, do not hide it.
   */
  mass: number;
}

/**
 * Mean, standard deviation and entropy of a distribution over ordered levels.
 *
 * Policies: probabilities must be finite and >= 0 with a positive sum; they are
 * normalised by their sum (returned as `mass`). Weights must be finite, one per level;
 * the default is `LEVEL_WEIGHTS` (5..1, best first), so a 5-vector is read best first.
 *
 * @example levelMoments([0.1, 0.6, 0.3, 0, 0]) // => { mean: 3.8, std: 0.6, entropy: 0.898, mass: 1 }
 */
export function levelMoments(probabilities: readonly number[], weights: readonly number[] = LEVEL_WEIGHTS): LevelMoments {
  assertFiniteArray('probabilities', probabilities, 1);
  assertFiniteArray('weights', weights);
  assertSameLength('probabilities', probabilities, 'weights', weights);
  let mass = 0;
  probabilities.forEach((p, i) => {
    if (p < 0) fail(`probabilities[${i}]`, 'a number >= 0', p);
    mass += p;
  });
  if (!(mass > 0)) fail('probabilities', 'an array with a positive sum', mass);
  let mean = 0;
  let entropy = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const q = (probabilities[i] as number) / mass;
    mean += q * (weights[i] as number);
    if (q > 0) entropy -= q * Math.log(q);
  }
  let variance = 0;
  for (let i = 0; i < probabilities.length; i++) {
    variance += ((probabilities[i] as number) / mass) * ((weights[i] as number) - mean) ** 2;
  }
  return { mean, std: Math.sqrt(variance), entropy, mass };
}
