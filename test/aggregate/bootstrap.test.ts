import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bootstrapCI, bradleyTerry, srcc, StatisticsInputError, type Comparison } from '../../src/aggregate/index.js';
import { CLOSED_FORM, expectClose, frozen, loadFixture, propertyOptions } from './_support.js';

interface BootstrapCase {
  statistic: 'spearman' | 'mean-of-x';
  x: number[];
  y: number[];
  seed: number;
  rounds: number;
  level: number;
  estimate: number;
  lower: number;
  upper: number;
  firstResample: number[];
}
const fixture = loadFixture<{ cases: BootstrapCase[] }>('bootstrap.json');

const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

describe('bootstrapCI against NumPy percentiles of the same resampling stream (1e-9)', () => {
  for (const c of fixture.cases) {
    it(`${c.statistic}, seed ${c.seed}, ${c.rounds} rounds, level ${c.level}`, () => {
      const units = frozen(c.x.map((_, i) => i));
      const seen: number[][] = [];
      const statistic = (sample: readonly number[]): number => {
        seen.push([...sample]);
        const xs = sample.map((i) => c.x[i]!);
        return c.statistic === 'spearman' ? srcc(xs, sample.map((i) => c.y[i]!)) : mean(xs);
      };
      const result = bootstrapCI(statistic, units, { rounds: c.rounds, level: c.level, seed: c.seed });
      expect(seen[1]).toEqual(c.firstResample); // seen[0] is the original data
      expectClose(result.estimate, c.estimate, CLOSED_FORM, 'estimate');
      expectClose(result.lower, c.lower, CLOSED_FORM, 'lower');
      expectClose(result.upper, c.upper, CLOSED_FORM, 'upper');
      expect(result.valid).toBe(c.rounds);
    });
  }
});

describe('bootstrapCI behaviour', () => {
  const pairs = frozen(fixture.cases[0]!.x.map((v, i) => [v, fixture.cases[0]!.y[i]!] as const));
  const spearman = (s: readonly (readonly [number, number])[]): number => srcc(s.map((p) => p[0]), s.map((p) => p[1]));

  it('is reproducible: same seed, same interval; another seed, another interval', () => {
    const a = bootstrapCI(spearman, pairs, { rounds: 200, seed: 3 });
    const b = bootstrapCI(spearman, pairs, { rounds: 200, seed: 3 });
    const c = bootstrapCI(spearman, pairs, { rounds: 200, seed: 4 });
    expect(b).toEqual(a);
    expect([c.lower, c.upper]).not.toEqual([a.lower, a.upper]);
  });

  it('returns per-coordinate intervals for vector statistics (Bradley-Terry scores)', () => {
    const items = ['a', 'b', 'c', 'd'];
    const comparisons: Comparison[] = [];
    for (let k = 0; k < 120; k++) {
      const i = k % 4;
      const j = (k * 7 + 1) % 4;
      if (i === j) continue;
      comparisons.push({ a: items[i]!, b: items[j]!, outcome: (k * 13) % 10 < 3 + 2 * (i - j) ? 1 : 0 });
    }
    const result = bootstrapCI((s) => bradleyTerry(s, { items, prior: { sigma: 5 }, standardErrors: false }).scores, comparisons, {
      rounds: 100,
      seed: 1,
      keepSamples: true,
    });
    expect(result.estimate).toHaveLength(4);
    expect(result.lower).toHaveLength(4);
    expect(result.samples).toHaveLength(100);
    expect(result.valid).toEqual([100, 100, 100, 100]);
    for (let k = 0; k < 4; k++) expect(result.lower[k]!).toBeLessThanOrEqual(result.upper[k]!);
  });

  it('leaves NaN replicates out and counts them', () => {
    // Three points: some resamples repeat one pair, making SRCC undefined.
    const few = [[1, 2], [2, 1], [3, 3]] as const;
    const result = bootstrapCI((s) => srcc(s.map((p) => p[0]), s.map((p) => p[1])), few, { rounds: 300, seed: 2 });
    expect(result.valid).toBeLessThan(300);
    expect(result.valid).toBeGreaterThan(0);
    expect(Number.isFinite(result.lower) && Number.isFinite(result.upper)).toBe(true);
    const none = bootstrapCI(() => NaN, [1, 2, 3], { rounds: 10 });
    expect(none.valid).toBe(0);
    expect(none.lower).toBeNaN();
  });

  it('the interval of a mean contains the estimate (property over random data)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 60 }), fc.nat(1000), (data, seed) => {
        const result = bootstrapCI(mean, data, { rounds: 200, seed });
        expect(result.lower).toBeLessThanOrEqual(result.estimate + 1e-9 * Math.abs(result.estimate));
        expect(result.upper).toBeGreaterThanOrEqual(result.estimate - 1e-9 * Math.abs(result.estimate));
      }),
      propertyOptions(60),
    );
  });

  it('validates its arguments', () => {
    expect(() => bootstrapCI(mean, [], {})).toThrow('Expected `data` to be a non-empty array');
    expect(() => bootstrapCI(mean, [1, 2], { rounds: 0 })).toThrow('Expected `options.rounds` to be an integer >= 1, got `0`');
    expect(() => bootstrapCI(mean, [1, 2], { level: 1 })).toThrow(StatisticsInputError);
    expect(() => bootstrapCI(mean, [1, 2], { seed: 0.5 })).toThrow(StatisticsInputError);
    let calls = 0;
    const shapeShifter = (): number[] => (calls++ === 0 ? [1, 2] : [1]);
    expect(() => bootstrapCI(shapeShifter, [1, 2, 3], { rounds: 5 })).toThrow('same shape');
  });
});
