import { describe, expect, it } from 'vitest';
import { mean, sampleStd, StatisticsInputError } from '../../src/aggregate/index.js';
import { frozen } from './_support.js';

describe('mean and sampleStd', () => {
  it('compute the mean and the unbiased standard deviation (numpy mean, std(ddof=1))', () => {
    const x = frozen([2.5, 3.75, 4, 1.25]);
    expect(mean(x)).toBe(2.875);
    // numpy.std([2.5, 3.75, 4, 1.25], ddof=1) = 1.2665570127975554 (Python statistics.stdev agrees)
    expect(sampleStd(x)).toBeCloseTo(1.2665570127975554, 14);
    expect(mean([])).toBeNaN();
    expect(sampleStd([3])).toBeNaN();
  });

  it('reject NaN and +/-Infinity with the position, as the statistics docs promise', () => {
    for (const f of [mean, sampleStd]) {
      expect(() => f([1, NaN, 3])).toThrow(StatisticsInputError);
      expect(() => f([1, NaN, 3])).toThrow('Expected `x[1]` to be a finite number, got `null`');
      expect(() => f([Infinity])).toThrow('Expected `x[0]` to be a finite number, got `null`');
      expect(() => f([2, -Infinity])).toThrow('Expected `x[1]` to be a finite number');
    }
  });
});
