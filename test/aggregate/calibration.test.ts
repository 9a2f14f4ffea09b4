import { describe, expect, it } from 'vitest';
import { calibrationBins, expectedCalibrationError, StatisticsInputError } from '../../src/aggregate/index.js';
import { CLOSED_FORM, expectClose, frozen, loadFixture } from './_support.js';

interface CalibrationCase {
  name: string;
  predicted: number[];
  observed: number[];
  bins: number;
  symmetric: boolean;
  ece: number;
  counts: number[];
  meanPredicted: (number | null)[];
  meanObserved: (number | null)[];
}
const fixture = loadFixture<{ cases: CalibrationCase[] }>('calibration.json');

describe('expectedCalibrationError against NumPy (1e-9)', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const options = { bins: c.bins, symmetric: c.symmetric };
      const p = frozen(c.predicted);
      const y = frozen(c.observed);
      expectClose(expectedCalibrationError(p, y, options), c.ece, CLOSED_FORM, 'ece');
      const bins = calibrationBins(p, y, options);
      expect(bins.map((b) => b.count)).toEqual(c.counts);
      bins.forEach((b, k) => {
        const mp = c.meanPredicted[k];
        const my = c.meanObserved[k];
        if (mp === null || mp === undefined) expect(b.meanPredicted).toBeNaN();
        else expectClose(b.meanPredicted, mp, CLOSED_FORM, `meanPredicted[${k}]`);
        if (my === null || my === undefined) expect(b.meanObserved).toBeNaN();
        else expectClose(b.meanObserved, my, CLOSED_FORM, `meanObserved[${k}]`);
      });
    });
  }
});

describe('expectedCalibrationError policies', () => {
  it('is 0 for predictions equal to the bin frequencies and symmetric mode is orientation-free', () => {
    expect(expectedCalibrationError([0.5, 0.5], [1, 0])).toBe(0);
    const p = [0.9, 0.3, 0.65, 0.1];
    const y = [1, 0.5, 0, 0];
    const flipped = expectedCalibrationError(p.map((v) => 1 - v), y.map((v) => 1 - v), { symmetric: true });
    expect(flipped).toBeCloseTo(expectedCalibrationError(p, y, { symmetric: true }), 14);
  });
  it('puts p = 1 in the last bin', () => {
    expect(calibrationBins([1], [1], { bins: 4 }).map((b) => b.count)).toEqual([0, 0, 0, 1]);
  });
  it('throws for probabilities outside [0, 1], NaN, mismatch and bad bin counts', () => {
    expect(() => expectedCalibrationError([1.2], [1])).toThrow('Expected `predicted[0]` to be a probability in [0, 1]');
    expect(() => expectedCalibrationError([0.2], [NaN])).toThrow(StatisticsInputError);
    expect(() => expectedCalibrationError([0.2, 0.3], [1])).toThrow(StatisticsInputError);
    expect(() => expectedCalibrationError([0.2], [1], { bins: 0 })).toThrow(StatisticsInputError);
    expect(() => expectedCalibrationError([], [])).toThrow(StatisticsInputError);
  });
  it('names the argument at fault, `predicted` or `observed`, in every message', () => {
    for (const f of [expectedCalibrationError, calibrationBins]) {
      expect(() => f([0.2, NaN], [1, 0])).toThrow('Expected `predicted[1]` to be a finite number, got `null`');
      expect(() => f([0.2, 0.4], [1, Infinity])).toThrow('Expected `observed[1]` to be a finite number, got `null`');
      expect(() => f([0.2, 0.3], [1])).toThrow('Expected `observed` to be an array of the same length as `predicted` (2), got `length 1`');
      expect(() => f([], [])).toThrow('Expected `predicted` to be an array of at least 1 numbers, got `length 0`');
    }
  });
});
