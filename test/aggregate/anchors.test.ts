import { describe, expect, it } from 'vitest';
import { scoreAgainstAnchors, StatisticsInputError } from '../../src/aggregate/index.js';
import { expectAllClose, expectClose, FITTED, frozen, loadFixture } from './_support.js';

interface AnchorCase {
  name: string;
  scores: number[];
  preferences: number[][];
  test: number[];
  latent: number;
  anchorLatent: number[];
  slope: number;
  intercept: number;
  score: number;
}
const fixture = loadFixture<{ cases: AnchorCase[] }>('anchors.json');

describe('scoreAgainstAnchors against scipy.optimize.minimize of the same MAP objective (1e-6)', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const result = scoreAgainstAnchors(frozen({ scores: c.scores, preferences: c.preferences }), frozen(c.test));
      expect(result.converged).toBe(true);
      expectClose(result.latent, c.latent, FITTED, 'latent');
      expectAllClose(result.anchorLatent, c.anchorLatent, FITTED, 'anchorLatent');
      expectClose(result.mapping.slope, c.slope, FITTED, 'slope');
      expectClose(result.mapping.intercept, c.intercept, FITTED, 'intercept');
      expectClose(result.score, c.score, FITTED, 'score');
    });
  }
});

describe('scoreAgainstAnchors behaviour', () => {
  const base = fixture.cases[0]!;
  const anchors = { scores: base.scores, preferences: base.preferences };

  it('a test preferred to more anchors scores higher (monotone in each preference)', () => {
    let previous = -Infinity;
    for (const p of [0.05, 0.2, 0.4, 0.6, 0.8, 0.95]) {
      const { score } = scoreAgainstAnchors(anchors, [p, p, p, p, p]);
      expect(score).toBeGreaterThan(previous);
      previous = score;
    }
  });

  it('extrapolates beyond the best anchor unless clamped', () => {
    const better = fixture.cases.find((c) => c.name === 'better-than-all')!;
    const free = scoreAgainstAnchors(anchors, better.test);
    expect(free.score).toBeGreaterThan(Math.max(...base.scores));
    const clamped = scoreAgainstAnchors(anchors, better.test, { clamp: [1, 5] });
    expect(clamped.score).toBe(5);
  });

  it('throws when the anchors\' preferences contradict their known scores', () => {
    const reversed = base.preferences.map((row, i) => row.map((v, j) => (i === j ? v : 1 - v)));
    expect(() => scoreAgainstAnchors({ scores: base.scores, preferences: reversed }, [0.5, 0.5, 0.5, 0.5, 0.5])).toThrow(
      'the mapping slope is not positive',
    );
  });

  it('validates shapes and probabilities', () => {
    expect(() => scoreAgainstAnchors(anchors, [0.5, 0.5])).toThrow(StatisticsInputError);
    expect(() => scoreAgainstAnchors(anchors, [0.5, 0.5, 1.5, 0.5, 0.5])).toThrow('Expected `preferences[2]` to be a probability in [0, 1]');
    expect(() => scoreAgainstAnchors({ scores: [1], preferences: [[0.5]] }, [0.5])).toThrow(StatisticsInputError);
    expect(() => scoreAgainstAnchors({ scores: [1, 2], preferences: [[0.5, 0.4]] }, [0.5, 0.5])).toThrow(StatisticsInputError);
    expect(() => scoreAgainstAnchors({ scores: [1, NaN], preferences: [[0.5, 0.4], [0.6, 0.5]] }, [0.5, 0.5])).toThrow(StatisticsInputError);
  });
});
