/**
 * Fleiss' kappa for many raters (Fleiss 1971).
 */
import { fail } from './_validate.js';

/**
 * Fleiss' kappa `(P_bar - P_e) / (1 - P_e)` from a subjects x categories table of
 * counts: `counts[i][j]` raters put subject i in category j, every row summing to the
 * same number of raters n >= 2. `P_i = (sum_j n_ij^2 - n) / (n (n - 1))`,
 * `P_e = sum_j p_j^2` with p_j the overall share of category j
 * (`statsmodels.stats.inter_rater.fleiss_kappa`).
 *
 * Policies: counts must be non-negative integers; unequal row sums, fewer than 2 raters,
 * ragged rows or an empty table throw `StatisticsInputError`. If every rating falls in
 * one category (`P_e = 1`) kappa is undefined: NaN.
 * @example fleissKappa([[3, 0], [0, 3], [2, 1]]) // => 0.55
 */
export function fleissKappa(counts: readonly (readonly number[])[]): number {
  if (!Array.isArray(counts) || counts.length === 0) fail('counts', 'a non-empty subjects x categories table', counts);
  const k = (counts[0] as readonly number[]).length;
  if (k < 1) fail('counts[0]', 'a non-empty row', counts[0]);
  let raters = -1;
  const totals = new Float64Array(k);
  let agreement = 0;
  counts.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== k) fail(`counts[${i}]`, `a row of ${k} counts`, row);
    let sum = 0;
    let squares = 0;
    row.forEach((v, j) => {
      if (!Number.isInteger(v) || v < 0) fail(`counts[${i}][${j}]`, 'an integer >= 0', v);
      sum += v;
      squares += v * v;
      totals[j] = (totals[j] as number) + v;
    });
    if (raters === -1) {
      raters = sum;
      if (raters < 2) fail(`counts[${i}]`, 'a row summing to at least 2 raters', sum);
    } else if (sum !== raters) fail(`counts[${i}]`, `a row summing to ${raters} raters like the first`, sum);
    agreement += (squares - raters) / (raters * (raters - 1));
  });
  const subjects = counts.length;
  const pBar = agreement / subjects;
  let pe = 0;
  for (let j = 0; j < k; j++) pe += ((totals[j] as number) / (subjects * raters)) ** 2;
  if (pe === 1) return NaN;
  return (pBar - pe) / (1 - pe);
}
