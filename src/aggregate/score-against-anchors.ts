/**
 * Compare2Score's anchored scoring (Zhu et al., "Adaptive image quality assessment via
 * teaching large multimodal model to compare", NeurIPS 2024).
 */
import { choleskyInPlace, choleskySolve } from './_linalg.js';
import { assertFiniteArray, assertInteger, assertPositive, assertProbability, fail } from './_validate.js';

export interface AnchorSet {
  /** Known quality of each anchor on the scale the result should use (e.g. their MOS). */
  scores: readonly number[];
  /**
   * `preferences[i][j]` = P(anchor i is better than anchor j), in [0, 1]; the diagonal
   * is ignored (taken as 0.5).
   */
  preferences: readonly (readonly number[])[];
}

export interface AnchorScoreOptions {
  /** Clamp the mapped score into `[min, max]`. @default no clamping */
  clamp?: readonly [number, number];
  /** @default 100 */
  maxIterations?: number;
  /** Newton stops when the largest step is below this. @default 1e-12 */
  tolerance?: number;
}

export interface AnchorScore {
  /** The test image's latent score mapped onto the anchors' scale (then clamped). */
  score: number;
  /** The test image's latent MAP score s. */
  latent: number;
  /** The anchors' latent MAP scores, in input order. */
  anchorLatent: number[];
  /** The least-squares line `known = intercept + slope * latent` through the anchors. */
  mapping: { intercept: number; slope: number };
  iterations: number;
  converged: boolean;
}

const FLOOR = 1e-6;

function sigmoid(d: number): number {
  if (d >= 0) return 1 / (1 + Math.exp(-d));
  const e = Math.exp(d);
  return e / (1 + e);
}

/**
 * Scores a test image from its soft preferences against m anchors of known quality.
 *
 * Builds the (m+1) x (m+1) matrix C (anchors' preferences, then the test row `p_j` and
 * column `1 - p_j`, diagonal 0.5) and minimises the MAP objective
 * `-sum_ij C_ij log max(sigmoid(s_i - s_j), 1e-6) + |s|^2 / 2` by damped Newton (the
 * authors use Adam; the optimum is the same). The test's s is mapped onto the anchors'
 * known scale by the least-squares line of the known scores on the anchors' fitted s:
 * under Bradley-Terry the latent scale is an interval scale, so an affine map is the
 * transform it permits; it uses every anchor, is monotone, and extrapolates linearly
 * beyond the best or worst anchor (clamp with `clamp`).
 *
 * Policies: at least 2 anchors; preferences in [0, 1]; a non-square matrix, NaN or
 * mismatched lengths throw `StatisticsInputError`. If the fitted anchor order
 * contradicts the known scores so that the line's slope is not positive, or the
 * known scores are all equal, the mapping is meaningless and the call throws.
 *
 * @example
 * const anchors = {
 *   scores: [1, 3, 5],
 *   preferences: [[0.5, 0.2, 0.05], [0.8, 0.5, 0.2], [0.95, 0.8, 0.5]],
 * };
 * scoreAgainstAnchors(anchors, [0.9, 0.6, 0.2]).score // => 3.48
 */
export function scoreAgainstAnchors(
  anchors: AnchorSet,
  preferences: readonly number[],
  options: AnchorScoreOptions = {},
): AnchorScore {
  if (anchors === null || typeof anchors !== 'object') fail('anchors', 'an object { scores, preferences }', anchors);
  const known = anchors.scores;
  assertFiniteArray('anchors.scores', known, 2);
  const m = known.length;
  const c0 = anchors.preferences;
  if (!Array.isArray(c0) || c0.length !== m) fail('anchors.preferences', `an ${m} x ${m} matrix`, Array.isArray(c0) ? `${c0.length} rows` : c0);
  c0.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== m) fail(`anchors.preferences[${i}]`, `a row of ${m} numbers`, row);
    row.forEach((v, j) => {
      if (i !== j) assertProbability(`anchors.preferences[${i}][${j}]`, v);
    });
  });
  assertFiniteArray('preferences', preferences, m);
  if (preferences.length !== m) fail('preferences', `one probability per anchor (${m})`, `length ${preferences.length}`);
  preferences.forEach((v, j) => assertProbability(`preferences[${j}]`, v));
  const maxIterations = options.maxIterations ?? 100;
  assertInteger('options.maxIterations', maxIterations, 1);
  const tolerance = options.tolerance ?? 1e-12;
  assertPositive('options.tolerance', tolerance);
  if (options.clamp !== undefined) {
    assertFiniteArray('options.clamp', options.clamp as readonly number[], 2);
    if (!(options.clamp[1] >= options.clamp[0])) fail('options.clamp', '[min, max] with max >= min', options.clamp);
  }

  // C over n = m + 1 items; the test image is the last.
  const n = m + 1;
  const c = new Float64Array(n * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) c[i * n + j] = i === j ? 0.5 : ((c0[i] as number[])[j] as number);
  for (let j = 0; j < m; j++) {
    c[m * n + j] = preferences[j] as number;
    c[j * n + m] = 1 - (preferences[j] as number);
  }
  c[m * n + m] = 0.5;

  const objective = (s: Float64Array): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      f += 0.5 * (s[i] as number) ** 2;
      for (let j = 0; j < n; j++) {
        const w = c[i * n + j] as number;
        if (w > 0) f -= w * Math.log(Math.max(sigmoid((s[i] as number) - (s[j] as number)), FLOOR));
      }
    }
    return f;
  };

  let s = new Float64Array(n);
  let value = objective(s);
  let iterations = 0;
  let converged = false;
  const g = new Float64Array(n);
  const h = new Float64Array(n * n);
  while (iterations < maxIterations) {
    // Gradient and Hessian of the objective; a floored term is constant (no derivative).
    for (let i = 0; i < n; i++) g[i] = s[i] as number;
    h.fill(0);
    for (let i = 0; i < n; i++) h[i * n + i] = 1;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const w = c[i * n + j] as number;
        const p = sigmoid((s[i] as number) - (s[j] as number));
        if (w === 0 || p < FLOOR) continue;
        const d1 = -w * (1 - p); // d/d(s_i - s_j) of -w log sigmoid
        const d2 = w * p * (1 - p);
        g[i] = (g[i] as number) + d1;
        g[j] = (g[j] as number) - d1;
        h[i * n + i] = (h[i * n + i] as number) + d2;
        h[j * n + j] = (h[j * n + j] as number) + d2;
        h[i * n + j] = (h[i * n + j] as number) - d2;
        h[j * n + i] = (h[j * n + i] as number) - d2;
      }
    }
    if (!choleskyInPlace(h, n)) break; // cannot happen: the prior makes h >= I
    const step = choleskySolve(h, n, g).map((v) => -v);
    let slope = 0;
    let stepMax = 0;
    for (let i = 0; i < n; i++) {
      slope += (g[i] as number) * (step[i] as number);
      stepMax = Math.max(stepMax, Math.abs(step[i] as number));
    }
    let t = 1;
    let trial = new Float64Array(n);
    let trialValue = value;
    for (;;) {
      for (let i = 0; i < n; i++) trial[i] = (s[i] as number) + t * (step[i] as number);
      trialValue = objective(trial);
      if (trialValue <= value + 1e-4 * t * slope || t * stepMax < 1e-8) break;
      t *= 0.5;
    }
    [s, trial] = [trial, s];
    value = trialValue;
    iterations++;
    if (t * stepMax <= tolerance) {
      converged = true;
      break;
    }
  }

  const anchorLatent = Array.from(s.subarray(0, m));
  const latent = s[m] as number;
  // Least squares: known = intercept + slope * latent.
  let ms = 0;
  let mk = 0;
  for (let i = 0; i < m; i++) {
    ms += anchorLatent[i] as number;
    mk += known[i] as number;
  }
  ms /= m;
  mk /= m;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < m; i++) {
    sxy += ((anchorLatent[i] as number) - ms) * ((known[i] as number) - mk);
    sxx += ((anchorLatent[i] as number) - ms) ** 2;
  }
  const slope = sxy / sxx;
  if (!(slope > 0)) {
    fail('anchors.preferences', 'preferences that order the anchors like their known scores (the mapping slope is not positive)', slope);
  }
  const intercept = mk - slope * ms;
  let score = intercept + slope * latent;
  if (options.clamp !== undefined) score = Math.min(options.clamp[1], Math.max(options.clamp[0], score));
  return { score, latent, anchorLatent, mapping: { intercept, slope }, iterations, converged };
}
