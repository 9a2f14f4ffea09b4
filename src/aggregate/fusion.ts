/**
 * Fusing several judges' ("neurons'") scores of the same items into one score per item:
 * plain location fusions (mean, median, trimmed mean) and Thurstone fusion of sampled
 * scores (VisualQuality-R1's per-pair probability, one Thurstone Case V fit over every
 * neuron's pairs; Thurstone 1927). Pure maths; the formulas are in docs/panels.md.
 */
import { mean } from './descriptive.js';
import { createRandom, type Random } from './random.js';
import { krippendorffAlpha } from './krippendorff-alpha.js';
import { thurstone } from './thurstone.js';
import { thurstoneProbability } from './pairwise-probability.js';
import type { Comparison } from './comparison.js';
import { assertFiniteArray, assertInteger, assertProbability, fail } from './_validate.js';

/**
 * `samples[r][i]`: neuron r's sampled scores of item i; an empty array (or null) when the
 * neuron failed on the item. Every row has one entry per item.
 */
export type NeuronSamples = readonly (readonly (readonly number[] | null)[])[];

export type LocationFusion = 'mean' | 'median' | 'trimmed-mean';

/**
 * Median of finite values: the middle one, or the mean of the two middle ones. NaN when empty.
 * @example median([3, 1, 4, 2]) // => 2.5
 */
export function median(x: readonly number[]): number {
  assertFiniteArray('x', x);
  if (x.length === 0) return NaN;
  const s = [...x].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? (s[h] as number) : ((s[h - 1] as number) + (s[h] as number)) / 2;
}

/**
 * Trimmed mean: drop `floor(proportion * n)` values from each end, average the rest
 * (scipy.stats.trim_mean). NaN when empty; `proportion` in [0, 0.5).
 * @example trimmedMean([1, 2, 3, 4, 100], 0.2) // => 3
 */
export function trimmedMean(x: readonly number[], proportion = 0.2): number {
  assertFiniteArray('x', x);
  if (typeof proportion !== 'number' || !(proportion >= 0 && proportion < 0.5)) fail('proportion', 'a number in [0, 0.5)', proportion);
  if (x.length === 0) return NaN;
  const s = [...x].sort((a, b) => a - b);
  const cut = Math.floor(proportion * s.length);
  let sum = 0;
  for (let k = cut; k < s.length - cut; k++) sum += s[k] as number;
  return sum / (s.length - 2 * cut);
}

/**
 * One item's fused value from its neurons' values (each neuron's own mean of samples).
 * NaN when no neuron answered.
 * @example fuseValues([2, 3, 4, 9], 'median') // => 3.5
 */
export function fuseValues(values: readonly number[], method: LocationFusion, trim = 0.2): number {
  if (method === 'mean') return mean(values);
  if (method === 'median') return median(values);
  if (method === 'trimmed-mean') return trimmedMean(values, trim);
  return fail('method', "'mean', 'median' or 'trimmed-mean'", method);
}

export interface ThurstoneFusionOptions {
  /**
   * Items paired with every other item when there are at most this many; above it each
   * item is paired with `pairsPerItem` others along a seeded random ring (the same pairs
   * for every neuron), so the cost is O(neurons x items x pairsPerItem), not O(items^2).
   * @default 200
   */
  allPairsUpTo?: number;
  /** Partners per item above `allPairsUpTo` (ring offsets 1..pairsPerItem). @default 20 */
  pairsPerItem?: number;
  /** Added to the pooled variance of every pair (VisualQuality-R1's eps). @default 1e-6 */
  eps?: number;
  /**
   * Variance floor per item, in score units squared: a neuron whose K samples agree
   * exactly (or K = 1) would otherwise claim certainty. @default 0.01
   */
  varianceFloor?: number;
  /** Gaussian prior sigma on latent scores: keeps separated items finite. @default 10 */
  priorSigma?: number;
  /** Bootstrap rounds for the intervals; 0 skips them. @default 200 */
  rounds?: number;
  /** Central coverage of the intervals. @default 0.95 */
  level?: number;
  /** Seed of the pair ring and of the bootstrap. @default 0 */
  seed?: number;
}

export interface ThurstoneFusion {
  /** Fused score per item on the neurons' scale (1-5 for the built-in prompts); NaN when no neuron answered. */
  scores: number[];
  /** Latent Thurstone scale per item (units of one pair's pooled sampling spread). */
  latent: number[];
  /** Bootstrap interval per item (NaN without rounds). */
  lower: number[];
  upper: number[];
  /** Neurons that answered each item. */
  neuronsUsed: number[];
  /** Affine map latent -> score: `score = center + scale * (latent - latentMean) / latentSd`. */
  mapping: { center: number; scale: number };
  /** Pairwise comparisons fitted (all neurons). */
  pairs: number;
}

interface Moments {
  mu: Float64Array;
  variance: Float64Array;
  /** 1 when the neuron answered the item. */
  has: Uint8Array;
}

/**
 * Thurstone fusion of many neurons' sampled scores:
 * 1. per neuron r and pair (i, j) it answered both of, `P_r(i > j) = Phi((mu_ri - mu_rj) /
 *    sqrt(var_ri + var_rj + eps))` (VisualQuality-R1), with `var` the unbiased variance of
 *    the K samples, floored at `varianceFloor`;
 * 2. one Thurstone Case V fit `max sum_r sum_ij [P log Phi(s_i - s_j) + (1 - P) log Phi(s_j - s_i)]`
 *    with a N(0, priorSigma^2) prior, so each neuron's offset and stretch of the scale
 *    drop out (only its orderings and their confidence enter);
 * 3. the latent scale is mapped back affinely: centre = median over neurons of the
 *    neuron's mean score, scale = median over neurons of its between-item true-score
 *    spread `sqrt(max(0, var_i(mu_ri) - mean_i(var_ri) / K))`; medians so that one
 *    harsh, lenient or compressed neuron does not set the scale;
 * 4. bootstrap intervals (`rounds`, seeded): per round the neurons are resampled with
 *    replacement and each (neuron, item)'s samples within it, the fit redone, and the map
 *    re-estimated from the observed neurons over resampled items; the percentile limits
 *    are widened about the estimate by sqrt(R / (R - 1)) for R neurons (docs/panels.md).
 *
 * Items some neurons failed on are fused from the rest; an item no neuron answered gets
 * NaN. Needs at least two items answered by one neuron.
 * @example
 * const f = thurstoneFusion([
 *   [[4.1, 3.9], [2.0, 2.2], [3.0, 3.1]],   // a fair neuron
 *   [[5.0, 4.9], [3.1, 2.9], [4.0, 4.2]],   // a lenient one (+1)
 * ], { rounds: 0 });
 * f.scores.map((s) => s.toFixed(2)) // => ['4.49', '2.57', '3.53']
 */
export function thurstoneFusion(samples: NeuronSamples, options: ThurstoneFusionOptions = {}): ThurstoneFusion {
  if (!Array.isArray(samples) || samples.length === 0) fail('samples', 'a non-empty neurons x items array', samples);
  const items = (samples[0] as readonly unknown[]).length;
  samples.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== items) fail(`samples[${r}]`, `a row of ${items} entries (one per item)`, row);
    row.forEach((s, i) => {
      if (s !== null && s !== undefined) assertFiniteArray(`samples[${r}][${i}]`, s);
    });
  });
  const allPairsUpTo = options.allPairsUpTo ?? 200;
  const pairsPerItem = options.pairsPerItem ?? 20;
  assertInteger('options.pairsPerItem', pairsPerItem, 1);
  const rounds = options.rounds ?? 200;
  assertInteger('options.rounds', rounds, 0);
  const level = options.level ?? 0.95;
  assertProbability('options.level', level);
  const seed = options.seed ?? 0;
  const settings = {
    eps: options.eps ?? 1e-6,
    floor: options.varianceFloor ?? 0.01,
    sigma: options.priorSigma ?? 10,
    pairs: pairSet(items, allPairsUpTo, pairsPerItem, seed),
  };

  const observed = samples.map((row) => moments(row, settings.floor));
  const estimate = fuseOnce(observed, items, settings);
  const lower = new Array<number>(items).fill(NaN);
  const upper = new Array<number>(items).fill(NaN);
  if (rounds > 0) {
    const random = createRandom(seed + 1);
    const replicates = Array.from({ length: items }, () => [] as number[]);
    for (let b = 0; b < rounds; b++) {
      const picked = Array.from({ length: samples.length }, () => samples[random.integer(samples.length)] as NeuronSamples[number]);
      const resampled = picked.map((row) => moments(row.map((s) => resample(s, random)), settings.floor));
      const pick = Array.from({ length: items }, () => random.integer(items));
      const fit = fuseOnce(resampled, items, settings, mappingOf(observed, pick));
      fit.scores.forEach((v, i) => {
        if (Number.isFinite(v)) (replicates[i] as number[]).push(v);
      });
    }
    // Resampling R neurons understates the spread of a statistic by (R - 1) / R in variance
    // (the plug-in variance of R clusters); the percentile limits are widened about the
    // estimate by sqrt(R / (R - 1)) to undo it.
    const inflate = samples.length > 1 ? Math.sqrt(samples.length / (samples.length - 1)) : 1;
    replicates.forEach((values, i) => {
      const at = estimate.scores[i] as number;
      if (values.length === 0 || !Number.isFinite(at)) return;
      values.sort((a, b) => a - b);
      lower[i] = at - inflate * Math.max(0, at - quantile(values, (1 - level) / 2));
      upper[i] = at + inflate * Math.max(0, quantile(values, (1 + level) / 2) - at);
    });
  }
  return { ...estimate, lower, upper };
}

function resample(s: readonly number[] | null, random: Random): number[] | null {
  if (s === null || s === undefined || s.length === 0) return null;
  return Array.from({ length: s.length }, () => s[random.integer(s.length)] as number);
}

function quantile(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return (sorted[lo] as number) + (h - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

/** Prior weight, in degrees of freedom, of a neuron's pooled variance in each item's variance. */
const PRIOR_DOF = 4;

function moments(row: readonly (readonly number[] | null)[], floor: number): Moments & { k: number } {
  const n = row.length;
  const mu = new Float64Array(n);
  const variance = new Float64Array(n);
  const has = new Uint8Array(n);
  const dof = new Float64Array(n);
  let kSum = 0;
  let kCount = 0;
  row.forEach((s, i) => {
    if (!s || s.length === 0) return;
    let m = 0;
    for (const v of s) m += v;
    m /= s.length;
    let ss = 0;
    for (const v of s) ss += (v - m) ** 2;
    mu[i] = m;
    variance[i] = ss; // sum of squares until pooled below
    dof[i] = s.length - 1;
    has[i] = 1;
    kSum += s.length;
    kCount++;
  });
  // Shrink each item's variance toward the neuron's pooled one (PRIOR_DOF degrees of
  // freedom of prior weight): K = 3-6 samples give a noisy variance, and a pair whose two
  // variances came out small by chance would otherwise count as near-certain.
  let ssAll = 0;
  let dofAll = 0;
  for (let i = 0; i < n; i++) {
    ssAll += variance[i] as number;
    dofAll += dof[i] as number;
  }
  const pooled = dofAll > 0 ? ssAll / dofAll : 0;
  for (let i = 0; i < n; i++) {
    if (!has[i]) continue;
    const shrunk = ((variance[i] as number) + PRIOR_DOF * pooled) / ((dof[i] as number) + PRIOR_DOF);
    variance[i] = Math.max(floor, shrunk);
  }
  return { mu, variance, has, k: kCount ? kSum / kCount : 1 };
}

/** All pairs up to `allUpTo` items, else a seeded ring: item order shuffled, each joined to the next `perItem`. */
function pairSet(n: number, allUpTo: number, perItem: number, seed: number): Uint32Array {
  if (n <= allUpTo || perItem >= (n - 1) / 2) {
    const out = new Uint32Array(n * (n - 1));
    let k = 0;
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        out[k++] = i;
        out[k++] = j;
      }
    return out;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  const random = createRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = random.integer(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const out = new Uint32Array(2 * n * perItem);
  let k = 0;
  for (let p = 0; p < n; p++)
    for (let d = 1; d <= perItem; d++) {
      out[k++] = order[p] as number;
      out[k++] = order[(p + d) % n] as number;
    }
  return out;
}

/**
 * The affine map of the latent scale back onto the neurons' scale, from the items listed
 * in `pick` (repeats allowed: a bootstrap resample): centre = median over neurons of the
 * neuron's mean score, scale = median over neurons of its between-item true-score spread.
 */
function mappingOf(neurons: readonly (Moments & { k: number })[], pick: readonly number[]): { center: number; scale: number } {
  const centers: number[] = [];
  const spreads: number[] = [];
  for (const n of neurons) {
    const mus: number[] = [];
    let within = 0;
    for (const i of pick)
      if (n.has[i]) {
        mus.push(n.mu[i] as number);
        within += n.variance[i] as number;
      }
    if (mus.length < 2) continue;
    const m = mus.reduce((s, v) => s + v, 0) / mus.length;
    const between = mus.reduce((s, v) => s + (v - m) ** 2, 0) / (mus.length - 1);
    centers.push(m);
    spreads.push(Math.sqrt(Math.max(0, between - within / mus.length / n.k)));
  }
  return { center: median(centers), scale: median(spreads) };
}

function fuseOnce(
  neurons: readonly (Moments & { k: number })[],
  items: number,
  settings: { eps: number; sigma: number; pairs: Uint32Array },
  fixedMapping?: { center: number; scale: number },
): Omit<ThurstoneFusion, 'lower' | 'upper'> {
  const comparisons: Comparison[] = [];
  const { pairs } = settings;
  for (const n of neurons) {
    for (let k = 0; k < pairs.length; k += 2) {
      const i = pairs[k] as number;
      const j = pairs[k + 1] as number;
      if (!n.has[i] || !n.has[j]) continue;
      const p = thurstoneProbability(n.mu[i] as number, n.variance[i] as number, n.mu[j] as number, n.variance[j] as number, settings.eps);
      comparisons.push({ a: i, b: j, outcome: p });
    }
  }
  const used = new Array<number>(items).fill(0);
  for (const n of neurons) for (let i = 0; i < items; i++) used[i] = (used[i] as number) + (n.has[i] as number);
  const ids = Array.from({ length: items }, (_, i) => i);
  const nan = () => new Array<number>(items).fill(NaN);
  if (comparisons.length === 0) {
    return { scores: nan(), latent: nan(), neuronsUsed: used, mapping: { center: NaN, scale: NaN }, pairs: 0 };
  }
  const fit = thurstone(comparisons, { items: ids, prior: { sigma: settings.sigma }, standardErrors: false });
  const latent = fit.scores.map((s, i) => ((used[i] as number) > 0 ? s : NaN));

  const known = latent.filter((v) => Number.isFinite(v));
  const lm = known.reduce((s, v) => s + v, 0) / known.length;
  const lsd = Math.sqrt(known.reduce((s, v) => s + (v - lm) ** 2, 0) / Math.max(1, known.length - 1));
  const { center, scale } = fixedMapping ?? mappingOf(neurons, Array.from({ length: items }, (_, i) => i));
  const scores = latent.map((z) => (Number.isFinite(z) ? center + (lsd > 0 ? (scale * (z - lm)) / lsd : 0) : NaN));
  return { scores, latent, neuronsUsed: used, mapping: { center, scale }, pairs: comparisons.length };
}

export interface PanelAgreement {
  /** Krippendorff's alpha, interval level, neurons as raters and items as units; NaN when undefined. */
  alpha: number;
  /** Per item: standard deviation of the neurons' scores (NaN with fewer than two). */
  spread: number[];
  /** Mean of the finite per-item spreads. */
  meanSpread: number;
}

/**
 * Agreement inside a panel: `scores[r][i]` is neuron r's score of item i (null when it
 * failed). Alpha needs two neurons on one item at least, else NaN.
 * @example panelAgreement([[1, 2, 3], [1, 2, 4]]).alpha // => 0.8780487804878049
 */
export function panelAgreement(scores: readonly (readonly (number | null)[])[]): PanelAgreement {
  if (!Array.isArray(scores) || scores.length === 0) fail('scores', 'a non-empty neurons x items array', scores);
  const items = (scores[0] as readonly unknown[]).length;
  const spread: number[] = [];
  for (let i = 0; i < items; i++) {
    const v = scores.map((row) => row[i]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    if (v.length < 2) {
      spread.push(NaN);
      continue;
    }
    const m = v.reduce((s, x) => s + x, 0) / v.length;
    spread.push(Math.sqrt(v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1)));
  }
  const finite = spread.filter((s) => Number.isFinite(s));
  let alpha = NaN;
  if (finite.length > 0) alpha = krippendorffAlpha(scores, { level: 'interval' });
  return { alpha, spread, meanSpread: finite.length ? finite.reduce((s, x) => s + x, 0) / finite.length : NaN };
}
