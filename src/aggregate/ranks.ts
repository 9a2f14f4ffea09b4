import { assertFiniteArray } from './_validate.js';

/**
 * Ranks from 1 to n, ties given the average of the ranks they span ("fractional" or
 * "average" ranking, as `scipy.stats.rankdata(method='average')`).
 *
 * NaN or infinite entries throw `StatisticsInputError` (no silent ordering of NaN).
 * @example ranks([10, 20, 20, 5]) // => [2, 3.5, 3.5, 1]
 */
export function ranks(x: readonly number[]): number[] {
  assertFiniteArray('x', x);
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i);
  const v = x as readonly number[];
  order.sort((i, j) => (v[i] as number) - (v[j] as number) || i - j);
  const result = new Array<number>(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    const value = v[order[start] as number] as number;
    while (end < n && v[order[end] as number] === value) end++;
    // Positions start..end-1 hold ranks start+1..end; their average is (start+1+end)/2.
    const average = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) result[order[k] as number] = average;
    start = end;
  }
  return result;
}
