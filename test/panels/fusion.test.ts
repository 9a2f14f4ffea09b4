/**
 * The fusion statistics: location fusions against SciPy/NumPy values (computed with
 * scipy 1.17: `stats.trim_mean`, `np.median`), Thurstone fusion's invariance to each
 * neuron's offset and stretch, its use of the neurons that answered, and the coverage
 * of its bootstrap intervals on simulated panels.
 */
import { describe, expect, it } from 'vitest';
import { createRandom, krippendorffAlpha } from '../../src/aggregate/index.js';
import { fuseValues, median, panelAgreement, thurstoneFusion, trimmedMean } from '../../src/aggregate/fusion.js';
import { frozen } from '../aggregate/_support.js';

describe('location fusions', () => {
  it('match SciPy and NumPy', () => {
    expect(trimmedMean(frozen([1, 2, 3, 4, 100]), 0.2)).toBe(3); // stats.trim_mean(..., 0.2) = 3.0
    expect(trimmedMean(frozen([5.5, 1.25, 3, 9, 2, 7, 4.75]), 0.2)).toBeCloseTo(4.45, 12); // = 4.45
    expect(median(frozen([3, 1, 4, 2]))).toBe(2.5); // np.median = 2.5
    expect(fuseValues([2, 3, 4, 9], 'mean')).toBe(4.5);
    expect(Number.isNaN(fuseValues([], 'median'))).toBe(true);
  });
});

/** Neurons seeing `truth` with offsets, stretches and noise; K samples each. */
function simulate(seed: number, items: number, k: number) {
  const random = createRandom(seed);
  const truth = Array.from({ length: items }, () => 1.5 + 3 * random.uniform());
  const neurons = [
    { offset: 1, stretch: 1, sd: 0.4 },
    { offset: -1, stretch: 1, sd: 0.4 },
    { offset: 0, stretch: 0.2, sd: 0.08 },
    { offset: 0, stretch: 1, sd: 0.8 },
  ];
  const clamp = (q: number) => Math.min(5, Math.max(1, q));
  const samples = neurons.map((n) =>
    truth.map(() => [] as number[]).map((_, i) =>
      Array.from({ length: k }, () => clamp(3 + n.offset + n.stretch * ((truth[i] as number) - 3) + n.sd * random.normal())),
    ),
  );
  return { truth, samples };
}

describe('thurstoneFusion', () => {
  it("drops each neuron's offset and stretch: a shifted and squeezed copy fuses to the same order", () => {
    const { samples } = simulate(3, 12, 4);
    const base = thurstoneFusion([samples[0]!], { rounds: 0 });
    const moved = thurstoneFusion([samples[0]!.map((s) => s.map((v) => 10 + 0.5 * v))], { rounds: 0 });
    // Same latent scale up to the variance floor (the copy's variances are a quarter).
    const order = (x: number[]) => x.map((_, i) => i).sort((a, b) => (x[a] as number) - (x[b] as number));
    expect(order(moved.latent)).toEqual(order(base.latent));
  });

  it('fuses items some neurons failed on from the rest, and gives NaN where none answered', () => {
    const { samples } = simulate(5, 6, 3);
    const holes = samples.map((row, r) => row.map((s, i) => (i === 5 || (r === 0 && i === 1) ? null : s)));
    const f = thurstoneFusion(holes, { rounds: 20 });
    expect(f.neuronsUsed).toEqual([4, 3, 4, 4, 4, 0]);
    expect(Number.isFinite(f.scores[1])).toBe(true);
    expect(Number.isNaN(f.scores[5])).toBe(true);
    expect(Number.isNaN(f.lower[5])).toBe(true);
  });

  it('uses a sparse ring of pairs above allPairsUpTo (cost linear in items)', () => {
    const { samples } = simulate(9, 60, 3);
    const all = thurstoneFusion(samples, { rounds: 0 });
    const sparse = thurstoneFusion(samples, { rounds: 0, allPairsUpTo: 10, pairsPerItem: 5 });
    expect(all.pairs).toBe(4 * ((60 * 59) / 2));
    expect(sparse.pairs).toBe(4 * 60 * 5);
  });

  it('95% intervals cover the truth in 90-99% of items over repeated seeds', () => {
    let covered = 0;
    let total = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const { truth, samples } = simulate(seed, 25, 4);
      const f = thurstoneFusion(samples, { rounds: 100, seed });
      truth.forEach((t, i) => {
        total++;
        if ((f.lower[i] as number) <= t && t <= (f.upper[i] as number)) covered++;
      });
    }
    // Measured: 0.95 here (1.0 when each round re-took the map's centre from the
    // resampled neurons; 0.76 with the map fixed; see docs/panels.md, "Intervals").
    expect(covered / total).toBeGreaterThanOrEqual(0.9);
    expect(covered / total).toBeLessThanOrEqual(0.99);
  }, 60_000);
});

describe('panelAgreement', () => {
  it("is Krippendorff's interval alpha across neurons plus per-item spread", () => {
    const scores = frozen([
      [1, 2, 3, null],
      [1, 2, 4, 4],
    ]);
    const a = panelAgreement(scores);
    expect(a.alpha).toBe(krippendorffAlpha(scores, { level: 'interval' }));
    expect(a.spread[2]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(Number.isNaN(a.spread[3])).toBe(true);
  });
});
