import { describe, expect, it } from 'vitest';
import * as stats from '../../src/aggregate/index.js';

describe('src/aggregate public API', () => {
  it('exports the functions named in the issue', () => {
    const names = [
      'srcc', 'krcc', 'plcc', 'fitLogistic4', 'rmse', 'bootstrapCI', 'levelMoments', 'softLabels',
      'thurstoneProbability', 'fidelity', 'bradleyTerry', 'thurstone', 'scoreAgainstAnchors',
      'cohenKappa', 'fleissKappa', 'krippendorffAlpha', 'expectedCalibrationError',
    ] as const;
    for (const name of names) expect(typeof stats[name], name).toBe('function');
  });

  it('exports the error classes, which extend QuorumError', () => {
    const error = new stats.StatisticsInputError('x', 'message');
    expect(error.name).toBe('StatisticsInputError');
    expect(error.argument).toBe('x');
    expect(Object.getPrototypeOf(stats.SeparationError.prototype).constructor.name).toBe('QuorumError');
  });
});
