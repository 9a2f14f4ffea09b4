import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fidelity, StatisticsInputError, thurstoneProbability } from '../../src/aggregate/index.js';
import { CLOSED_FORM, expectClose, loadFixture, propertyOptions } from './_support.js';

interface Fixture {
  thurstoneProbability: { muA: number; varA: number; muB: number; varB: number; eps: number; p: number }[];
  fidelity: { p: number; g: number; f: number }[];
}
const fixture = loadFixture<Fixture>('pairwise.json');

describe('thurstoneProbability and fidelity against SciPy / NumPy (1e-9)', () => {
  it('thurstoneProbability', () => {
    for (const c of fixture.thurstoneProbability) {
      expectClose(thurstoneProbability(c.muA, c.varA, c.muB, c.varB, c.eps), c.p, CLOSED_FORM, JSON.stringify(c));
    }
  });
  it('fidelity', () => {
    for (const c of fixture.fidelity) expectClose(fidelity(c.p, c.g), c.f, CLOSED_FORM, `F(${c.p}, ${c.g})`);
  });
});

describe('pairwise probability properties', () => {
  const mean = fc.double({ min: -10, max: 10, noNaN: true });
  const variance = fc.double({ min: 0, max: 5, noNaN: true });
  it('P(A > B) + P(B > A) = 1 and equal means give 0.5', () => {
    fc.assert(
      fc.property(mean, variance, mean, variance, (muA, varA, muB, varB) => {
        const ab = thurstoneProbability(muA, varA, muB, varB);
        const ba = thurstoneProbability(muB, varB, muA, varA);
        expect(ab + ba).toBeCloseTo(1, 14);
        expect(thurstoneProbability(muA, varA, muA, varB)).toBe(0.5);
      }),
      propertyOptions(300),
    );
  });
  it('fidelity is in [0, 1], symmetric under (p, g) -> (1 - p, 1 - g), and 1 when p = g', () => {
    const prob = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(prob, prob, (p, g) => {
        const f = fidelity(p, g);
        expect(f).toBeGreaterThanOrEqual(0);
        expect(f).toBeLessThanOrEqual(1 + 1e-15);
        // 1 - p rounds (by up to 1.1e-16) and sqrt turns that into up to ~1.1e-8 near 0.
        expect(Math.abs(fidelity(1 - p, 1 - g) - f)).toBeLessThan(2e-8);
        expect(fidelity(p, p)).toBeCloseTo(1, 12);
      }),
      propertyOptions(300),
    );
  });
});

describe('pairwise probability policies', () => {
  it('zero spread is a step', () => {
    expect(thurstoneProbability(2, 0, 1, 0, 0)).toBe(1);
    expect(thurstoneProbability(1, 0, 2, 0, 0)).toBe(0);
    expect(thurstoneProbability(1, 0, 1, 0, 0)).toBe(0.5);
  });
  it('rejects negative variances, NaN and probabilities outside [0, 1]', () => {
    expect(() => thurstoneProbability(1, -0.1, 2, 0)).toThrow('Expected `varA` to be a finite number >= 0, got `-0.1`');
    expect(() => thurstoneProbability(NaN, 0.1, 2, 0)).toThrow(StatisticsInputError);
    expect(() => fidelity(1.2, 0)).toThrow(StatisticsInputError);
    expect(() => fidelity(0.5, NaN)).toThrow(StatisticsInputError);
  });
});
