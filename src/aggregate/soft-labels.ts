/**
 * DeQA-Score soft labels: a MOS and its standard deviation turned into a distribution
 * over the five quality levels (Zhu et al., "Teaching LMMs for image quality scoring and
 * interpreting", DeQA-Score, CVPR 2025).
 */
import { normalCdf, normalPdf } from './normal.js';
import { assertFiniteArray, assertPositive, assertSameLength, fail } from './_validate.js';

export interface SoftLabelOptions {
  /**
   * The MOS scale `[min, max]` mapped onto levels 1..5. DeQA-Score uses the dataset's
   * smallest and largest MOS.
   * @default [min(mos), max(mos)]
   */
  range?: readonly [number, number];
  /**
   * Level mass from the Gaussian: `'cdf'` integrates it over [x - 0.5, x + 0.5] (DeQA's
   * choice for small-spread datasets such as SPAQ), `'pdf'` takes its density at x
   * (KonIQ, KADID).
   * @default 'cdf'
   */
  density?: 'cdf' | 'pdf';
  /** Below this normalised sigma the binary split is used. @default 0.2 */
  minSigma?: number;
  /** Above this error of the corrected mean the binary split is used. @default 0.1 */
  maxMeanError?: number;
}

export interface SoftLabel {
  /** Level probabilities best first (excellent .. bad), aligned with `LEVELS`. */
  probabilities: number[];
  /** Normalised MOS `4 (mos - min) / (max - min) + 1`, in [1, 5]. */
  mu: number;
  /** Normalised spread `4 std / (max - min)`. */
  sigma: number;
  /** `'gaussian'` (affine-corrected) or `'binary'` (split between the two levels around mu). */
  method: 'gaussian' | 'binary';
  /** The affine correction `p' = max(alpha p + beta, 0)`; 1 and 0 for the binary split. */
  alpha: number;
  beta: number;
}

/** Level values best first. */
const VALUES = [5, 4, 3, 2, 1] as const;

/** Mass of N(mu, sigma^2) on [lo, hi], from the tail that keeps precision. */
function gaussianMass(lo: number, hi: number, mu: number, sigma: number): number {
  const a = (lo - mu) / sigma;
  const b = (hi - mu) / sigma;
  return a > 0 ? normalCdf(-a) - normalCdf(-b) : normalCdf(b) - normalCdf(a);
}

function levelMass(x: number, mu: number, sigma: number, density: 'cdf' | 'pdf'): number {
  return density === 'cdf' ? gaussianMass(x - 0.5, x + 0.5, mu, sigma) : normalPdf((x - mu) / sigma) / sigma;
}

/**
 * The affine factor alpha = (mu - 3) / sum (x - 3) p_x. Both vanish at mu = 3, and
 * alpha is an even function of mu - 3, so within 1e-6 of 3 its limit is used:
 * 1 / (d/dmu sum (x - 3) p_x at mu = 3), relative error below 1e-12.
 */
function affineAlpha(mu: number, sigma: number, density: 'cdf' | 'pdf', p: readonly number[]): number {
  if (Math.abs(mu - 3) >= 1e-6) {
    let centred = 0;
    VALUES.forEach((x, k) => (centred += (x - 3) * (p[k] as number)));
    return (mu - 3) / centred;
  }
  let slope = 0;
  for (const x of VALUES) {
    const d =
      density === 'pdf'
        ? ((x - 3) * levelMass(x, 3, sigma, 'pdf')) / (sigma * sigma)
        : (normalPdf((x - 0.5 - 3) / sigma) - normalPdf((x + 0.5 - 3) / sigma)) / sigma;
    slope += (x - 3) * d;
  }
  return 1 / slope;
}

function binarySplit(mu: number): number[] {
  const lower = Math.min(4, Math.max(1, Math.floor(mu)));
  const fraction = mu - lower;
  return VALUES.map((x) => (x === lower ? 1 - fraction : x === lower + 1 ? fraction : 0));
}

/**
 * DeQA-Score soft labels for a dataset's MOS and standard deviations.
 *
 * Per image: `mu = 4 (mos - min) / (max - min) + 1`, `sigma = 4 std / (max - min)`;
 * level mass `p_x = Phi((x + .5 - mu) / sigma) - Phi((x - .5 - mu) / sigma)` (or the
 * density at x); affine fix `A = sum p, B = sum x p, alpha = (mu - 3) / (B - 3A),
 * beta = (1 - alpha A) / 5, p' = max(alpha p + beta, 0)`; if `sigma < minSigma` or
 * `|sum x p' - mu| > maxMeanError`, the mass is split linearly between the two integer
 * levels around mu.
 *
 * Policies and differences from the authors' script: the denominator B - 3A is used
 * as is (their `+ 1e-9` guard shifts alpha by ~1e-8 relative); at mu = 3 exactly, where
 * their guard returns alpha = 0 and a uniform distribution, the continuous limit of alpha
 * is used. Like theirs, clipping at 0 is not renormalised, so a Gaussian label can sum
 * to slightly more than 1. A MOS outside `range`, a negative std, NaN, or length
 * mismatch throws `StatisticsInputError`; a zero-width range throws.
 *
 * @example
 * softLabels([1, 3.2, 5], [0.5, 0.6, 0.4], { range: [1, 5] })[1].probabilities
 * // => [0.0147, 0.2936, 0.5706, 0.1192, 0.0019] (rounded; mean 3.2)
 */
export function softLabels(mos: readonly number[], std: readonly number[], options: SoftLabelOptions = {}): SoftLabel[] {
  assertFiniteArray('mos', mos, 1);
  assertFiniteArray('std', std);
  assertSameLength('mos', mos, 'std', std);
  let lo: number;
  let hi: number;
  if (options.range !== undefined) {
    assertFiniteArray('options.range', options.range as readonly number[], 2);
    [lo, hi] = options.range;
  } else {
    lo = Infinity;
    hi = -Infinity;
    for (const v of mos) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (!(hi > lo)) fail('options.range', 'a range [min, max] with max > min', [lo, hi]);
  const density = options.density ?? 'cdf';
  if (density !== 'cdf' && density !== 'pdf') fail('options.density', "'cdf' or 'pdf'", density);
  const minSigma = options.minSigma ?? 0.2;
  assertPositive('options.minSigma', minSigma);
  const maxMeanError = options.maxMeanError ?? 0.1;
  assertPositive('options.maxMeanError', maxMeanError);

  return mos.map((m, i) => {
    const s = std[i] as number;
    if (m < lo || m > hi) fail(`mos[${i}]`, `within the range [${lo}, ${hi}]`, m);
    if (s < 0) fail(`std[${i}]`, 'a number >= 0', s);
    const mu = (4 * (m - lo)) / (hi - lo) + 1;
    const sigma = (4 * s) / (hi - lo);
    if (sigma >= minSigma) {
      const p = VALUES.map((x) => levelMass(x, mu, sigma, density));
      let total = 0;
      for (const v of p) total += v;
      const alpha = affineAlpha(mu, sigma, density, p);
      const beta = (1 - alpha * total) / 5;
      const corrected = p.map((v) => Math.max(alpha * v + beta, 0));
      let mean = 0;
      VALUES.forEach((x, k) => (mean += x * (corrected[k] as number)));
      if (Math.abs(mean - mu) <= maxMeanError) {
        return { probabilities: corrected, mu, sigma, method: 'gaussian' as const, alpha, beta };
      }
    }
    return { probabilities: binarySplit(mu), mu, sigma, method: 'binary' as const, alpha: 1, beta: 0 };
  });
}
