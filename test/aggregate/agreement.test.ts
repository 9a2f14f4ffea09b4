import { describe, expect, it } from 'vitest';
import { cohenKappa, fleissKappa, krippendorffAlpha, StatisticsInputError, type Label, type RatingValue } from '../../src/aggregate/index.js';
import { CLOSED_FORM, expectClose, frozen, loadFixture } from './_support.js';

interface AgreementFixture {
  cohen: { name: string; a: Label[]; b: Label[]; categories?: Label[]; none: number; linear?: number; quadratic?: number }[];
  fleiss: { name: string; counts: number[][]; kappa: number }[];
  krippendorff: {
    name: string;
    data: RatingValue[][];
    published?: Record<string, number>;
    nominal?: number;
    ordinal?: number;
    interval?: number;
  }[];
}
const fixture = loadFixture<AgreementFixture>('agreement.json');

describe('cohenKappa against statsmodels (1e-9)', () => {
  for (const c of fixture.cohen) {
    it(c.name, () => {
      const options = c.categories === undefined ? {} : { categories: frozen(c.categories) };
      const a = frozen(c.a);
      const b = frozen(c.b);
      expectClose(cohenKappa(a, b, options), c.none, CLOSED_FORM, 'unweighted');
      if (c.linear !== undefined) expectClose(cohenKappa(a, b, { ...options, weights: 'linear' }), c.linear, CLOSED_FORM, 'linear');
      if (c.quadratic !== undefined) {
        expectClose(cohenKappa(a, b, { ...options, weights: 'quadratic' }), c.quadratic, CLOSED_FORM, 'quadratic');
      }
    });
  }

  it('policies: NaN when both raters give one same label; errors for bad input', () => {
    expect(cohenKappa(['x', 'x'], ['x', 'x'])).toBeNaN();
    expect(cohenKappa([1, 2, 1], [1, 2, 1])).toBe(1);
    expect(() => cohenKappa([1, 2], [1])).toThrow(StatisticsInputError);
    expect(() => cohenKappa([1, NaN], [1, 2])).toThrow('Expected `a[1]` to be a string or a finite number');
    expect(() => cohenKappa(['a', 'b'], ['a', 'a'], { weights: 'linear' })).toThrow('Expected `options.categories` to be given');
    expect(() => cohenKappa([1, 7], [1, 2], { categories: [1, 2, 3] })).toThrow('Expected `a[1]` to be one of `options.categories`');
    expect(() => cohenKappa([], [])).toThrow(StatisticsInputError);
  });
});

describe('fleissKappa against statsmodels (1e-9)', () => {
  for (const c of fixture.fleiss) {
    it(c.name, () => expectClose(fleissKappa(frozen(c.counts)), c.kappa, CLOSED_FORM, 'kappa'));
  }

  it('policies: NaN when all ratings are in one category; errors for unequal raters', () => {
    expect(fleissKappa([[3, 0], [3, 0]])).toBeNaN();
    expect(() => fleissKappa([[3, 0], [2, 0]])).toThrow('Expected `counts[1]` to be a row summing to 3 raters like the first, got `2`');
    expect(() => fleissKappa([[1, 0]])).toThrow('at least 2 raters');
    expect(() => fleissKappa([[1.5, 0.5]])).toThrow(StatisticsInputError);
    expect(() => fleissKappa([])).toThrow(StatisticsInputError);
  });
});

describe('krippendorffAlpha against an independent NumPy implementation (1e-9)', () => {
  for (const c of fixture.krippendorff) {
    it(c.name, () => {
      const data = frozen(c.data);
      for (const level of ['nominal', 'ordinal', 'interval'] as const) {
        const expected = c[level];
        if (expected !== undefined) expectClose(krippendorffAlpha(data, { level }), expected, CLOSED_FORM, level);
      }
    });
  }

  it("reproduces Krippendorff's published example (2011): nominal .743, ordinal .815, interval .849", () => {
    const example = fixture.krippendorff.find((c) => c.published !== undefined)!;
    expect(krippendorffAlpha(example.data, { level: 'nominal' })).toBeCloseTo(0.743, 3);
    expect(krippendorffAlpha(example.data, { level: 'ordinal' })).toBeCloseTo(0.815, 3);
    expect(krippendorffAlpha(example.data, { level: 'interval' })).toBeCloseTo(0.849, 3);
  });

  it('treats null, undefined and NaN as missing alike', () => {
    const withNull = [[1, 2, 3, null], [1, 2, 2, 4]];
    const withNaN = [[1, 2, 3, NaN], [1, 2, 2, 4]];
    const withUndefined = [[1, 2, 3, undefined], [1, 2, 2, 4]];
    const expected = krippendorffAlpha(withNull, { level: 'interval' });
    expect(krippendorffAlpha(withNaN, { level: 'interval' })).toBe(expected);
    expect(krippendorffAlpha(withUndefined, { level: 'interval' })).toBe(expected);
  });

  it('policies: NaN when every value is the same; errors for strings at interval level and ragged rows', () => {
    expect(krippendorffAlpha([[2, 2, 2], [2, 2, null]])).toBeNaN();
    expect(krippendorffAlpha([[1, 2, 3], [1, 2, 3]])).toBe(1);
    expect(() => krippendorffAlpha([['a', 'b'], ['a', 'b']], { level: 'interval' })).toThrow("Expected `data[0][0]` to be a number (level 'interval')");
    expect(() => krippendorffAlpha([[1, 2], [1]])).toThrow(StatisticsInputError);
    expect(() => krippendorffAlpha([[1, null], [null, 2]])).toThrow('at least two pairable values');
    expect(() => krippendorffAlpha([[1, Infinity], [1, 2]])).toThrow(StatisticsInputError);
  });
});
