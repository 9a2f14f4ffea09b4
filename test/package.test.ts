import { describe, expect, it } from 'vitest';
import * as quorum from '../src/index.js';

describe('package root', () => {
  it('exports the statistics API under the documented names', () => {
    for (const name of [
      'srcc', 'krcc', 'plcc', 'fitLogistic4', 'rmse', 'bootstrapCI', 'levelMoments', 'softLabels',
      'thurstoneProbability', 'fidelity', 'bradleyTerry', 'thurstone', 'scoreAgainstAnchors',
      'cohenKappa', 'fleissKappa', 'krippendorffAlpha', 'expectedCalibrationError',
    ]) {
      expect(typeof (quorum as Record<string, unknown>)[name], name).toBe('function');
    }
  });

  it('exports the judging entry points', () => {
    for (const name of ['runScore', 'runCompare', 'runRank', 'createOpenAIProvider', 'createAnthropicProvider', 'createLlamaProvider', 'listModels', 'Store']) {
      expect(typeof (quorum as Record<string, unknown>)[name], name).toBe('function');
    }
    expect(quorum.srcc([1, 2, 3, 4], [10, 20, 40, 30])).toBeCloseTo(0.8, 12);
  });
});
