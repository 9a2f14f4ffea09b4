import { describe, expect, it } from 'vitest';
import { erf, erfc, erfcx, logNormalCdf, normalCdf, normalPdf, normalQuantile, StatisticsInputError } from '../../src/aggregate/index.js';
import { inverseMillsRatio } from '../../src/aggregate/normal.js';
import { loadFixture } from './_support.js';

interface NormalFixture {
  cdf: { x: number; cdf: number; logcdf: number; pdf: number; mills: number }[];
  erf: { x: number; erf: number; erfc?: number; erfcx?: number }[];
  quantile: { p: number; x: number }[];
}
const fixture = loadFixture<NormalFixture>('normal.json');

/** A few ulps: the functions are meant to be accurate to near machine precision. */
const ULPS = 2e-15;
function expectRelative(actual: number, expected: number, label: string): void {
  const err = expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
  expect(err, `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(ULPS);
}

describe('normal distribution against mpmath (60 digits), relative error <= 2e-15', () => {
  it('Phi, log Phi, phi and the inverse Mills ratio, from x = -45 to 40', () => {
    for (const c of fixture.cdf) {
      expectRelative(normalCdf(c.x), c.cdf, `Phi(${c.x})`);
      expectRelative(logNormalCdf(c.x), c.logcdf, `log Phi(${c.x})`);
      expectRelative(normalPdf(c.x), c.pdf, `phi(${c.x})`);
      expectRelative(inverseMillsRatio(c.x), c.mills, `phi/Phi(${c.x})`);
    }
  });

  it('erf, erfc, erfcx (Cody)', () => {
    for (const c of fixture.erf) {
      expectRelative(erf(c.x), c.erf, `erf(${c.x})`);
      if (c.erfc !== undefined) expectRelative(erfc(c.x), c.erfc, `erfc(${c.x})`);
      if (c.erfcx !== undefined) expectRelative(erfcx(c.x), c.erfcx, `erfcx(${c.x})`);
    }
  });

  it('quantile (AS 241), down to p = 1e-300', () => {
    for (const c of fixture.quantile) expectRelative(normalQuantile(c.p), c.x, `Phi^-1(${c.p})`);
  });
});

describe('normal distribution policies', () => {
  it('keeps log Phi finite where Phi underflows', () => {
    expect(normalCdf(-40)).toBe(0);
    expect(logNormalCdf(-40)).toBeCloseTo(-804.6084420137538, 10);
    expect(logNormalCdf(-1e10)).toBeLessThan(-4e19);
    expect(Number.isFinite(logNormalCdf(-1e10))).toBe(true);
  });

  it('round-trips quantile and CDF', () => {
    for (const p of [1e-12, 0.01, 0.3, 0.5, 0.77, 0.999]) {
      expect(Math.abs(normalCdf(normalQuantile(p)) - p) / p).toBeLessThan(1e-14);
    }
  });

  it('handles infinities and NaN', () => {
    expect(normalCdf(Infinity)).toBe(1);
    expect(normalCdf(-Infinity)).toBe(0);
    expect(logNormalCdf(-Infinity)).toBe(-Infinity);
    expect(normalPdf(Infinity)).toBe(0);
    expect(normalCdf(NaN)).toBeNaN();
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });

  it('rejects probabilities outside [0, 1]', () => {
    expect(() => normalQuantile(1.5)).toThrow(StatisticsInputError);
    expect(() => normalQuantile(NaN)).toThrow('Expected `p` to be a probability in [0, 1], got `null`');
  });
});
