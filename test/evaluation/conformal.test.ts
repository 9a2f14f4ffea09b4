/**
 * Split conformal intervals on simulated judges: at 90% they cover 88-93% of held-out
 * images over repeated seeds, and a less noisy judge gets narrower intervals.
 */
import { describe, expect, it } from 'vitest';
import { conformalQuantile, conformityScores } from '../../src/aggregate/conformal.js';
import { createRandom } from '../../src/aggregate/random.js';
import { calibrate, fitCalibration, type CalibrationPoint } from '../../src/evaluation/calibration-model.js';

/** Images of true quality 1-5; humans rate 0-100 with noise; the judge sees quality with `noise`. */
function simulate(n: number, noise: number, seed: number): CalibrationPoint[] {
  const r = createRandom(seed);
  return Array.from({ length: n }, () => {
    const q = 1 + 4 * r.uniform();
    const judgeNoise = noise * (0.5 + r.uniform());
    return { x: q + judgeNoise * r.normal(), y: 20 * q + 4 * r.normal(), spread: judgeNoise };
  });
}

function heldOut(noise: number, scaled: boolean, seeds: number): { coverage: number; width: number } {
  let covered = 0;
  let total = 0;
  let width = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const model = fitCalibration(simulate(300, noise, seed), { scaled, seed });
    for (const p of simulate(500, noise, 10_000 + seed)) {
      const c = calibrate(model, p.x, p.spread, 0.9);
      covered += p.y >= c.lower && p.y <= c.upper ? 1 : 0;
      width += c.upper - c.lower;
      total++;
    }
  }
  return { coverage: covered / total, width: width / total };
}

describe('split conformal calibration', () => {
  it('the quantile is the ceil((n+1) coverage)-th smallest score; too few points give an unbounded interval', () => {
    expect(conformalQuantile([0.1, 0.4, 0.2, 0.3], 0.5)).toBe(0.3);
    expect(conformalQuantile([0.1, 0.4, 0.2, 0.3], 0.9)).toBe(Infinity);
    expect(conformityScores([3, 4], [2.5, 4.5], [0.5, 1])).toEqual([1, 0.5]);
  });

  it('covers 88-93% of held-out images at 90% over repeated seeds, plain and scaled by the judge spread', () => {
    for (const scaled of [false, true]) {
      const { coverage } = heldOut(0.4, scaled, 40);
      expect(coverage).toBeGreaterThanOrEqual(0.88);
      expect(coverage).toBeLessThanOrEqual(0.93);
    }
  });

  it('a less noisy judge gets narrower intervals', () => {
    const sharp = heldOut(0.15, false, 20);
    const blurry = heldOut(0.8, false, 20);
    expect(sharp.width).toBeLessThan(blurry.width * 0.7);
  });
});
