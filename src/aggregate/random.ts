/**
 * A small seeded pseudo-random generator, so that bootstrap intervals and simulations
 * are reproducible: the same seed gives the same stream on every platform.
 *
 * xoshiro128** 1.1 (Blackman and Vigna, "Scrambled linear pseudorandom number
 * generators", 2018), state seeded from a 32-bit integer through splitmix32. Period
 * 2^128 - 1; fine for resampling and simulation, not for cryptography.
 */
import { fail } from './_validate.js';

export interface Random {
  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform double in [0, 1) with 53 random bits. */
  uniform(): number;
  /** Uniform integer in [0, n), without modulo bias (Lemire-style rejection). */
  integer(n: number): number;
  /** Standard normal draw (Box-Muller, both values used). */
  normal(): number;
}

/**
 * Creates a seeded generator. Any safe integer is a valid seed; generators with
 * different seeds give independent-looking streams.
 * @example createRandom(42).integer(10) // => 4
 */
export function createRandom(seed: number): Random {
  if (!Number.isSafeInteger(seed)) fail('seed', 'a safe integer', seed);
  // splitmix32 over the low and high 32-bit words of the seed.
  let sm = (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) >>> 0, 0x9e3779b9);
  const splitmix = (): number => {
    sm = (sm + 0x9e3779b9) >>> 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let s0 = splitmix();
  let s1 = splitmix();
  let s2 = splitmix();
  let s3 = splitmix();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1; // the all-zero state is a fixed point

  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s2 = (s2 ^ s0) >>> 0;
    s3 = (s3 ^ s1) >>> 0;
    s1 = (s1 ^ s2) >>> 0;
    s0 = (s0 ^ s3) >>> 0;
    s2 = (s2 ^ t) >>> 0;
    s3 = rotl(s3, 11);
    return result;
  };

  const uniform = (): number => {
    const hi = nextUint32() >>> 5; // 27 bits
    const lo = nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  };

  const integer = (n: number): number => {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) fail('n', 'an integer in [1, 2^32]', n);
    if (n === 1) return 0;
    // Reject the top partial block of the 2^32 range so that every residue is equally likely.
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const r = nextUint32();
      if (r < limit) return r % n;
    }
  };

  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };

  return { nextUint32, uniform, integer, normal };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
