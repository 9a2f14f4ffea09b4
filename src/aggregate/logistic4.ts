/**
 * The 4-parameter logistic that IQA papers fit before PLCC and RMSE:
 *
 *   f(x) = (b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2
 *
 * solved by Levenberg-Marquardt (Marquardt 1963, with Nielsen's damping update and
 * MINPACK's diagonal scaling) from the standard start `[max y, min y, mean x, std x / 4]`
 * (std with divisor n, as `numpy.std`).
 */
import { choleskyInPlace, choleskySolve } from './_linalg.js';
import { assertFiniteArray, assertInteger, assertPaired, fail } from './_validate.js';

export type Logistic4Params = readonly [b1: number, b2: number, b3: number, b4: number];

export interface Logistic4Fit {
  /** `[b1, b2, b3, b4]`, b4 reported as |b4| (the model only uses its magnitude). */
  params: [number, number, number, number];
  /** The fitted curve. */
  predict(x: number): number;
  /** Residual sum of squares at `params`. */
  sse: number;
  iterations: number;
  /**
   * True when a stopping test was met (relative step below 1e-13, relative decrease below
   * 1e-15, or no further decrease possible); false when `maxIterations` ran out, as when
   * the data are linear and the curve's scale grows without bound (predictions are still
   * the best found).
   */
  converged: boolean;
}

export interface Logistic4Options {
  /** @default 1000 */
  maxIterations?: number;
  /** Starting parameters. @default [max y, min y, mean x, std x / 4] */
  start?: Logistic4Params;
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/**
 * Evaluates `(b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2`.
 * @example logistic4(0, [5, 1, 0, 1]) // => 3
 */
export function logistic4(x: number, params: Logistic4Params): number {
  const [b1, b2, b3, b4] = params;
  return b2 + (b1 - b2) * sigmoid((x - b3) / Math.abs(b4));
}

function residuals(x: readonly number[], y: readonly number[], p: readonly number[], r: Float64Array): number {
  const params = p as unknown as Logistic4Params;
  let sse = 0;
  for (let i = 0; i < x.length; i++) {
    const ri = (y[i] as number) - logistic4(x[i] as number, params);
    r[i] = ri;
    sse += ri * ri;
  }
  return sse;
}

/** Normal equations of the linearised problem: A = J^T J (4x4, row-major), g = J^T r. */
function normalEquations(x: readonly number[], p: readonly number[], r: Float64Array, a: Float64Array, g: Float64Array): void {
  const [b1, b2, b3, b4] = p as [number, number, number, number];
  const s = Math.abs(b4);
  const sign = b4 < 0 ? -1 : 1;
  a.fill(0);
  g.fill(0);
  const j = new Float64Array(4);
  for (let i = 0; i < x.length; i++) {
    const z = ((x[i] as number) - b3) / s;
    const q = sigmoid(z);
    const q1 = sigmoid(-z);
    const slope = (b1 - b2) * q * q1;
    j[0] = q;
    j[1] = q1;
    j[2] = -slope / s;
    j[3] = (-slope * z * sign) / s;
    const ri = r[i] as number;
    for (let u = 0; u < 4; u++) {
      g[u] = (g[u] as number) + (j[u] as number) * ri;
      for (let v = 0; v <= u; v++) a[u * 4 + v] = (a[u * 4 + v] as number) + (j[u] as number) * (j[v] as number);
    }
  }
  for (let u = 0; u < 4; u++) for (let v = u + 1; v < 4; v++) a[u * 4 + v] = a[v * 4 + u] as number;
}

/**
 * Fits the 4-parameter logistic to (x, y) by Levenberg-Marquardt.
 *
 * Policies: x, y finite and of equal length (else `StatisticsInputError`); at least 4
 * points (as many as parameters); a constant x throws (the start's scale std(x)/4 is 0
 * and the curve is not identified). A constant y fits the flat line y. The fit is local:
 * it finds the least-squares minimum reached from the standard start, as
 * `scipy.optimize.curve_fit(method='lm')` does.
 *
 * @example
 * const fit = fitLogistic4([1, 2, 3, 4, 5, 6], [1.1, 1.3, 2.2, 3.9, 4.6, 4.8]);
 * fit.params // => [4.80, 1.07, 3.42, 0.514] (rounded)
 * fit.predict(3.5) // => 3.075
 */
export function fitLogistic4(x: readonly number[], y: readonly number[], options: Logistic4Options = {}): Logistic4Fit {
  assertPaired(x, y, 4);
  const n = x.length;
  const maxIterations = options.maxIterations ?? 1000;
  assertInteger('options.maxIterations', maxIterations, 1);
  let p: number[];
  if (options.start !== undefined) {
    assertFiniteArray('options.start', options.start as readonly number[], 4);
    if (options.start.length !== 4 || options.start[3] === 0) {
      fail('options.start', 'four finite numbers with b4 != 0', options.start);
    }
    p = [...options.start];
  } else {
    let mx = 0;
    for (const v of x) mx += v;
    mx /= n;
    let vx = 0;
    for (const v of x) vx += (v - mx) ** 2;
    const sx = Math.sqrt(vx / n);
    if (!(sx > 0)) fail('x', 'non-constant (the logistic fit needs spread in x)', 'constant');
    let yMax = -Infinity;
    let yMin = Infinity;
    for (const v of y) {
      yMax = Math.max(yMax, v);
      yMin = Math.min(yMin, v);
    }
    p = [yMax, yMin, mx, sx / 4];
  }

  const r = new Float64Array(n);
  const rTrial = new Float64Array(n);
  const a = new Float64Array(16);
  const g = new Float64Array(4);
  const scale = new Float64Array(4);
  let sse = residuals(x, y, p, r);
  normalEquations(x, p, r, a, g);
  let lambda = 1e-3;
  let nu = 2;
  let iterations = 0;
  let converged = sse === 0;
  while (!converged && iterations < maxIterations) {
    iterations++;
    // MINPACK-style scaling: the largest diagonal of J^T J seen so far, never zero.
    for (let u = 0; u < 4; u++) scale[u] = Math.max(scale[u] as number, a[u * 5] as number, 1e-300);
    const m = Float64Array.from(a);
    for (let u = 0; u < 4; u++) m[u * 5] = (m[u * 5] as number) + lambda * (scale[u] as number);
    if (!choleskyInPlace(m, 4)) {
      lambda *= nu;
      nu *= 2;
      continue;
    }
    const step = choleskySolve(m, 4, g);
    const trial = p.map((v, u) => v + (step[u] as number));
    let predicted = 0;
    let stepNorm = 0;
    let paramNorm = 0;
    for (let u = 0; u < 4; u++) {
      const su = step[u] as number;
      predicted += su * ((g[u] as number) + lambda * (scale[u] as number) * su);
      stepNorm += (scale[u] as number) * su * su;
      paramNorm += (scale[u] as number) * (p[u] as number) ** 2;
    }
    const trialSse = trial[3] === 0 ? Infinity : residuals(x, y, trial, rTrial);
    const rho = (sse - trialSse) / predicted;
    if (rho > 0 && Number.isFinite(trialSse)) {
      const decrease = sse - trialSse;
      p = trial;
      sse = trialSse;
      r.set(rTrial);
      normalEquations(x, p, r, a, g);
      lambda *= Math.max(1 / 3, 1 - (2 * rho - 1) ** 3);
      nu = 2;
      if (
        sse === 0 ||
        Math.sqrt(stepNorm) <= 1e-13 * Math.sqrt(paramNorm) ||
        (decrease <= 1e-15 * (sse + decrease) && predicted <= 1e-15 * (sse + decrease))
      ) {
        converged = true;
      }
    } else {
      lambda *= nu;
      nu *= 2;
      // No step, however short, decreases the sum of squares: a minimum to working precision.
      if (lambda > 1e16 || !(predicted > 1e-30 * sse)) converged = true;
    }
  }
  const params: [number, number, number, number] = [p[0] as number, p[1] as number, p[2] as number, Math.abs(p[3] as number)];
  return {
    params,
    predict: (v: number) => logistic4(v, params),
    sse,
    iterations,
    converged,
  };
}
