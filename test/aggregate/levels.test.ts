import { describe, expect, it } from 'vitest';
import { LEVEL_WEIGHTS, LEVELS, levelMoments, softLabels, StatisticsInputError } from '../../src/aggregate/index.js';
import { CLOSED_FORM, expectAllClose, expectClose, frozen, loadFixture } from './_support.js';

interface LevelsFixture {
  moments: { name: string; probabilities: number[]; weights?: number[]; mean: number; std: number; entropy: number; mass: number }[];
  softLabels: {
    name: string;
    mos: number[];
    std: number[];
    density: 'cdf' | 'pdf';
    range?: [number, number];
    labels: { mu: number; sigma: number; method: 'gaussian' | 'binary'; probabilities: number[]; alpha: number; beta: number }[];
  }[];
}
const fixture = loadFixture<LevelsFixture>('levels.json');

describe('levelMoments against NumPy / scipy.stats.entropy (1e-9)', () => {
  for (const c of fixture.moments) {
    it(c.name, () => {
      const m = levelMoments(frozen(c.probabilities), c.weights === undefined ? undefined : frozen(c.weights));
      expectClose(m.mean, c.mean, CLOSED_FORM, 'mean');
      expectClose(m.std, c.std, CLOSED_FORM, 'std');
      expectClose(m.entropy, c.entropy, CLOSED_FORM, 'entropy');
      expectClose(m.mass, c.mass, CLOSED_FORM, 'mass');
    });
  }

  it('reads five probabilities best first: excellent = 5 .. bad = 1', () => {
    expect(LEVELS[0]).toBe('excellent');
    expect(LEVEL_WEIGHTS).toEqual([5, 4, 3, 2, 1]);
    expect(levelMoments([1, 0, 0, 0, 0]).mean).toBe(5);
    expect(levelMoments([0, 0, 0, 0, 2]).mean).toBe(1);
  });
});

describe('levelMoments policy', () => {
  it('normalises and reports the mass the levels covered', () => {
    const m = levelMoments([0.1, 0.2, 0, 0, 0]);
    expect(m.mass).toBeCloseTo(0.3, 15);
    expect(m.mean).toBeCloseTo((0.1 * 5 + 0.2 * 4) / 0.3, 14);
  });
  it('throws on negative, NaN, zero mass and length mismatch', () => {
    expect(() => levelMoments([0.5, -0.1, 0.6, 0, 0])).toThrow('Expected `probabilities[1]` to be a number >= 0, got `-0.1`');
    expect(() => levelMoments([0.5, NaN, 0.5, 0, 0])).toThrow(StatisticsInputError);
    expect(() => levelMoments([0, 0, 0, 0, 0])).toThrow('positive sum');
    expect(() => levelMoments([0.5, 0.5])).toThrow('same length');
  });
});

describe('softLabels against an independent NumPy/SciPy implementation of methods.md 1 (1e-9)', () => {
  for (const c of fixture.softLabels) {
    it(c.name, () => {
      const options = { density: c.density, ...(c.range === undefined ? {} : { range: c.range }) };
      const labels = softLabels(frozen(c.mos), frozen(c.std), options);
      labels.forEach((label, i) => {
        const ref = c.labels[i]!;
        expect(label.method, `method of ${i}`).toBe(ref.method);
        expectClose(label.mu, ref.mu, CLOSED_FORM, `mu[${i}]`);
        expectClose(label.sigma, ref.sigma, CLOSED_FORM, `sigma[${i}]`);
        expectClose(label.alpha, ref.alpha, CLOSED_FORM, `alpha[${i}]`);
        expectClose(label.beta, ref.beta, CLOSED_FORM, `beta[${i}]`);
        expectAllClose(label.probabilities, ref.probabilities, CLOSED_FORM, `p[${i}]`);
      });
    });
  }

  it('uses both the Gaussian and the binary branch in the fixtures', () => {
    const methods = new Set(fixture.softLabels.flatMap((c) => c.labels.map((l) => l.method)));
    expect(methods).toEqual(new Set(['gaussian', 'binary']));
  });
});

describe('softLabels policy', () => {
  it('has mean mu on the Gaussian branch when nothing is clipped', () => {
    const [label] = softLabels([3.2], [0.9], { range: [1, 5] });
    expect(label!.method).toBe('gaussian');
    expect(levelMoments(label!.probabilities).mean).toBeCloseTo(3.2, 12);
    expect(label!.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
  });

  it('does not renormalise after clipping at 0, like the authors (sum slightly above 1)', () => {
    const [label] = softLabels([3.7], [0.6], { range: [1, 5] });
    expect(label!.method).toBe('gaussian');
    expect(label!.probabilities[4]).toBe(0);
    expect(label!.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1.0006975, 6);
  });

  it('is continuous through mu = 3 (the authors\' script jumps to uniform there)', () => {
    const at = softLabels([3], [0.5], { range: [1, 5] })[0]!.probabilities;
    const near = softLabels([3 + 1e-5], [0.5], { range: [1, 5] })[0]!.probabilities;
    expectAllClose(at, near, 1e-5, 'p');
    expect(at[2]).toBeGreaterThan(0.5);
  });

  it('splits linearly between the two levels around mu when sigma is small', () => {
    const [label] = softLabels([2.25], [0.05], { range: [1, 5] });
    expect(label!.method).toBe('binary');
    expect(label!.probabilities).toEqual([0, 0, 0.25, 0.75, 0]);
  });

  it('throws for MOS outside the range, negative std, NaN, mismatch and empty range', () => {
    expect(() => softLabels([6], [0.5], { range: [1, 5] })).toThrow('Expected `mos[0]` to be within the range [1, 5]');
    expect(() => softLabels([3], [-1], { range: [1, 5] })).toThrow(StatisticsInputError);
    expect(() => softLabels([NaN], [1])).toThrow(StatisticsInputError);
    expect(() => softLabels([1, 2], [1])).toThrow(StatisticsInputError);
    expect(() => softLabels([3, 3], [1, 1])).toThrow('max > min');
  });
});
