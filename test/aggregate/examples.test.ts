/**
 * The `@example` lines of the public JSDoc, run: a documented output that drifts from
 * the code fails here.
 */
import { describe, expect, it } from 'vitest';
import * as stats from '../../src/aggregate/index.js';

describe('documented examples', () => {
  it('normal distribution', () => {
    expect(stats.erf(0.5)).toBe(0.5204998778130465);
    expect(stats.erfc(5)).toBe(1.537459794428035e-12);
    expect(stats.erfcx(30)).toBe(0.01879588886141675);
    expect(stats.normalPdf(1)).toBe(0.24197072451914337);
    expect(stats.normalCdf(-1.959963984540054)).toBeCloseTo(0.025, 15);
    expect(stats.logNormalCdf(-40)).toBe(-804.6084420137538);
    expect(stats.normalQuantile(0.975)).toBe(1.9599639845400536);
    expect(stats.createRandom(42).integer(10)).toBe(4);
  });

  it('correlations and the logistic', () => {
    expect(stats.ranks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
    expect(stats.plcc([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 14);
    expect(stats.srcc([1, 2, 3, 4], [10, 30, 20, 40])).toBeCloseTo(0.8, 14);
    expect(stats.krcc([1, 2, 3, 4], [10, 30, 20, 40])).toBeCloseTo(2 / 3, 14);
    expect(stats.rmse([1, 2, 3], [1, 2, 5])).toBe(1.1547005383792515);
    expect(stats.logistic4(0, [5, 1, 0, 1])).toBe(3);
    const fit = stats.fitLogistic4([1, 2, 3, 4, 5, 6], [1.1, 1.3, 2.2, 3.9, 4.6, 4.8]);
    expect(fit.params.map((v) => Number(v.toPrecision(3)))).toEqual([4.8, 1.07, 3.42, 0.514]);
    expect(fit.predict(3.5)).toBeCloseTo(3.075, 3);
  });

  it('bootstrap', () => {
    const x = [1.2, 2.3, 2.9, 3.8, 4.1, 4.6, 3.3, 1.9];
    const y = [20, 35, 41, 70, 66, 88, 52, 30];
    const pairs = x.map((v, i) => [v, y[i]!] as const);
    const ci = stats.bootstrapCI((s) => stats.srcc(s.map((p) => p[0]), s.map((p) => p[1])), pairs, { rounds: 1000, seed: 7 });
    expect(ci.estimate).toBeCloseTo(0.976, 3);
    expect(ci.lower).toBeCloseTo(0.802, 3);
    expect(ci.upper).toBe(1);
    expect(ci.valid).toBe(1000);
  });

  it('levels', () => {
    const m = stats.levelMoments([0.1, 0.6, 0.3, 0, 0]);
    expect(m.mean).toBeCloseTo(3.8, 14);
    expect(m.std).toBeCloseTo(0.6, 14);
    expect(m.entropy).toBeCloseTo(0.898, 3);
    expect(m.mass).toBe(1);
    const label = stats.softLabels([1, 3.2, 5], [0.5, 0.6, 0.4], { range: [1, 5] })[1]!;
    expect(label.probabilities.map((v) => Number(v.toFixed(4)))).toEqual([0.0147, 0.2936, 0.5706, 0.1192, 0.0019]);
  });

  it('pairwise', () => {
    expect(stats.thurstoneProbability(3.5, 0.25, 3, 0.25)).toBe(0.7602497192111531);
    expect(stats.fidelity(0.8, 1)).toBe(0.8944271909999159);
    const bt = stats.bradleyTerry([
      { a: 'x', b: 'y', outcome: 1 },
      { a: 'x', b: 'y', outcome: 0 },
      { a: 'x', b: 'y', outcome: 1 },
    ]);
    expect(bt.scores[0]).toBeCloseTo(Math.log(2) / 2, 12);
    expect(bt.scores[1]).toBeCloseTo(-Math.log(2) / 2, 12);
    const th = stats.thurstone([{ a: 'x', b: 'y', outcome: 0.8413447460685429 }]);
    expect(th.scores[0]).toBeCloseTo(0.5, 14);
    expect(stats.winProbability(stats.bradleyTerry([{ a: 'x', b: 'y', outcome: 0.75 }]), 'x', 'y')).toBeCloseTo(0.75, 12);
    const anchors = { scores: [1, 3, 5], preferences: [[0.5, 0.2, 0.05], [0.8, 0.5, 0.2], [0.95, 0.8, 0.5]] };
    expect(stats.scoreAgainstAnchors(anchors, [0.9, 0.6, 0.2]).score).toBeCloseTo(3.48, 2);
  });

  it('agreement and calibration', () => {
    expect(stats.cohenKappa([1, 2, 3, 3], [1, 2, 3, 2])).toBe(0.6363636363636364);
    expect(stats.fleissKappa([[3, 0], [0, 3], [2, 1]])).toBeCloseTo(0.55, 14);
    expect(stats.krippendorffAlpha([[1, 2, 3, null], [1, 2, 2, 4]], { level: 'interval' })).toBe(0.7058823529411764);
    expect(stats.calibrationBins([0.15, 0.85], [0, 1], { bins: 2 }).map((b) => b.count)).toEqual([1, 1]);
    expect(stats.expectedCalibrationError([0.9, 0.9, 0.2, 0.2], [1, 0, 0, 0])).toBeCloseTo(0.3, 14);
  });

  it('intervals for compare and rank', () => {
    const w = stats.wilsonInterval(4, 4);
    expect(w.estimate).toBe(1);
    expect(w.lower).toBeCloseTo(0.5101, 4);
    expect(w.upper).toBe(1);
    const d = stats.pairDifferencePosterior([1, 1, 1, 1]);
    expect([d.estimate, d.lower, d.upper].map((v) => Number(v.toFixed(2)))).toEqual([3.1, 0.59, 10.12]);
    expect(stats.canonicalComparisons([{ a: 'y', b: 'x', outcome: 1 }, { a: 'x', b: 'y', outcome: 0 }]).map((c) => c.a)).toEqual(['x', 'y']);
    const r = stats.bradleyTerryIntervals(
      [{ a: 'x', b: 'y', outcome: 1 }, { a: 'x', b: 'y', outcome: 1 }, { a: 'y', b: 'z', outcome: 1 }],
      { items: ['x', 'y', 'z'], prior: { sigma: 2 }, seed: 1 },
    );
    expect(r.lower[0]! < r.scores[0]! && r.scores[0]! < r.upper[0]!).toBe(true);
  });
});
