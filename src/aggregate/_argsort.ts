/**
 * Stable ascending argsort of finite numbers by LSD radix sort on their IEEE-754 bits
 * (four 16-bit digits; a digit every key shares is skipped). O(n), no comparator calls:
 * srcc on 1e6 points went from 954 ms to 229 ms with it (bench/stats.ts).
 * -0 and +0 sort as equal (their input order is kept), like `===`.
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Order of `values` (finite, unchecked): `values[order[0]] <= values[order[1]] <= ...`; ties keep index order. */
export function argsort(values: ArrayLike<number>): Uint32Array {
  return sortedKeys(values).order;
}

/**
 * `argsort`, with the sorted values' keys: `hi[k], lo[k]` are equal to `hi[k - 1],
 * lo[k - 1]` exactly when the k-th and (k-1)-th smallest values are equal, so ties can be
 * found by a sequential scan instead of a gather through `order`.
 */
export function sortedKeys(values: ArrayLike<number>): { order: Uint32Array; hi: Uint32Array; lo: Uint32Array } {
  const n = values.length;
  const bits = new Float64Array(n);
  for (let i = 0; i < n; i++) bits[i] = (values[i] as number) + 0; // -0 + 0 === +0
  const words = new Uint32Array(bits.buffer);
  const loAt = LITTLE_ENDIAN ? 0 : 1;
  const hiAt = 1 - loAt;
  // Map each double to an unsigned key with the same order: negatives have every bit
  // flipped, positives only the sign bit.
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  const counts = new Uint32Array(4 * 65536);
  for (let i = 0; i < n; i++) {
    const h = words[2 * i + hiAt] as number;
    const l = words[2 * i + loAt] as number;
    const negative = h >>> 31 === 1;
    const kh = (negative ? ~h : h ^ 0x80000000) >>> 0;
    const kl = (negative ? ~l : l) >>> 0;
    hi[i] = kh;
    lo[i] = kl;
    counts[kl & 0xffff]!++;
    counts[65536 + (kl >>> 16)]!++;
    counts[131072 + (kh & 0xffff)]!++;
    counts[196608 + (kh >>> 16)]!++;
  }
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let nextOrder = new Uint32Array(n);
  let nextLo = new Uint32Array(n);
  let nextHi = new Uint32Array(n);
  for (let pass = 0; pass < 4; pass++) {
    const base = pass * 65536;
    // Exclusive prefix sums; a digit shared by all keys leaves the order as it is.
    let sum = 0;
    let trivial = false;
    for (let d = 0; d < 65536; d++) {
      const c = counts[base + d] as number;
      if (c === n) trivial = true;
      counts[base + d] = sum;
      sum += c;
    }
    if (trivial) continue;
    const useHi = pass >= 2;
    const shift = pass % 2 === 0 ? 0 : 16;
    const digits = useHi ? hi : lo;
    for (let k = 0; k < n; k++) {
      const d = base + (((digits[k] as number) >>> shift) & 0xffff);
      const at = counts[d] as number;
      counts[d] = at + 1;
      nextOrder[at] = order[k] as number;
      nextHi[at] = hi[k] as number;
      nextLo[at] = lo[k] as number;
    }
    [order, nextOrder] = [nextOrder, order];
    [hi, nextHi] = [nextHi, hi];
    [lo, nextLo] = [nextLo, lo];
  }
  return { order, hi, lo };
}
