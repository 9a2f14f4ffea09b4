import { describe, expect, it } from 'vitest';
import { createRandom, StatisticsInputError } from '../../src/aggregate/index.js';
import { loadFixture } from './_support.js';

interface RandomFixture {
  cases: { seed: number; uint32: number[] }[];
}
const fixture = loadFixture<RandomFixture>('random.json');

describe('createRandom (xoshiro128** seeded by splitmix32)', () => {
  it('matches an independent Python implementation bit for bit', () => {
    for (const c of fixture.cases) {
      const random = createRandom(c.seed);
      expect(c.uint32.map(() => random.nextUint32()), `seed ${c.seed}`).toEqual(c.uint32);
    }
  });

  it('is reproducible and seed-dependent', () => {
    const a = createRandom(7);
    const b = createRandom(7);
    const c = createRandom(8);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(xs);
  });

  it('draws integers in range with roughly equal frequencies', () => {
    const random = createRandom(3);
    const counts = new Array<number>(7).fill(0);
    const draws = 70_000;
    let outOfRange = 0;
    for (let i = 0; i < draws; i++) {
      const k = random.integer(7);
      if (!(Number.isInteger(k) && k >= 0 && k < 7)) outOfRange++;
      else counts[k]!++;
    }
    expect(outOfRange).toBe(0);
    // Chi-square with 6 degrees of freedom: 22.5 is its 99.9% point.
    const chi2 = counts.reduce((s, c) => s + (c - draws / 7) ** 2 / (draws / 7), 0);
    expect(chi2).toBeLessThan(22.5);
  });

  it('draws standard normals with mean 0 and variance 1', () => {
    const random = createRandom(11);
    const n = 40_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = random.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it('rejects non-integer seeds', () => {
    expect(() => createRandom(1.5)).toThrow(StatisticsInputError);
  });
});
