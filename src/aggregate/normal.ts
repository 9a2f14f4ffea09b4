/**
 * The standard normal distribution to near machine precision: error functions after
 * W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23
 * (1969) 631-638 (the CALERF routine), and the quantile after M. J. Wichura, "Algorithm
 * AS 241: The percentage points of the normal distribution", Appl. Statist. 37 (1988)
 * 477-484.
 *
 * The lower tail is computed as `0.5 * erfcx(-x / sqrt 2) * exp(-x^2 / 2)` with the
 * exponential split as in CALERF, so `normalCdf(-37)` keeps its relative accuracy
 * instead of inheriting the rounding of `x / sqrt 2` amplified by `x^2`.
 */
import { fail } from './_validate.js';

// Coefficients of CALERF (Cody 1969, revised 1990), IEEE double precision.
const A = [3.1611237438705656, 113.864154151050156, 377.485237685302021, 3209.37758913846947, 0.185777706184603153];
const B = [23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062];
const C = [
  0.564188496988670089, 8.88314979438837594, 66.1191906371416295, 298.635138197400131, 881.95222124176909,
  1712.04761263407058, 2051.07837782607147, 1230.33935479799725, 2.15311535474403846e-8,
];
const D = [
  15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019, 3290.79923573345963,
  4362.61909014324716, 3439.36767414372164, 1230.33935480374942,
];
const P = [
  0.305326634961232344, 0.360344899949804439, 0.125781726111229246, 0.0160837851487422766,
  6.58749161529837803e-4, 0.0163153871373020978,
];
const Q = [2.56852019228982242, 1.87295284992346047, 0.527905102951428412, 0.0605183413124413191, 0.00233520497626869185];

const SQRPI = 0.56418958354775628695; // 1 / sqrt(pi)
const THRESH = 0.46875;
const XNEG = -26.628;
const XSMALL = 1.11e-16;
const XBIG = 26.543;
const XHUGE = 6.71e7;
const XMAX = 2.53e307;

const c = (arr: readonly number[], i: number): number => arr[i] as number;

/** exp(-y^2) without the error of rounding y^2: y is split at a multiple of 1/16. */
function expNegSquare(y: number): number {
  const ysq = Math.trunc(y * 16) / 16;
  const del = (y - ysq) * (y + ysq);
  return Math.exp(-ysq * ysq) * Math.exp(-del);
}

/** CALERF: jint 0 -> erf(x), 1 -> erfc(x), 2 -> erfcx(x) = exp(x^2) erfc(x). */
function calerf(x: number, jint: 0 | 1 | 2): number {
  const y = Math.abs(x);
  let result: number;
  if (y <= THRESH) {
    const ysq = y > XSMALL ? y * y : 0;
    let xnum = c(A, 4) * ysq;
    let xden = ysq;
    for (let i = 0; i < 3; i++) {
      xnum = (xnum + c(A, i)) * ysq;
      xden = (xden + c(B, i)) * ysq;
    }
    result = (x * (xnum + c(A, 3))) / (xden + c(B, 3));
    if (jint !== 0) result = 1 - result;
    if (jint === 2) result = Math.exp(ysq) * result;
    return result;
  }
  if (y <= 4) {
    let xnum = c(C, 8) * y;
    let xden = y;
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + c(C, i)) * y;
      xden = (xden + c(D, i)) * y;
    }
    result = (xnum + c(C, 7)) / (xden + c(D, 7));
    if (jint !== 2) result = expNegSquare(y) * result;
  } else {
    result = 0;
    let done = false;
    if (y >= XBIG) {
      if (jint !== 2 || y >= XMAX) done = true;
      else if (y >= XHUGE) {
        result = SQRPI / y;
        done = true;
      }
    }
    if (!done) {
      const ysq = 1 / (y * y);
      let xnum = c(P, 5) * ysq;
      let xden = ysq;
      for (let i = 0; i < 4; i++) {
        xnum = (xnum + c(P, i)) * ysq;
        xden = (xden + c(Q, i)) * ysq;
      }
      result = (ysq * (xnum + c(P, 4))) / (xden + c(Q, 4));
      result = (SQRPI - result) / y;
      if (jint !== 2) result = expNegSquare(y) * result;
    }
  }
  // Fix up for negative argument.
  if (jint === 0) {
    result = 0.5 - result + 0.5;
    if (x < 0) result = -result;
  } else if (jint === 1) {
    if (x < 0) result = 2 - result;
  } else if (x < 0) {
    if (x < XNEG) result = Infinity;
    else {
      const ysq = Math.trunc(x * 16) / 16;
      const del = (x - ysq) * (x + ysq);
      const e = Math.exp(ysq * ysq) * Math.exp(del);
      result = e + e - result;
    }
  }
  return result;
}

/**
 * Error function, `erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt` (Cody 1969).
 * NaN in, NaN out.
 * @example erf(0.5) // => 0.5204998778130465
 */
export function erf(x: number): number {
  return Number.isNaN(x) ? NaN : calerf(x, 0);
}

/**
 * Complementary error function `1 - erf(x)`, accurate in the upper tail (Cody 1969).
 * @example erfc(5) // => 1.537459794428035e-12
 */
export function erfc(x: number): number {
  return Number.isNaN(x) ? NaN : calerf(x, 1);
}

/**
 * Scaled complementary error function `exp(x^2) * erfc(x)` (Cody 1969); finite for all
 * x >= -26.6, `Infinity` below.
 * @example erfcx(30) // => 0.01879588886141675
 */
export function erfcx(x: number): number {
  return Number.isNaN(x) ? NaN : calerf(x, 2);
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327; // 1 / sqrt(2 pi)
const SQRT_2_OVER_PI = 0.7978845608028654; // sqrt(2 / pi)

/** exp(-x^2 / 2) with the argument split so that large |x| keeps relative accuracy. */
function expNegHalfSquare(x: number): number {
  const xs = Math.trunc(x * 16) / 16;
  const del = (x - xs) * (x + xs);
  return Math.exp(-0.5 * xs * xs) * Math.exp(-0.5 * del);
}

/**
 * Standard normal density `phi(x) = exp(-x^2/2) / sqrt(2 pi)`.
 * @example normalPdf(1) // => 0.24197072451914337
 */
export function normalPdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (!Number.isFinite(x)) return 0;
  return INV_SQRT_2PI * expNegHalfSquare(x);
}

/**
 * Standard normal distribution function `Phi(x) = erfc(-x / sqrt 2) / 2`, with relative
 * accuracy kept deep into the lower tail (about 1e-15 down to `Phi(-37) ~ 6e-300`;
 * below about -38.5 the result underflows to 0). NaN in, NaN out.
 * @example normalCdf(-1.959963984540054) // => 0.025 (0.025000000000000005)
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= -1) return 0.5 * calerf(-x * SQRT1_2, 1);
  if (x === -Infinity) return 0;
  return 0.5 * calerf(-x * SQRT1_2, 2) * expNegHalfSquare(x);
}

/**
 * `log Phi(x)` without underflow: finite for every finite x (about `-x^2/2` far in the
 * lower tail), and `log1p(-Phi(-x))` in the upper tail so that tiny losses are kept.
 * @example logNormalCdf(-40) // => -804.6084420137538
 */
export function logNormalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > 0) return Math.log1p(-normalCdf(-x));
  if (x >= -1) return Math.log(normalCdf(x));
  if (x === -Infinity) return -Infinity;
  return Math.log(0.5 * calerf(-x * SQRT1_2, 2)) - 0.5 * x * x;
}

/**
 * Inverse Mills ratio `phi(x) / Phi(x)`, the derivative of `log Phi(x)`; stable for very
 * negative x where it tends to `-x`. Used by the Thurstone fit.
 * @internal
 */
export function inverseMillsRatio(x: number): number {
  if (x >= -1) return normalPdf(x) / normalCdf(x);
  return SQRT_2_OVER_PI / calerf(-x * SQRT1_2, 2);
}

// AS 241 (PPND16) coefficients.
const QA = [
  3.387132872796366608, 133.14166789178437745, 1971.5909503065514427, 13731.693765509461125,
  45921.953931549871457, 67265.770927008700853, 33430.575583588128105, 2509.0809287301226727,
];
const QB = [
  1, 42.313330701600911252, 687.1870074920579083, 5394.1960214247511077, 21213.794301586595867,
  39307.89580009271061, 28729.085735721942674, 5226.495278852854561,
];
const QC = [
  1.42343711074968357734, 4.6303378461565452959, 5.7694972214606914055, 3.64784832476320460504,
  1.27045825245236838258, 0.24178072517745061177, 0.0227238449892691845833, 7.7454501427834140764e-4,
];
const QD = [
  1, 2.05319162663775882187, 1.6763848301838038494, 0.68976733498510000455, 0.14810397642748007459,
  0.0151986665636164571966, 5.475938084995344946e-4, 1.05075007164441684324e-9,
];
const QE = [
  6.6579046435011037772, 5.4637849111641143699, 1.7848265399172913358, 0.29656057182850489123,
  0.026532189526576123093, 0.0012426609473880784386, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
];
const QF = [
  1, 0.59983220655588793769, 0.13692988092273580531, 0.0148753612908506148525, 7.868691311456132591e-4,
  1.8463183175100546818e-5, 1.4215117583164458887e-7, 2.04426310338993978564e-15,
];

function horner(coef: readonly number[], x: number): number {
  let v = coef[coef.length - 1] as number;
  for (let i = coef.length - 2; i >= 0; i--) v = v * x + (coef[i] as number);
  return v;
}

/**
 * Standard normal quantile `Phi^-1(p)` (Wichura 1988, AS 241; relative accuracy about
 * 1e-16). `p = 0` gives `-Infinity`, `p = 1` gives `Infinity`; p outside [0, 1] or NaN
 * throws `StatisticsInputError`.
 * @example normalQuantile(0.975) // => 1.9599639845400536
 */
export function normalQuantile(p: number): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) fail('p', 'a probability in [0, 1]', p);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (q * horner(QA, r)) / horner(QB, r);
  }
  let r = q < 0 ? p : 1 - p;
  r = Math.sqrt(-Math.log(r));
  let value: number;
  if (r <= 5) {
    r -= 1.6;
    value = horner(QC, r) / horner(QD, r);
  } else {
    r -= 5;
    value = horner(QE, r) / horner(QF, r);
  }
  return q < 0 ? -value : value;
}
