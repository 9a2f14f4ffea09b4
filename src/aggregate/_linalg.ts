/**
 * Dense symmetric positive-definite linear algebra on row-major `Float64Array`s, and a
 * preconditioned conjugate-gradient solver for large sparse systems given as a
 * matrix-vector product. Just what the fits need; inner loops run over contiguous rows.
 */

/**
 * In-place Cholesky factorisation `A = L L^T` of an n x n row-major matrix; the lower
 * triangle of `a` becomes L (the upper triangle is left untouched and must be ignored).
 * Returns false when a pivot is not positive (A not positive definite to working
 * precision).
 */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  // Left-looking by blocks of rows: row j (final up to column j) is read once per block
  // and reused by every row of the block while it is in cache.
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const i1 = Math.min(n, i0 + BLOCK);
    for (let j = 0; j < i1; j++) {
      const rowJ = j * n;
      if (j >= i0) {
        const d = (a[rowJ + j] as number) - dot(a, rowJ, rowJ, j);
        if (!(d > 0)) return false;
        a[rowJ + j] = Math.sqrt(d);
      }
      const inv = 1 / (a[rowJ + j] as number);
      for (let i = Math.max(i0, j + 1); i < i1; i++) {
        const rowI = i * n;
        a[rowI + j] = ((a[rowI + j] as number) - dot(a, rowI, rowJ, j)) * inv;
      }
    }
  }
  return true;
}

const BLOCK = 48;

/** sum_{k<len} a[p+k] * a[q+k], unrolled by four with independent accumulators. */
function dot(a: Float64Array, p: number, q: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += (a[p + k] as number) * (a[q + k] as number);
    s1 += (a[p + k + 1] as number) * (a[q + k + 1] as number);
    s2 += (a[p + k + 2] as number) * (a[q + k + 2] as number);
    s3 += (a[p + k + 3] as number) * (a[q + k + 3] as number);
  }
  for (; k < len; k++) s0 += (a[p + k] as number) * (a[q + k] as number);
  return s0 + s1 + (s2 + s3);
}

/** Solves `L L^T x = b` with the factor from `choleskyInPlace`; returns x. */
export function choleskySolve(l: Float64Array, n: number, b: ArrayLike<number>): Float64Array {
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let s = x[i] as number;
    for (let k = 0; k < i; k++) s -= (l[row + k] as number) * (x[k] as number);
    x[i] = s / (l[row + i] as number);
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (x[k] as number);
    x[i] = s / (l[i * n + i] as number);
  }
  return x;
}

/**
 * Diagonal of `A^-1` from the Cholesky factor L of A: `(A^-1)_cc = sum_i (L^-1)_ic^2`.
 * Builds L^-1 row by row (each row a combination of earlier rows, contiguous access):
 * about n^3/6 multiply-adds.
 */
export function inverseDiagonal(l: Float64Array, n: number): Float64Array {
  const x = new Float64Array(n * n); // becomes L^-1, lower triangular
  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i * n + i] = 1;
  // Row i of L^-1 is (e_i - sum_{k<i} L[i,k] x[k,:]) / L[i,i]. Rows are processed in
  // blocks; each finished row k is applied to the block's later rows while cached.
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const i1 = Math.min(n, i0 + BLOCK);
    for (let k = 0; k < i1; k++) {
      const rowK = k * n;
      if (k >= i0) {
        // Row k has all its contributions: scale it and record its squares.
        const inv = 1 / (l[rowK + k] as number);
        for (let c = 0; c <= k; c++) {
          const v = (x[rowK + c] as number) * inv;
          x[rowK + c] = v;
          diag[c] = (diag[c] as number) + v * v;
        }
      }
      for (let i = Math.max(i0, k + 1); i < i1; i++) {
        const rowI = i * n;
        const lik = l[rowI + k] as number;
        if (lik === 0) continue;
        let c = 0;
        for (; c + 3 <= k; c += 4) {
          x[rowI + c] = (x[rowI + c] as number) - lik * (x[rowK + c] as number);
          x[rowI + c + 1] = (x[rowI + c + 1] as number) - lik * (x[rowK + c + 1] as number);
          x[rowI + c + 2] = (x[rowI + c + 2] as number) - lik * (x[rowK + c + 2] as number);
          x[rowI + c + 3] = (x[rowI + c + 3] as number) - lik * (x[rowK + c + 3] as number);
        }
        for (; c <= k; c++) x[rowI + c] = (x[rowI + c] as number) - lik * (x[rowK + c] as number);
      }
    }
  }
  return diag;
}

/**
 * Solves the SPD system `A x = b` by conjugate gradients with a Jacobi preconditioner,
 * A given as `multiply(v, out)`. Stops when ||r|| <= tolerance * ||b||. Returns the
 * solution, or undefined when `maxIterations` is reached first.
 */
export function conjugateGradient(
  multiply: (v: Float64Array, out: Float64Array) => void,
  diagonal: Float64Array,
  b: Float64Array,
  tolerance: number,
  maxIterations: number,
): Float64Array | undefined {
  const n = b.length;
  const x = new Float64Array(n);
  const r = Float64Array.from(b);
  const z = new Float64Array(n);
  const p = new Float64Array(n);
  const ap = new Float64Array(n);
  let bNorm = 0;
  for (let i = 0; i < n; i++) bNorm += (b[i] as number) ** 2;
  bNorm = Math.sqrt(bNorm);
  if (bNorm === 0) return x;
  let rz = 0;
  for (let i = 0; i < n; i++) {
    const zi = (r[i] as number) / (diagonal[i] as number);
    z[i] = zi;
    p[i] = zi;
    rz += (r[i] as number) * zi;
  }
  for (let it = 0; it < maxIterations; it++) {
    multiply(p, ap);
    let pap = 0;
    for (let i = 0; i < n; i++) pap += (p[i] as number) * (ap[i] as number);
    if (!(pap > 0)) return undefined;
    const alpha = rz / pap;
    let rNorm = 0;
    for (let i = 0; i < n; i++) {
      x[i] = (x[i] as number) + alpha * (p[i] as number);
      const ri = (r[i] as number) - alpha * (ap[i] as number);
      r[i] = ri;
      rNorm += ri * ri;
    }
    if (Math.sqrt(rNorm) <= tolerance * bNorm) return x;
    let rzNew = 0;
    for (let i = 0; i < n; i++) {
      const zi = (r[i] as number) / (diagonal[i] as number);
      z[i] = zi;
      rzNew += (r[i] as number) * zi;
    }
    const beta = rzNew / rz;
    rz = rzNew;
    for (let i = 0; i < n; i++) p[i] = (z[i] as number) + beta * (p[i] as number);
  }
  return undefined;
}
