import { describe, expect, it } from 'vitest';
import {
  bradleyTerry,
  bradleyTerryIntervals,
  canonicalComparisons,
  createRandom,
  normalQuantile,
  pairDifferencePosterior,
  StatisticsInputError,
  wilsonInterval,
  type Comparison,
} from '../../src/aggregate/index.js';
import { CLOSED_FORM, expectClose, FITTED, frozen, loadFixture } from './_support.js';

interface WilsonCase {
  successes: number;
  trials: number;
  level: number;
  lower: number;
  upper: number;
}
interface DifferenceCase {
  outcomes: number[];
  sigma: number;
  level: number;
  estimate: number;
  lower: number;
  upper: number;
  standardError: number;
}
const fixture = loadFixture<{ wilson: WilsonCase[]; pairDifference: DifferenceCase[] }>('intervals.json');

describe('wilsonInterval against statsmodels proportion_confint (1e-9)', () => {
  for (const c of fixture.wilson) {
    it(`${c.successes}/${c.trials} at ${c.level}`, () => {
      const w = wilsonInterval(c.successes, c.trials, { level: c.level });
      expect(w.estimate).toBe(c.successes / c.trials);
      expectClose(w.lower, c.lower, CLOSED_FORM, 'lower');
      expectClose(w.upper, c.upper, CLOSED_FORM, 'upper');
    });
  }
  it('4 wins out of 4 is not [1, 1]; the bounds stay in [0, 1] around the estimate', () => {
    const w = wilsonInterval(4, 4);
    expect(w.upper).toBe(1);
    expect(w.lower).toBeCloseTo(0.5101, 4);
    expect(wilsonInterval(0, 3).lower).toBe(0);
  });
  it('rejects impossible counts naming the argument', () => {
    expect(() => wilsonInterval(5, 4)).toThrow('Expected `successes` to be a number in [0, trials] = [0, 4], got `5`');
    expect(() => wilsonInterval(1, 0)).toThrow('Expected `trials` to be a finite number > 0, got `0`');
    expect(() => wilsonInterval(NaN, 3)).toThrow(StatisticsInputError);
    expect(() => wilsonInterval(1, 3, { level: 1 })).toThrow('Expected `options.level` to be a number in (0, 1), got `1`');
  });
});

describe('pairDifferencePosterior against SciPy quadrature (1e-8)', () => {
  for (const [k, c] of fixture.pairDifference.entries()) {
    it(`case ${k}: ${c.outcomes.length} outcomes, sigma ${c.sigma}, level ${c.level}`, () => {
      const d = pairDifferencePosterior(frozen(c.outcomes), { sigma: c.sigma, level: c.level });
      expectClose(d.estimate, c.estimate, FITTED, 'estimate');
      expectClose(d.lower, c.lower, 1e-8, 'lower');
      expectClose(d.upper, c.upper, 1e-8, 'upper');
      expectClose(d.standardError, c.standardError, FITTED, 'standardError');
      expect(d.n).toBe(c.outcomes.length);
    });
  }
  it('is the MAP of the two-item Bradley-Terry fit with the same prior', () => {
    const outcomes = [1, 0.75, 0.5, 1, 0];
    const fit = bradleyTerry(outcomes.map((y) => ({ a: 'first', b: 'second', outcome: y })), { prior: { sigma: 3 } });
    const d = pairDifferencePosterior(outcomes, { sigma: 3 });
    expect(d.estimate).toBeCloseTo(fit.scores[0]! - fit.scores[1]!, 9);
  });
  it('does not depend on the order of the outcomes, to the last bit', () => {
    const random = createRandom(3);
    const outcomes = Array.from({ length: 25 }, () => random.uniform());
    const reversed = [...outcomes].reverse();
    expect(pairDifferencePosterior(reversed)).toEqual(pairDifferencePosterior(outcomes));
  });
  it('rejects outcomes outside [0, 1] naming the position', () => {
    expect(() => pairDifferencePosterior([0.5, 1.5])).toThrow('Expected `outcomes[1]` to be a probability in [0, 1], got `1.5`');
    expect(() => pairDifferencePosterior([0.5], { sigma: 0 })).toThrow('Expected `options.sigma` to be a finite number > 0');
  });
});

describe('bradleyTerryIntervals', () => {
  const random = createRandom(17);
  const items = ['a', 'b', 'c', 'd', 'e'];
  const comparisons: Comparison[] = Array.from({ length: 14 }, () => {
    const i = random.integer(5);
    let j = random.integer(4);
    if (j >= i) j++;
    return { a: items[i]!, b: items[j]!, outcome: [0, 0.25, 0.5, 1][random.integer(4)]! };
  });

  it('gives the same scores and intervals, to the last bit, for the comparisons in any order', () => {
    const options = { items, prior: { sigma: 2 }, rounds: 100, seed: 5 };
    const reference = bradleyTerryIntervals(frozen(comparisons), options);
    for (let k = 0; k < 5; k++) {
      const shuffled = [...comparisons];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = random.integer(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      expect(bradleyTerryIntervals(shuffled, options)).toEqual(reference);
    }
    expect(canonicalComparisons([...comparisons].reverse())).toEqual(canonicalComparisons(comparisons));
  });

  it('is the hull of the percentile bootstrap and the posterior interval score +- 1.96 SE', () => {
    const r = bradleyTerryIntervals(comparisons, { items, prior: { sigma: 2 }, rounds: 100 });
    const fit = bradleyTerry(canonicalComparisons(comparisons), { items, prior: { sigma: 2 } });
    items.forEach((_, k) => {
      expect(r.scores[k]).toBe(fit.scores[k]);
      expect(r.standardErrors[k]).toBe(fit.standardErrors![k]);
      const z = normalQuantile(0.975);
      expect(r.lower[k]).toBe(Math.min(r.bootstrap.lower[k]!, r.scores[k]! - z * r.standardErrors[k]!));
      expect(r.upper[k]).toBe(Math.max(r.bootstrap.upper[k]!, r.scores[k]! + z * r.standardErrors[k]!));
    });
    expect(r.comparisons.reduce((s, v) => s + v, 0)).toBe(2 * comparisons.length);
  });

  it('an item that won all of its 3 comparisons gets a wide interval, not the bootstrap\'s single point', () => {
    const three: Comparison[] = [1, 2, 3].map(() => ({ a: 'x', b: 'y', outcome: 1 }));
    const r = bradleyTerryIntervals(three, { items: ['x', 'y', 'never'], prior: { sigma: 2 }, rounds: 200 });
    // Every resample is the same three wins: the bootstrap collapses to the estimate.
    expect(r.bootstrap.upper[0]! - r.bootstrap.lower[0]!).toBeLessThan(1e-12);
    expect(r.upper[0]! - r.lower[0]!).toBeGreaterThan(3);
    expect(r.lower[0]).toBeLessThan(r.scores[0]!);
    expect(r.comparisons).toEqual([3, 3, 0]);
    // An item never compared keeps the prior (0, +-1.96 sigma): the caller decides it is not ranked.
    expect(r.scores[2]).toBeCloseTo(0, 12);
    expect(r.upper[2]).toBeCloseTo(normalQuantile(0.975) * 2, 9);
  });

  it('requires items and a prior', () => {
    expect(() => bradleyTerryIntervals([], { items: [], prior: { sigma: 2 } })).toThrow('Expected `options.items` to be a non-empty array of item ids');
    expect(() => bradleyTerryIntervals([], { items: ['a'], prior: { sigma: -1 } })).toThrow('Expected `options.prior.sigma` to be a finite number > 0');
  });
});
