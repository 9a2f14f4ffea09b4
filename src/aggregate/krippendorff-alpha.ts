/**
 * Krippendorff's alpha (Krippendorff, "Computing Krippendorff's alpha-reliability",
 * 2011), by the coincidence matrix.
 */
import { fail } from './_validate.js';

export type RatingValue = string | number | null | undefined;

export interface KrippendorffOptions {
  /**
   * Level of measurement, which sets the difference function:
   * nominal `delta = [c != k]`; ordinal `delta^2 = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2`
   * over the ordered values; interval `delta^2 = (c - k)^2`.
   * @default 'nominal'
   */
  level?: 'nominal' | 'ordinal' | 'interval';
}

/**
 * Krippendorff's alpha `1 - (n - 1) sum o_ck delta^2_ck / sum n_c n_k delta^2_ck`.
 *
 * `data[r][u]` is rater r's value for unit u (a reliability-data matrix: one row per
 * rater, one column per unit). Missing values are `null`, `undefined` or NaN; units
 * with fewer than two values are not pairable and are skipped.
 *
 * Policies: ordinal and interval values must be numbers; ragged rows, infinite values or
 * fewer than two pairable values in all throw `StatisticsInputError`. When all pairable
 * values are equal the expected disagreement is 0 and alpha is undefined: NaN.
 * @example
 * krippendorffAlpha([[1, 2, 3, null], [1, 2, 2, 4]], { level: 'interval' }) // => 0.7058823529411764
 */
export function krippendorffAlpha(
  data: readonly (readonly RatingValue[])[],
  options: KrippendorffOptions = {},
): number {
  const level = options.level ?? 'nominal';
  if (level !== 'nominal' && level !== 'ordinal' && level !== 'interval') {
    fail('options.level', "'nominal', 'ordinal' or 'interval'", level);
  }
  if (!Array.isArray(data) || data.length === 0) fail('data', 'a non-empty raters x units matrix', data);
  const units = (data[0] as readonly RatingValue[]).length;
  data.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== units) fail(`data[${r}]`, `a row of ${units} values (one per unit)`, row);
  });

  // Distinct values and, per unit, the values present.
  const valueIndex = new Map<string | number, number>();
  const values: (string | number)[] = [];
  const perUnit: number[][] = [];
  for (let u = 0; u < units; u++) {
    const present: number[] = [];
    for (let r = 0; r < data.length; r++) {
      const v = (data[r] as readonly RatingValue[])[u];
      if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) continue;
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) fail(`data[${r}][${u}]`, 'a finite number, a string or null (missing)', v);
      } else if (typeof v !== 'string') {
        fail(`data[${r}][${u}]`, 'a finite number, a string or null (missing)', v);
      } else if (level !== 'nominal') {
        fail(`data[${r}][${u}]`, `a number (level '${level}')`, v);
      }
      let k = valueIndex.get(v);
      if (k === undefined) {
        k = values.length;
        valueIndex.set(v, k);
        values.push(v);
      }
      present.push(k);
    }
    if (present.length >= 2) perUnit.push(present);
  }
  // Order values ascending for ordinal and interval differences.
  const order = values.map((_, i) => i);
  if (level !== 'nominal') order.sort((i, j) => (values[i] as number) - (values[j] as number));
  const rankOf = new Int32Array(values.length);
  order.forEach((valueIdx, rank) => (rankOf[valueIdx] = rank));
  const sortedValues = order.map((i) => values[i] as string | number);
  const q = values.length;

  // Coincidence matrix: each ordered pair of values within a unit counts 1 / (m_u - 1).
  const o = new Float64Array(q * q);
  const counts = new Float64Array(q);
  for (const present of perUnit) {
    counts.fill(0);
    for (const k of present) counts[rankOf[k] as number] = (counts[rankOf[k] as number] as number) + 1;
    const inv = 1 / (present.length - 1);
    for (let c = 0; c < q; c++) {
      const nc = counts[c] as number;
      if (nc === 0) continue;
      for (let k = 0; k < q; k++) {
        const nk = counts[k] as number;
        if (nk === 0) continue;
        o[c * q + k] = (o[c * q + k] as number) + nc * (c === k ? nk - 1 : nk) * inv;
      }
    }
  }
  const marginal = new Float64Array(q);
  let total = 0;
  for (let c = 0; c < q; c++) {
    let s = 0;
    for (let k = 0; k < q; k++) s += o[c * q + k] as number;
    marginal[c] = s;
    total += s;
  }
  if (total < 2) fail('data', 'at least two pairable values (a unit rated by two raters)', total);

  const delta2 = (c: number, k: number): number => {
    if (c === k) return 0;
    if (level === 'nominal') return 1;
    if (level === 'interval') return ((sortedValues[c] as number) - (sortedValues[k] as number)) ** 2;
    const lo = Math.min(c, k);
    const hi = Math.max(c, k);
    let s = 0;
    for (let g = lo; g <= hi; g++) s += marginal[g] as number;
    return (s - ((marginal[c] as number) + (marginal[k] as number)) / 2) ** 2;
  };
  let observed = 0;
  let expected = 0;
  for (let c = 0; c < q; c++) {
    for (let k = 0; k < q; k++) {
      if (c === k) continue;
      const d = delta2(c, k);
      observed += (o[c * q + k] as number) * d;
      expected += (marginal[c] as number) * (marginal[k] as number) * d;
    }
  }
  if (expected === 0) return NaN;
  return 1 - ((total - 1) * observed) / expected;
}
