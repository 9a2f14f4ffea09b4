/**
 * Damped Newton maximisation of a paired-comparison log-likelihood
 *
 *   l(s) = sum_pairs W_ij log F(s_i - s_j) + L_ij log F(s_j - s_i)  [ - |s|^2 / (2 sigma^2) ]
 *
 * with F the logistic function (Bradley-Terry) or the normal CDF (Thurstone Case V).
 * Both links are log-concave, so the objective is concave and Newton with a backtracking
 * line search converges from s = 0.
 *
 * Identifiability: with a prior the Hessian is negative definite and the MAP is unique.
 * Without one, scores are only defined up to a constant per connected component; the
 * Newton system is solved as `(L + P) d = g`, L the weighted Laplacian (observed
 * information) and P the projector onto per-component constants. Since g sums to zero
 * on every component, d does too, so scores starting at 0 stay centred per component,
 * and `(L + P)^-1 - P` is the pseudo-inverse of L: the covariance of the centred scores.
 *
 * Large problems (more than DENSE_LIMIT items) solve the Newton system by conjugate
 * gradients on the sparse Laplacian (O(pairs) per product) and fall back to a dense
 * Cholesky only if that stalls; standard errors always use one dense factorisation.
 */
import { QuorumError } from '../core/errors.js';
import { choleskyInPlace, choleskySolve, conjugateGradient, inverseDiagonal } from './_linalg.js';
import type { PairTable } from './_pair-table.js';
import { inverseMillsRatio, logNormalCdf } from './normal.js';

export type Link = 'logistic' | 'probit';

export interface NewtonOptions {
  /** Prior standard deviation; undefined for maximum likelihood. */
  sigma: number | undefined;
  maxIterations: number;
  tolerance: number;
  standardErrors: boolean;
}

export interface NewtonResult {
  scores: Float64Array;
  /** Computes the standard errors (O(n^3)) when called; null when not asked for. */
  standardErrors: (() => Float64Array) | null;
  iterations: number;
  converged: boolean;
  logLikelihood: number;
}

const DENSE_LIMIT = 300;

function logSigmoid(d: number): number {
  return d >= 0 ? -Math.log1p(Math.exp(-d)) : d - Math.log1p(Math.exp(d));
}

/** Log-likelihood of the pairs at `s` (no prior term). */
export function logLikelihood(table: PairTable, link: Link, s: ArrayLike<number>): number {
  const { first, second, wins, losses } = table;
  const logF = link === 'logistic' ? logSigmoid : logNormalCdf;
  let ll = 0;
  for (let k = 0; k < first.length; k++) {
    const d = (s[first[k] as number] as number) - (s[second[k] as number] as number);
    const w = wins[k] as number;
    const l = losses[k] as number;
    if (w > 0) ll += w * logF(d);
    if (l > 0) ll += l * logF(-d);
  }
  return ll;
}

/**
 * Per-pair first and second derivatives of the log-likelihood with respect to
 * d = s_i - s_j: `grad[k]` and `curv[k]` (the negated second derivative, >= 0).
 */
function derivatives(table: PairTable, link: Link, s: Float64Array, grad: Float64Array, curv: Float64Array): void {
  const { first, second, wins, losses } = table;
  for (let k = 0; k < first.length; k++) {
    const d = (s[first[k] as number] as number) - (s[second[k] as number] as number);
    const w = wins[k] as number;
    const l = losses[k] as number;
    if (link === 'logistic') {
      // p = sigmoid(d), q = sigmoid(-d) = 1 - p, from one exponential.
      const e = Math.exp(-Math.abs(d));
      const big = 1 / (1 + e);
      const small = e * big;
      const p = d >= 0 ? big : small;
      const q = d >= 0 ? small : big;
      grad[k] = w * q - l * p;
      curv[k] = (w + l) * p * q;
    } else {
      let g = 0;
      let h = 0;
      if (w > 0) {
        const m = inverseMillsRatio(d);
        g += w * m;
        h += w * m * (d + m);
      }
      if (l > 0) {
        const m = inverseMillsRatio(-d);
        g -= l * m;
        h += l * m * (m - d);
      }
      grad[k] = g;
      curv[k] = h;
    }
  }
}

/** Pair curvatures assembled into the dense n x n Newton matrix (lower triangle). */
function denseSystem(table: PairTable, curv: Float64Array, priorPrecision: number): Float64Array {
  const n = table.items.length;
  const { first, second } = table;
  const a = new Float64Array(n * n);
  for (let k = 0; k < first.length; k++) {
    const i = first[k] as number;
    const j = second[k] as number;
    const h = curv[k] as number;
    a[i * n + i] = (a[i * n + i] as number) + h;
    a[j * n + j] = (a[j * n + j] as number) + h;
    a[j * n + i] = (a[j * n + i] as number) - h; // j > i: lower triangle
  }
  if (priorPrecision > 0) {
    for (let i = 0; i < n; i++) a[i * n + i] = (a[i * n + i] as number) + priorPrecision;
  } else {
    for (const component of table.components) {
      const v = 1 / component.length;
      for (let x = 0; x < component.length; x++) {
        const row = (component[x] as number) * n;
        for (let y = 0; y <= x; y++) a[row + (component[y] as number)] = (a[row + (component[y] as number)] as number) + v;
      }
    }
  }
  return a;
}

/** Cholesky with a growing ridge if the matrix is singular to working precision. */
function factor(a: Float64Array, n: number): Float64Array {
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, a[i * n + i] as number);
  let ridge = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    const work = Float64Array.from(a);
    if (ridge > 0) for (let i = 0; i < n; i++) work[i * n + i] = (work[i * n + i] as number) + ridge;
    if (choleskyInPlace(work, n)) return work;
    ridge = ridge === 0 ? 1e-12 * (maxDiag || 1) : ridge * 100;
  }
  throw new QuorumError('The Newton system is not positive definite even with a ridge: the comparison data are degenerate (try a prior)');
}

function solveNewton(
  table: PairTable,
  curv: Float64Array,
  priorPrecision: number,
  componentSize: Float64Array,
  rhs: Float64Array,
  cgTolerance: number,
): Float64Array {
  const n = table.items.length;
  if (n > DENSE_LIMIT) {
    const { first, second, componentOf, components } = table;
    const diagonal = new Float64Array(n);
    for (let k = 0; k < first.length; k++) {
      const h = curv[k] as number;
      diagonal[first[k] as number] = (diagonal[first[k] as number] as number) + h;
      diagonal[second[k] as number] = (diagonal[second[k] as number] as number) + h;
    }
    for (let i = 0; i < n; i++) {
      diagonal[i] = (diagonal[i] as number) + (priorPrecision > 0 ? priorPrecision : 1 / (componentSize[i] as number));
    }
    const componentSum = new Float64Array(components.length);
    const multiply = (v: Float64Array, out: Float64Array): void => {
      if (priorPrecision > 0) {
        for (let i = 0; i < n; i++) out[i] = priorPrecision * (v[i] as number);
      } else {
        componentSum.fill(0);
        for (let i = 0; i < n; i++) componentSum[componentOf[i] as number] = (componentSum[componentOf[i] as number] as number) + (v[i] as number);
        for (let i = 0; i < n; i++) out[i] = (componentSum[componentOf[i] as number] as number) / (componentSize[i] as number);
      }
      for (let k = 0; k < first.length; k++) {
        const i = first[k] as number;
        const j = second[k] as number;
        const t = (curv[k] as number) * ((v[i] as number) - (v[j] as number));
        out[i] = (out[i] as number) + t;
        out[j] = (out[j] as number) - t;
      }
    };
    const x = conjugateGradient(multiply, diagonal, rhs, cgTolerance, 2 * n + 50);
    if (x !== undefined) {
      // An exact solution sums to zero on every component (so scores stay centred); a
      // truncated, preconditioned one need not: project it back.
      if (priorPrecision === 0) {
        componentSum.fill(0);
        for (let i = 0; i < n; i++) componentSum[componentOf[i] as number] = (componentSum[componentOf[i] as number] as number) + (x[i] as number);
        for (let i = 0; i < n; i++) x[i] = (x[i] as number) - (componentSum[componentOf[i] as number] as number) / (componentSize[i] as number);
      }
      return x;
    }
  }
  const l = factor(denseSystem(table, curv, priorPrecision), n);
  return choleskySolve(l, n, rhs);
}

export function newtonFit(table: PairTable, link: Link, options: NewtonOptions): NewtonResult {
  const n = table.items.length;
  const nPairs = table.first.length;
  const { first, second } = table;
  const priorPrecision = options.sigma === undefined ? 0 : 1 / (options.sigma * options.sigma);
  const componentSize = new Float64Array(n);
  for (const component of table.components) for (const i of component) componentSize[i] = component.length;

  const objective = (s: Float64Array): number => {
    let penalty = 0;
    if (priorPrecision > 0) for (let i = 0; i < n; i++) penalty += (s[i] as number) ** 2;
    return logLikelihood(table, link, s) - 0.5 * priorPrecision * penalty;
  };

  let s = new Float64Array(n);
  // The objective is only needed by the line search; near the optimum full steps are
  // taken without it, so it is evaluated lazily (undefined: not known at `s`).
  let value: number | undefined;
  const grad = new Float64Array(nPairs);
  const curv = new Float64Array(nPairs);
  const g = new Float64Array(n);
  let iterations = 0;
  let converged = false;
  let firstGNorm: number | undefined;
  while (iterations < options.maxIterations) {
    derivatives(table, link, s, grad, curv);
    let gMax = 0;
    for (let i = 0; i < n; i++) g[i] = -priorPrecision * (s[i] as number);
    for (let k = 0; k < nPairs; k++) {
      g[first[k] as number] = (g[first[k] as number] as number) + (grad[k] as number);
      g[second[k] as number] = (g[second[k] as number] as number) - (grad[k] as number);
    }
    let gNorm = 0;
    for (let i = 0; i < n; i++) {
      gMax = Math.max(gMax, Math.abs(g[i] as number));
      gNorm += (g[i] as number) ** 2;
    }
    if (gMax === 0) {
      converged = true;
      break;
    }
    gNorm = Math.sqrt(gNorm);
    firstGNorm ??= gNorm;
    // Inexact Newton (Eisenstat & Walker 1996): conjugate gradients only need to reduce
    // the residual by a forcing term that shrinks with the gradient, sqrt(|g| / |g_0|),
    // which keeps convergence superlinear; far from the optimum a rough step does.
    const cgTolerance = Math.max(1e-12, Math.min(0.1, Math.sqrt(gNorm / firstGNorm)));
    const step = solveNewton(table, curv, priorPrecision, componentSize, g, cgTolerance);
    let slope = 0;
    let stepMax = 0;
    for (let i = 0; i < n; i++) {
      slope += (g[i] as number) * (step[i] as number);
      stepMax = Math.max(stepMax, Math.abs(step[i] as number));
    }
    // Backtracking (Armijo) line search. Steps below 1e-6, or whose predicted increase is
    // below the objective's rounding noise, are taken whole: that close to the optimum
    // Newton converges quadratically, and the noise would exceed the increase anyway.
    let t = 1;
    let trial = new Float64Array(n);
    let trialValue: number | undefined;
    for (;;) {
      for (let i = 0; i < n; i++) trial[i] = (s[i] as number) + t * (step[i] as number);
      if (t * stepMax < 1e-6) {
        trialValue = undefined;
        break;
      }
      value ??= objective(s);
      if (t === 1 && slope <= 1e-12 * Math.abs(value)) {
        // The predicted increase is within the objective's rounding noise (1e-12 of the
        // summed |log F| terms): the test below would reject a good step at random.
        trialValue = undefined;
        break;
      }
      trialValue = objective(trial);
      if (trialValue >= value + 1e-4 * t * slope) break;
      t *= 0.5;
    }
    [s, trial] = [trial, s];
    value = trialValue;
    iterations++;
    let sMax = 0;
    for (let i = 0; i < n; i++) sMax = Math.max(sMax, Math.abs(s[i] as number));
    if (t * stepMax <= options.tolerance * (1 + sMax)) {
      converged = true;
      break;
    }
  }

  // The scores are final: nothing writes to `s` after this, so the errors can wait until asked.
  const final = s;
  const standardErrors = options.standardErrors
    ? () => {
        derivatives(table, link, final, grad, curv);
        const l = factor(denseSystem(table, curv, priorPrecision), n);
        const diag = inverseDiagonal(l, n);
        const se = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          if (priorPrecision > 0) {
            se[i] = Math.sqrt(diag[i] as number);
          } else if ((componentSize[i] as number) < 2) {
            se[i] = NaN; // a lone item's score is not identified
          } else {
            se[i] = Math.sqrt(Math.max(0, (diag[i] as number) - 1 / (componentSize[i] as number)));
          }
        }
        return se;
      }
    : null;
  return { scores: s, standardErrors, iterations, converged, logLikelihood: logLikelihood(table, link, s) };
}
