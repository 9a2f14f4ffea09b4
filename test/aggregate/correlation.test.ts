import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { krcc, plcc, ranks, rmse, srcc, StatisticsInputError } from '../../src/aggregate/index.js';
import { CLOSED_FORM, expectClose, frozen, loadFixture, propertyOptions } from './_support.js';

interface CorrelationCase {
  name: string;
  x: number[];
  y: number[];
  srcc: number;
  krcc: number;
  plcc: number;
  rmse: number;
}
const fixture = loadFixture<{ cases: CorrelationCase[] }>('correlation.json');

describe('correlations against SciPy (1e-9)', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const x = frozen(c.x);
      const y = frozen(c.y);
      expectClose(srcc(x, y), c.srcc, CLOSED_FORM, 'srcc');
      expectClose(krcc(x, y), c.krcc, CLOSED_FORM, 'krcc');
      expectClose(plcc(x, y), c.plcc, CLOSED_FORM, 'plcc');
      expectClose(rmse(x, y), c.rmse, CLOSED_FORM, 'rmse');
    });
  }
});

describe('ranks', () => {
  it('gives ties the average rank', () => {
    expect(ranks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
    expect(ranks([3, 3, 3])).toEqual([2, 2, 2]);
  });
});

describe('correlation properties', () => {
  const sample = fc
    .array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -1000, max: 1000 })), {
      minLength: 3,
      maxLength: 40,
    })
    .filter((pairs) => new Set(pairs.map((p) => p[0])).size > 1 && new Set(pairs.map((p) => p[1])).size > 1);

  it('SRCC and KRCC are unchanged by strictly increasing transforms of either variable', () => {
    fc.assert(
      fc.property(sample, (pairs) => {
        const x = pairs.map((p) => p[0]);
        const y = pairs.map((p) => p[1]);
        const fx = x.map((v) => Math.exp(v / 10) + 3 * v);
        const fy = y.map((v) => v * v * v + v - 2);
        // Ranks are identical, so the results are exactly equal, not just close.
        expect(srcc(fx, fy)).toBe(srcc(x, y));
        expect(krcc(fx, fy)).toBe(krcc(x, y));
      }),
      propertyOptions(200),
    );
  });

  it('a decreasing transform of one variable flips the sign', () => {
    fc.assert(
      fc.property(sample, (pairs) => {
        const x = pairs.map((p) => p[0]);
        const y = pairs.map((p) => p[1]);
        const negY = y.map((v) => -v * v * v);
        expect(srcc(x, negY)).toBeCloseTo(-srcc(x, y), 12);
        expect(krcc(x, negY)).toBeCloseTo(-krcc(x, y), 12);
      }),
      propertyOptions(200),
    );
  });

  it('all three are symmetric in x and y and lie in [-1, 1]', () => {
    fc.assert(
      fc.property(sample, (pairs) => {
        const x = pairs.map((p) => p[0]);
        const y = pairs.map((p) => p[1]);
        for (const f of [srcc, krcc, plcc]) {
          const r = f(x, y);
          expect(r).toBeGreaterThanOrEqual(-1);
          expect(r).toBeLessThanOrEqual(1);
          expect(f(y, x)).toBeCloseTo(r, 12);
        }
      }),
      propertyOptions(200),
    );
  });

  it('KRCC agrees with the O(n^2) definition of tau-b', () => {
    fc.assert(
      fc.property(sample, (pairs) => {
        const n = pairs.length;
        let s = 0;
        let tx = 0;
        let ty = 0;
        for (let i = 0; i < n; i++) {
          for (let j = i + 1; j < n; j++) {
            const dx = Math.sign(pairs[i]![0] - pairs[j]![0]);
            const dy = Math.sign(pairs[i]![1] - pairs[j]![1]);
            s += dx * dy;
            if (dx !== 0) tx++;
            if (dy !== 0) ty++;
          }
        }
        const x = pairs.map((p) => p[0]);
        const y = pairs.map((p) => p[1]);
        expect(krcc(x, y)).toBeCloseTo(s / Math.sqrt(tx * ty), 12);
      }),
      propertyOptions(200),
    );
  });
});

describe('rank statistics on larger samples (radix sort, merge passes)', () => {
  /** tau-b by its O(n^2) definition. */
  function tauB(x: number[], y: number[]): number {
    let s = 0;
    let tx = 0;
    let ty = 0;
    for (let i = 0; i < x.length; i++) {
      for (let j = i + 1; j < x.length; j++) {
        const dx = Math.sign(x[i]! - x[j]!);
        const dy = Math.sign(y[i]! - y[j]!);
        s += dx * dy;
        if (dx !== 0) tx++;
        if (dy !== 0) ty++;
      }
    }
    return s / Math.sqrt(tx * ty);
  }

  it('KRCC matches the definition with ties, signed zeros and mixed magnitudes', () => {
    // A small LCG keeps the inputs fixed without depending on the library's generator.
    let state = 12345;
    const next = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    const pool = [-1e300, -3.5, -1, -0, 0, 1e-300, 2, 2.5, 7, 1e300];
    for (const n of [33, 257, 1500]) {
      const x = Array.from({ length: n }, () => (next() < 0.5 ? pool[Math.floor(next() * pool.length)]! : next() * 20 - 10));
      const y = x.map((v) => (next() < 0.3 ? pool[Math.floor(next() * pool.length)]! : Math.round(v + next() * 4)));
      expect(krcc(Object.freeze(x), Object.freeze(y))).toBeCloseTo(tauB(x, y), 12);
    }
  });

  it('ranks treat -0 and 0 as one tied value', () => {
    expect(ranks([0, -0, -1, 1, -0])).toEqual([3, 3, 1, 5, 3]);
  });
});

describe('correlation degenerate-input policy', () => {
  it('constant x or y gives NaN (correlation undefined), as SciPy does', () => {
    for (const f of [srcc, krcc, plcc]) {
      expect(f([2, 2, 2, 2], [1, 2, 3, 4])).toBeNaN();
      expect(f([1, 2, 3, 4], [5, 5, 5, 5])).toBeNaN();
    }
    expect(plcc([2, 2, 2, 2, 2], [1, 2, 3, 4, 5], { fit: 'logistic4' })).toBeNaN();
    // A constant that is not exactly representable must not leak rounding noise.
    expect(plcc([0.1, 0.1, 0.1], [1, 2, 3])).toBeNaN();
  });

  it('RMSE of identical vectors is 0 and of a constant shift is the shift', () => {
    expect(rmse([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(rmse([1, 2, 3], [3, 4, 5])).toBe(2);
  });

  it('length mismatch throws', () => {
    for (const f of [srcc, krcc, plcc, rmse]) {
      expect(() => f([1, 2, 3], [1, 2])).toThrow(StatisticsInputError);
    }
    expect(() => srcc([1, 2, 3], [1, 2])).toThrow('Expected `y` to be an array of the same length as `x` (3), got `length 2`');
  });

  it('NaN and Infinity throw, naming the position', () => {
    for (const f of [srcc, krcc, plcc, rmse]) {
      expect(() => f([1, NaN, 3], [1, 2, 3])).toThrow('Expected `x[1]` to be a finite number');
      expect(() => f([1, 2, 3], [1, 2, Infinity])).toThrow('Expected `y[2]` to be a finite number');
    }
  });

  it('fewer points than the statistic needs throw', () => {
    for (const f of [srcc, krcc, plcc]) expect(() => f([1], [2])).toThrow(StatisticsInputError);
    expect(() => rmse([], [])).toThrow(StatisticsInputError);
    expect(() => plcc([1, 2, 3], [1, 2, 4], { fit: 'logistic4' })).toThrow('at least 4 numbers');
  });
});
