/**
 * The agreement statistics of a bootstrap resample without building it: a resample of n
 * pairs drawn with replacement is the original pairs with multiplicities `w` (the draw
 * counts, summing to n), and SRCC, KRCC and PLCC below are the weighted forms of the ones
 * on the materialised resample, equal to them up to rounding. The data are sorted once; a
 * resample then costs O(n) for SRCC and PLCC (midranks from the fixed order, no sort) and
 * O(n log m) integer work for KRCC (a Fenwick tree over y's m distinct values instead of
 * a merge sort of copies).
 *
 * The logistic refit is a one-step bootstrap (Davidson and MacKinnon 1999, "Bootstrap
 * testing in nonlinear models", International Economic Review 40(2); Andrews 2002,
 * "Higher-order improvements of a computationally attractive k-step bootstrap",
 * Econometrica 70(1)): from the fit on all the data, one Levenberg-Marquardt step on the
 * resample, with the Jacobian and residuals at the full fit computed once, kept when it
 * lowers the resample's sum of squares. Against refits run to convergence the interval
 * bounds of PLCC and RMSE after the fit moved by less than 0.005
 * (test/aggregate/resampled-agreement.test.ts); at 10,000 images x 1,000 resamples the
 * full refits (and the sorts) took minutes.
 */
import { argsort } from './_argsort.js';
import { choleskyInPlace, choleskySolve } from './_linalg.js';
import type { Logistic4Params } from './logistic4.js';

/** One variable's fixed order, its runs of ties and its dense ranks. */
interface Sorted {
  order: Uint32Array;
  /** For each position that starts a run of equal values, the position after the run. */
  runEnd: Uint32Array;
  /** Dense rank of each item's value (0 = smallest). */
  dense: Uint32Array;
  distinct: number;
}

function sortOnce(v: readonly number[]): Sorted {
  const n = v.length;
  const order = argsort(v);
  const runEnd = new Uint32Array(n);
  const dense = new Uint32Array(n);
  let distinct = 0;
  for (let k = 0; k < n; ) {
    let end = k + 1;
    const value = v[order[k] as number];
    while (end < n && v[order[end] as number] === value) end++;
    runEnd[k] = end;
    for (let t = k; t < end; t++) dense[order[t] as number] = distinct;
    distinct++;
    k = end;
  }
  return { order, runEnd, dense, distinct };
}

/**
 * Weighted midranks: the rank each item has in the resample (ties, including an item's
 * own copies, share the mean of their positions, as `averageRanks` gives).
 */
function midranks(s: Sorted, w: Int32Array, out: Float64Array): void {
  const n = w.length;
  let below = 0;
  for (let k = 0; k < n; ) {
    const end = s.runEnd[k] as number;
    let run = 0;
    for (let t = k; t < end; t++) run += w[s.order[t] as number] as number;
    const rank = below + (run + 1) / 2;
    for (let t = k; t < end; t++) out[s.order[t] as number] = rank;
    below += run;
    k = end;
  }
}

/** Pearson correlation of `a`, `b` with multiplicities `w` (total `total`); NaN when either is constant over the drawn items. */
function weightedPearson(a: ArrayLike<number>, b: ArrayLike<number>, w: Int32Array, total: number): number {
  const n = w.length;
  let ma = 0;
  let mb = 0;
  let firstA = NaN;
  let firstB = NaN;
  let constA = true;
  let constB = true;
  for (let i = 0; i < n; i++) {
    const wi = w[i] as number;
    if (wi === 0) continue;
    const ai = a[i] as number;
    const bi = b[i] as number;
    if (Number.isNaN(firstA)) {
      firstA = ai;
      firstB = bi;
    }
    constA &&= ai === firstA;
    constB &&= bi === firstB;
    ma += wi * ai;
    mb += wi * bi;
  }
  if (constA || constB) return NaN;
  ma /= total;
  mb /= total;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const wi = w[i] as number;
    if (wi === 0) continue;
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += wi * da * db;
    saa += wi * da * da;
    sbb += wi * db * db;
  }
  const r = sab / Math.sqrt(saa * sbb);
  return Math.max(-1, Math.min(1, r));
}

/** The Levenberg-Marquardt damping of the one step (the first step's, as in `fitLogistic4`). */
const DAMPING = 1e-3;

/**
 * Agreement statistics of fixed pairs (x, y) under resample multiplicities, given the
 * logistic fit `params` on all the pairs (`fitLogistic4(x, y).params`).
 * @example
 * const a = new ResampledAgreement(x, y, fitLogistic4(x, y).params);
 * a.statistics(new Int32Array(x.length).fill(1), x.length) // => [srcc, krcc, plcc, fitted plcc, rmse] of (x, y)
 */
export class ResampledAgreement {
  readonly #x: readonly number[];
  readonly #y: readonly number[];
  readonly #sx: Sorted;
  readonly #sy: Sorted;
  readonly #rx: Float64Array;
  readonly #ry: Float64Array;
  readonly #tree: Int32Array;
  /** Drawn weight inserted at each dense y rank, beside the tree: one prefix query per item. */
  readonly #atRank: Int32Array;
  readonly #params: Logistic4Params;
  /** At the full fit: each point's prediction, residual and Jacobian row (4 per point). */
  readonly #fitted: Float64Array;
  readonly #residual: Float64Array;
  readonly #jacobian: Float64Array;
  readonly #predicted: Float64Array;
  readonly #trial: Float64Array;

  constructor(x: readonly number[], y: readonly number[], params: Logistic4Params) {
    const n = x.length;
    this.#x = x;
    this.#y = y;
    this.#sx = sortOnce(x);
    this.#sy = sortOnce(y);
    this.#rx = new Float64Array(n);
    this.#ry = new Float64Array(n);
    this.#tree = new Int32Array(this.#sy.distinct + 1);
    this.#atRank = new Int32Array(this.#sy.distinct);
    this.#params = params;
    this.#fitted = new Float64Array(n);
    this.#residual = new Float64Array(n);
    this.#jacobian = new Float64Array(4 * n);
    this.#predicted = new Float64Array(n);
    this.#trial = new Float64Array(n);
    // f = b2 + (b1 - b2) q with q = sigmoid((x - b3) / b4), b4 > 0 as fitLogistic4 reports it.
    const [b1, b2, b3, b4] = params;
    for (let i = 0; i < n; i++) {
      const z = ((x[i] as number) - b3) / b4;
      // q = sigmoid(z) and q1 = sigmoid(-z) from exp(-|z|), which cannot overflow.
      const e = Math.exp(-Math.abs(z));
      const q = z >= 0 ? 1 / (1 + e) : e / (1 + e);
      const q1 = z >= 0 ? e / (1 + e) : 1 / (1 + e);
      const slope = (b1 - b2) * q * q1;
      const f = b2 + (b1 - b2) * q;
      this.#fitted[i] = f;
      this.#residual[i] = (y[i] as number) - f;
      this.#jacobian.set([q, q1, -slope / b4, (-slope * z) / b4], 4 * i);
    }
  }

  /** `[srcc, krcc, plcc, plcc after the refit, rmse after the refit]` of the resample `w` (counts summing to `total`). */
  statistics(w: Int32Array, total: number): [number, number, number, number, number] {
    midranks(this.#sx, w, this.#rx);
    midranks(this.#sy, w, this.#ry);
    const srcc = weightedPearson(this.#rx, this.#ry, w, total);
    const plcc = weightedPearson(this.#x, this.#y, w, total);
    const sse = this.#refit(w);
    return [srcc, this.#kendall(w, total), plcc, weightedPearson(this.#predicted, this.#y, w, total), Math.sqrt(sse / total)];
  }

  /**
   * One damped Gauss-Newton step from the full fit on the resample: solves
   * `(J'WJ + lambda diag(J'WJ)) d = J'W r` and keeps `params + d` when it lowers the
   * weighted sum of squares. Leaves the resample's predictions in `#predicted`; returns
   * their weighted sum of squared residuals.
   */
  #refit(w: Int32Array): number {
    const n = w.length;
    const jac = this.#jacobian;
    const a = new Float64Array(16);
    const g = new Float64Array(4);
    let sse = 0;
    for (let i = 0; i < n; i++) {
      const wi = w[i] as number;
      if (wi === 0) continue;
      const ri = this.#residual[i] as number;
      sse += wi * ri * ri;
      const o = 4 * i;
      for (let u = 0; u < 4; u++) {
        const ju = wi * (jac[o + u] as number);
        g[u] = (g[u] as number) + ju * ri;
        for (let v = 0; v <= u; v++) a[u * 4 + v] = (a[u * 4 + v] as number) + ju * (jac[o + v] as number);
      }
    }
    for (let u = 0; u < 4; u++) {
      a[u * 5] = (a[u * 5] as number) * (1 + DAMPING) + 1e-300;
      for (let v = u + 1; v < 4; v++) a[u * 4 + v] = a[v * 4 + u] as number;
    }
    this.#predicted.set(this.#fitted);
    if (!choleskyInPlace(a, 4)) return sse;
    const d = choleskySolve(a, 4, g);
    const [b1, b2, b3, b4] = this.#params.map((v, u) => v + (d[u] as number)) as [number, number, number, number];
    const s = Math.abs(b4);
    if (!Number.isFinite(b1 + b2 + b3 + b4) || s === 0) return sse;
    let stepped = 0;
    const trial = this.#trial;
    for (let i = 0; i < n; i++) {
      const wi = w[i] as number;
      if (wi === 0) continue;
      const z = ((this.#x[i] as number) - b3) / s;
      const e = Math.exp(-Math.abs(z));
      const f = b2 + ((b1 - b2) * (z >= 0 ? 1 : e)) / (1 + e);
      trial[i] = f;
      const ri = (this.#y[i] as number) - f;
      stepped += wi * ri * ri;
    }
    if (!(stepped < sse)) return sse;
    this.#predicted.set(trial);
    return stepped;
  }

  /**
   * Tau-b of the resample, `(n_c - n_d) / sqrt((n_0 - n_1)(n_0 - n_2))` as `krcc`:
   * items are taken in x order, a run of x-ties at a time; each item meets the drawn
   * items of smaller x already in a Fenwick tree over y's dense rank (weights, so an
   * item's copies count as often as drawn), and pairs tied in x or y count neither way.
   */
  #kendall(w: Int32Array, total: number): number {
    const { order, runEnd } = this.#sx;
    const dense = this.#sy.dense;
    const tree = this.#tree;
    const atRank = this.#atRank;
    const m = tree.length - 1;
    tree.fill(0);
    atRank.fill(0);
    let inserted = 0;
    let s = 0;
    let tiedX = 0;
    const n = w.length;
    for (let k = 0; k < n; ) {
      const end = runEnd[k] as number;
      let run = 0;
      for (let t = k; t < end; t++) {
        const i = order[t] as number;
        const wi = w[i] as number;
        if (wi === 0) continue;
        run += wi;
        const r = dense[i] as number;
        let below = 0; // drawn weight with y rank < r
        for (let j = r; j > 0; j -= j & -j) below += tree[j] as number;
        const above = inserted - below - (atRank[r] as number);
        s += wi * (below - above);
      }
      for (let t = k; t < end; t++) {
        const i = order[t] as number;
        const wi = w[i] as number;
        if (wi === 0) continue;
        const r = dense[i] as number;
        atRank[r] = (atRank[r] as number) + wi;
        for (let j = r + 1; j <= m; j += j & -j) tree[j] = (tree[j] as number) + wi;
      }
      inserted += run;
      tiedX += (run * (run - 1)) / 2;
      k = end;
    }
    let tiedY = 0;
    const sy = this.#sy;
    for (let k = 0; k < n; ) {
      const end = sy.runEnd[k] as number;
      let run = 0;
      for (let t = k; t < end; t++) run += w[sy.order[t] as number] as number;
      tiedY += (run * (run - 1)) / 2;
      k = end;
    }
    const n0 = (total * (total - 1)) / 2;
    const denominator = Math.sqrt(n0 - tiedX) * Math.sqrt(n0 - tiedY);
    if (denominator === 0) return NaN;
    return Math.max(-1, Math.min(1, s / denominator));
  }
}
