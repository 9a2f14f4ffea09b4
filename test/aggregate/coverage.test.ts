/**
 * Simulation: do 95% bootstrap intervals cover the truth about 95% of the time?
 *
 * Bradley-Terry: 30 repetitions, each drawing 8 latent qualities ~ N(0, 1), simulating
 * 400 comparisons between random pairs with P(a beats b) = sigmoid(s_a - s_b), fitting
 * centred scores and bootstrapping them (200 rounds). 240 intervals in all; the coverage
 * must lie in [0.90, 0.99]. (Binomial sd at 240 independent intervals is 0.014; intervals
 * within a repetition are correlated, hence the wide band.) A 50% interval on the same
 * data must cover in [0.38, 0.62]: the check can fail in both directions.
 *
 * Pearson correlation: 150 samples of 60 bivariate normal pairs with rho = 0.6; 95%
 * intervals (400 rounds) must cover rho in [0.90, 0.99].
 */
import { describe, expect, it } from 'vitest';
import { bootstrapCI, bradleyTerry, createRandom, plcc, type Comparison } from '../../src/aggregate/index.js';

function btCoverage(level: number): number {
  const random = createRandom(2024);
  const items = Array.from({ length: 8 }, (_, i) => `m${i}`);
  let covered = 0;
  let total = 0;
  for (let rep = 0; rep < 30; rep++) {
    const raw = items.map(() => random.normal());
    const centre = raw.reduce((a, b) => a + b, 0) / raw.length;
    const truth = raw.map((v) => v - centre);
    const comparisons: Comparison[] = [];
    for (let c = 0; c < 400; c++) {
      const a = random.integer(8);
      let b = random.integer(7);
      if (b >= a) b++;
      const p = 1 / (1 + Math.exp(-(truth[a]! - truth[b]!)));
      comparisons.push({ a: items[a]!, b: items[b]!, outcome: random.uniform() < p ? 1 : 0 });
    }
    // A very weak prior only guards against separation in a resample; scores are re-centred.
    const centred = (sample: readonly Comparison[]): number[] => {
      const s = bradleyTerry(sample, { items, prior: { sigma: 20 }, standardErrors: false }).scores;
      const m = s.reduce((x, y) => x + y, 0) / s.length;
      return s.map((v) => v - m);
    };
    const ci = bootstrapCI(centred, comparisons, { rounds: 200, level, seed: rep });
    truth.forEach((t, k) => {
      total++;
      if (ci.lower[k]! <= t && t <= ci.upper[k]!) covered++;
    });
  }
  return covered / total;
}

describe('bootstrap coverage simulation', () => {
  it('95% Bradley-Terry intervals cover the true centred qualities in [0.90, 0.99] of cases', () => {
    const coverage = btCoverage(0.95);
    expect(coverage).toBeGreaterThanOrEqual(0.9);
    expect(coverage).toBeLessThanOrEqual(0.99);
  });

  it('50% intervals cover in [0.38, 0.62] (the check is not vacuous)', () => {
    const coverage = btCoverage(0.5);
    expect(coverage).toBeGreaterThanOrEqual(0.38);
    expect(coverage).toBeLessThanOrEqual(0.62);
  });

  it('95% Pearson intervals cover rho = 0.6 in [0.90, 0.99] of 150 samples', () => {
    const random = createRandom(77);
    const rho = 0.6;
    let covered = 0;
    const reps = 150;
    for (let rep = 0; rep < reps; rep++) {
      const pairs = Array.from({ length: 60 }, () => {
        const x = random.normal();
        return [x, rho * x + Math.sqrt(1 - rho * rho) * random.normal()] as const;
      });
      const ci = bootstrapCI((s) => plcc(s.map((p) => p[0]), s.map((p) => p[1])), pairs, { rounds: 400, seed: rep });
      if (ci.lower <= rho && rho <= ci.upper) covered++;
    }
    const coverage = covered / reps;
    expect(coverage).toBeGreaterThanOrEqual(0.9);
    expect(coverage).toBeLessThanOrEqual(0.99);
  });
});
