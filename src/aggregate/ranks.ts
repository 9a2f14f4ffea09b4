import { argsort } from './_argsort.js';
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
  return Array.from(averageRanks(x, argsort(x)));
}

/** Average ranks of validated `x` given its ascending `order` (from `argsort`). */
export function averageRanks(x: ArrayLike<number>, order: Uint32Array): Float64Array {
  const n = x.length;
  const result = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    const value = x[order[start] as number] as number;
    while (end < n && x[order[end] as number] === value) end++;
    // Positions start..end-1 hold ranks start+1..end; their average is (start+1+end)/2.
    const average = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) result[order[k] as number] = average;
    start = end;
  }
  return result;
}
