import { describe, expect, it } from 'vitest';
import { fitLogistic4, logistic4, plcc, rmse, StatisticsInputError } from '../../src/aggregate/index.js';
import { expectAllClose, expectClose, FITTED, frozen, loadFixture } from './_support.js';

interface LogisticCase {
  name: string;
  x: number[];
  y: number[];
  start: number[];
  wellConditioned: boolean;
  params: number[];
  predictions: number[];
  grid: number[];
  gridPredictions: number[];
  sse: number;
  plccFit: number;
  rmseFit: number;
}
const fixture = loadFixture<{ cases: LogisticCase[] }>('logistic4.json');

describe('fitLogistic4 against scipy.optimize.curve_fit (LM, same start)', () => {
  for (const c of fixture.cases.filter((k) => k.wellConditioned)) {
    it(`${c.name}: predictions, SSE, PLCC and RMSE to 1e-6; parameters to 1e-6 relative`, () => {
      const x = frozen(c.x);
      const y = frozen(c.y);
      const fit = fitLogistic4(x, y);
      expect(fit.converged).toBe(true);
      expectAllClose(x.map(fit.predict), c.predictions, FITTED, 'predictions');
      expectAllClose(c.grid.map(fit.predict), c.gridPredictions, FITTED, 'grid');
      expectClose(fit.sse, c.sse, FITTED, 'sse');
      expectAllClose(fit.params, c.params, FITTED, 'params');
      expectClose(plcc(x, y, { fit: 'logistic4' }), c.plccFit, FITTED, 'plcc after fit');
      expectClose(rmse(x, y, { fit: 'logistic4' }), c.rmseFit, FITTED, 'rmse after fit');
    });
  }

  // Linear data: b1 and b4 grow without bound along a flat valley, so neither optimiser
  // converges and their parameters differ; the curves must still agree closely.
  for (const c of fixture.cases.filter((k) => !k.wellConditioned)) {
    it(`${c.name}: not identified; predictions within 1e-2 and SSE within 1% of SciPy's`, () => {
      const fit = fitLogistic4(c.x, c.y);
      expectAllClose(c.x.map(fit.predict), c.predictions, 1e-2, 'predictions');
      expect(Math.abs(fit.sse - c.sse) / c.sse).toBeLessThan(0.01);
      expect(fit.params[0]).toBeGreaterThan(100);
    });
  }

  it('starts from [max y, min y, mean x, std x / 4]', () => {
    const c = fixture.cases[0]!;
    const fit = fitLogistic4(c.x, c.y, { maxIterations: 1, start: c.start as [number, number, number, number] });
    const fromDefault = fitLogistic4(c.x, c.y, { maxIterations: 1 });
    expectAllClose(fromDefault.params, fit.params, 1e-12, 'one step from either start');
  });
});

describe('logistic4', () => {
  it('is (b1 - b2) / (1 + exp(-(x - b3)/|b4|)) + b2', () => {
    expect(logistic4(0, [5, 1, 0, 1])).toBe(3);
    expect(logistic4(2, [5, 1, 0, -1])).toBeCloseTo(1 + 4 / (1 + Math.exp(-2)), 14);
  });
});

describe('fitLogistic4 degenerate-input policy', () => {
  it('fewer points than parameters throws', () => {
    expect(() => fitLogistic4([1, 2, 3], [1, 2, 3])).toThrow(StatisticsInputError);
  });
  it('constant x throws: the curve is not identified', () => {
    expect(() => fitLogistic4([2, 2, 2, 2, 2], [1, 2, 3, 4, 5])).toThrow('Expected `x` to be non-constant');
  });
  it('constant y fits the flat line', () => {
    const fit = fitLogistic4([1, 2, 3, 4, 5], [3, 3, 3, 3, 3]);
    expect(fit.sse).toBe(0);
    expect(fit.predict(10)).toBe(3);
  });
  it('NaN and length mismatch throw', () => {
    expect(() => fitLogistic4([1, 2, NaN, 4], [1, 2, 3, 4])).toThrow(StatisticsInputError);
    expect(() => fitLogistic4([1, 2, 3, 4], [1, 2, 3])).toThrow(StatisticsInputError);
  });
});
