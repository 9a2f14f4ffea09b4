/**
 * Cohen's kappa for two raters (Cohen 1960; weighted: Cohen 1968).
 */
import { assertSameLength, fail } from './_validate.js';

export type Label = string | number;

export interface CohenKappaOptions {
  /**
   * Disagreement weights between category positions i and j (k categories): `'none'`
   * 0/1, `'linear'` |i - j|, `'quadratic'` (i - j)^2 (any common scale cancels).
   * @default 'none'
   */
  weights?: 'none' | 'linear' | 'quadratic';
  /**
   * All categories in order. Weighted kappa uses their positions, not their values.
   * Needed when labels are strings and weights are used, or to include categories
   * nobody chose. Every label must be listed.
   * @default the distinct labels, numbers ascending
   */
  categories?: readonly Label[];
}

function checkLabel(v: unknown, name: string): asserts v is Label {
  if (typeof v === 'string') return;
  if (typeof v === 'number' && Number.isFinite(v)) return;
  fail(name, 'a string or a finite number', v);
}

/**
 * Cohen's kappa `1 - sum w_ij O_ij / sum w_ij E_ij` with O the observed joint
 * proportions and E the product of the two raters' marginals (unweighted: `(p_o - p_e)
 * / (1 - p_e)`).
 *
 * Policies: NaN, null or mismatched lengths throw `StatisticsInputError`; at least one
 * item. If the expected disagreement is 0 (both raters gave one and the same label to
 * everything) kappa is undefined: NaN, as in scikit-learn.
 * @example cohenKappa([1, 2, 3, 3], [1, 2, 3, 2]) // => 0.6363636363636364
 */
export function cohenKappa(a: readonly Label[], b: readonly Label[], options: CohenKappaOptions = {}): number {
  if (!Array.isArray(a)) fail('a', 'an array of labels', a);
  if (!Array.isArray(b)) fail('b', 'an array of labels', b);
  assertSameLength('a', a, 'b', b);
  if (a.length === 0) fail('a', 'a non-empty array', 'empty');
  a.forEach((v, i) => checkLabel(v, `a[${i}]`));
  b.forEach((v, i) => checkLabel(v, `b[${i}]`));
  const weights = options.weights ?? 'none';
  if (weights !== 'none' && weights !== 'linear' && weights !== 'quadratic') {
    fail('options.weights', "'none', 'linear' or 'quadratic'", weights);
  }
  let categories: Label[];
  if (options.categories !== undefined) {
    categories = [...options.categories];
    categories.forEach((v, i) => checkLabel(v, `options.categories[${i}]`));
    if (new Set(categories).size !== categories.length) fail('options.categories', 'distinct labels', categories);
  } else {
    categories = [...new Set<Label>([...a, ...b])];
    const numeric = categories.every((v) => typeof v === 'number');
    if (numeric) categories.sort((x, y) => (x as number) - (y as number));
    else if (weights !== 'none') fail('options.categories', 'given when labels are not all numbers and weights are used', 'undefined');
  }
  const position = new Map<Label, number>(categories.map((v, i) => [v, i]));
  const k = categories.length;
  const n = a.length;
  const observed = new Float64Array(k * k);
  const rowMargin = new Float64Array(k);
  const colMargin = new Float64Array(k);
  for (let t = 0; t < n; t++) {
    const i = position.get(a[t] as Label);
    const j = position.get(b[t] as Label);
    if (i === undefined) fail(`a[${t}]`, 'one of `options.categories`', a[t]);
    if (j === undefined) fail(`b[${t}]`, 'one of `options.categories`', b[t]);
    observed[i * k + j] = (observed[i * k + j] as number) + 1 / n;
    rowMargin[i] = (rowMargin[i] as number) + 1 / n;
    colMargin[j] = (colMargin[j] as number) + 1 / n;
  }
  let disagreeObserved = 0;
  let disagreeExpected = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      if (i === j) continue;
      const w = weights === 'none' ? 1 : weights === 'linear' ? Math.abs(i - j) : (i - j) ** 2;
      disagreeObserved += w * (observed[i * k + j] as number);
      disagreeExpected += w * (rowMargin[i] as number) * (colMargin[j] as number);
    }
  }
  if (disagreeExpected === 0) return NaN;
  return 1 - disagreeObserved / disagreeExpected;
}
