import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bradleyTerry,
  createRandom,
  normalCdf,
  SeparationError,
  StatisticsInputError,
  thurstone,
  winProbability,
  type Comparison,
  type ItemId,
  type PairedFit,
} from '../../src/aggregate/index.js';
import { expectAllClose, expectClose, FITTED, frozen, loadFixture, propertyOptions } from './_support.js';

interface FitCase {
  name: string;
  model: 'bradley-terry' | 'thurstone';
  items: ItemId[];
  itemsOption: boolean;
  comparisons: Comparison[];
  prior?: number;
  scores: number[];
  standardErrors: (number | null)[];
  logLikelihood: number;
  components: ItemId[][];
}
const fixture = loadFixture<{ fits: FitCase[] }>('pairwise.json');

function fit(model: FitCase['model'], comparisons: readonly Comparison[], options: Parameters<typeof bradleyTerry>[1] = {}): PairedFit {
  return model === 'bradley-terry' ? bradleyTerry(comparisons, options) : thurstone(comparisons, options);
}

function scoreOf(result: PairedFit, id: ItemId): number {
  const k = result.items.indexOf(id);
  expect(k, `item ${String(id)}`).toBeGreaterThanOrEqual(0);
  return result.scores[k]!;
}

describe('Bradley-Terry and Thurstone fits against scipy.optimize (1e-6)', () => {
  for (const c of fixture.fits) {
    it(`${c.name}${c.prior === undefined ? '' : ` (prior sigma ${c.prior})`}`, () => {
      const options = {
        ...(c.prior === undefined ? {} : { prior: { sigma: c.prior } }),
        ...(c.itemsOption ? { items: frozen(c.items) } : {}),
      };
      const result = fit(c.model, frozen(c.comparisons), options);
      expect(result.converged).toBe(true);
      expect(result.model).toBe(c.model);
      // Without `items` the order is first appearance; compare item by item.
      if (c.itemsOption) expect(result.items).toEqual(c.items);
      expect([...result.items].sort()).toEqual([...c.items].sort());
      const at = c.items.map((id) => result.items.indexOf(id));
      expectAllClose(at.map((k) => result.scores[k]!), c.scores, FITTED, 'scores');
      const se = at.map((k) => result.standardErrors![k]!);
      c.standardErrors.forEach((ref, i) => {
        if (ref === null) expect(se[i]).toBeNaN();
        else expectClose(se[i]!, ref, FITTED, `se[${i}]`);
      });
      expectClose(result.logLikelihood, c.logLikelihood, FITTED, 'logLikelihood');
      const canonical = (components: ItemId[][]): string[] =>
        components.map((comp) => JSON.stringify([...comp].map((id) => c.items.indexOf(id)).sort((a, b) => a - b))).sort();
      expect(canonical(result.components)).toEqual(canonical(c.components));
    });
  }
});

/** Comparisons simulated from Bradley-Terry with the given latent scores. */
function simulate(seed: number, truth: readonly number[], m: number, tieRate = 0): Comparison[] {
  const random = createRandom(seed);
  const n = truth.length;
  const out: Comparison[] = [];
  for (let c = 0; c < m; c++) {
    const a = random.integer(n);
    let b = random.integer(n - 1);
    if (b >= a) b++;
    const p = 1 / (1 + Math.exp(-(truth[a]! - truth[b]!)));
    const outcome = random.uniform() < tieRate ? 0.5 : random.uniform() < p ? 1 : 0;
    out.push({ a: `i${a}`, b: `i${b}`, outcome });
  }
  return out;
}

describe('paired-fit properties', () => {
  const base = simulate(5, [0.8, -0.3, 1.5, 0, -1.2, 0.4, -0.6, 0.9], 240, 0.1);

  it('scores per item do not depend on the order of comparisons or items', () => {
    const reference = bradleyTerry(base);
    fc.assert(
      fc.property(fc.shuffledSubarray(base, { minLength: base.length, maxLength: base.length }), (shuffled) => {
        const result = bradleyTerry(shuffled);
        for (const id of reference.items) expect(scoreOf(result, id)).toBeCloseTo(scoreOf(reference, id), 9);
      }),
      propertyOptions(25),
    );
  });

  it('swapping a and b with outcome -> 1 - outcome changes nothing', () => {
    const reference = thurstone(base);
    const flipped = thurstone(base.map((c) => ({ a: c.b, b: c.a, outcome: 1 - c.outcome })));
    for (const id of reference.items) expect(scoreOf(flipped, id)).toBeCloseTo(scoreOf(reference, id), 9);
  });

  it('duplicated comparisons equal one comparison of double weight', () => {
    const doubled = bradleyTerry([...base, ...base]);
    const weighted = bradleyTerry(base.map((c) => ({ ...c, weight: 2 })));
    expectAllClose(doubled.scores, weighted.scores, 1e-9, 'scores');
  });

  it('predicted probabilities are symmetric and match the model', () => {
    const result = bradleyTerry(base);
    const p = winProbability(result, 'i2', 'i4');
    expect(p + winProbability(result, 'i4', 'i2')).toBeCloseTo(1, 14);
    expect(p).toBeCloseTo(1 / (1 + Math.exp(-(scoreOf(result, 'i2') - scoreOf(result, 'i4')))), 14);
  });

  it('without a prior scores are centred and no single-score move raises the likelihood', () => {
    for (const model of ['bradley-terry', 'thurstone'] as const) {
      const result = fit(model, base);
      expect(result.scores.reduce((a, b) => a + b, 0)).toBeCloseTo(0, 12);
      const F = model === 'bradley-terry' ? (x: number) => 1 / (1 + Math.exp(-x)) : normalCdf;
      const ll = (scores: readonly number[]): number => {
        let total = 0;
        for (const c of base) {
          const d = scores[result.items.indexOf(c.a)]! - scores[result.items.indexOf(c.b)]!;
          total += c.outcome * Math.log(F(d)) + (1 - c.outcome) * Math.log(F(-d));
        }
        return total;
      };
      expectClose(ll(result.scores), result.logLikelihood, 1e-9, 'logLikelihood');
      for (let i = 0; i < result.scores.length; i++) {
        for (const h of [1e-4, -1e-4]) {
          const moved = [...result.scores];
          moved[i]! += h;
          expect(ll(moved)).toBeLessThan(result.logLikelihood);
        }
      }
    }
  });

  it('the sparse (conjugate-gradient) and dense Newton solvers agree', () => {
    // 250 items are solved densely; adding 150 independent tied pairs (300 more items,
    // which do not interact with the rest) pushes the same problem onto the CG path.
    const truth = Array.from({ length: 250 }, (_, i) => Math.sin(i) * 1.5);
    const comparisons = simulate(9, truth, 8_000);
    const padding = Array.from({ length: 150 }, (_, k) => ({ a: `x${k}`, b: `y${k}`, outcome: 0.5 }));
    const options = { prior: { sigma: 3 }, standardErrors: false } as const;
    const dense = bradleyTerry(comparisons, options);
    const sparse = bradleyTerry([...comparisons, ...padding], options);
    expect(dense.items.length).toBe(250);
    expect(sparse.items.length).toBe(550);
    expect(dense.converged && sparse.converged).toBe(true);
    for (const id of dense.items) expect(scoreOf(sparse, id)).toBeCloseTo(scoreOf(dense, id), 9);
  });
});
describe('paired-fit policies', () => {
  it('ties only: every score is 0, converged', () => {
    const result = bradleyTerry([
      { a: 'x', b: 'y', outcome: 0.5 },
      { a: 'y', b: 'z', outcome: 0.5 },
    ]);
    expect(result.scores).toEqual([0, 0, 0]);
    expect(result.converged).toBe(true);
  });

  it('an item compared once with a tie is finite without a prior', () => {
    const result = bradleyTerry([
      { a: 'x', b: 'y', outcome: 1 },
      { a: 'y', b: 'x', outcome: 1 },
      { a: 'z', b: 'x', outcome: 0.5 },
    ]);
    expect(result.scores.every(Number.isFinite)).toBe(true);
  });

  it('perfect separation without a prior throws SeparationError naming the item', () => {
    const comparisons = [
      { a: 'top', b: 'x', outcome: 1 },
      { a: 'top', b: 'y', outcome: 1 },
      { a: 'x', b: 'y', outcome: 1 },
      { a: 'y', b: 'x', outcome: 1 },
    ];
    for (const model of ['bradley-terry', 'thurstone'] as const) {
      let error: unknown;
      try {
        fit(model, comparisons);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SeparationError);
      expect((error as SeparationError).group).toEqual(['top']);
      expect((error as SeparationError).direction).toBe('never-loses');
      expect((error as Error).message).toContain('Item "top" never loses');
      // The same data with a prior are finite and rank `top` first.
      const result = fit(model, comparisons, { prior: { sigma: 2 } });
      expect(result.scores.every(Number.isFinite)).toBe(true);
      expect(scoreOf(result, 'top')).toBe(Math.max(...result.scores));
    }
  });

  it('a very weak prior still converges on separated data, to finite scores', () => {
    const separated = [
      { a: 'top', b: 'x', outcome: 1 },
      { a: 'top', b: 'y', outcome: 1 },
      { a: 'x', b: 'y', outcome: 1 },
      { a: 'y', b: 'x', outcome: 1 },
    ];
    for (const model of ['bradley-terry', 'thurstone'] as const) {
      const result = fit(model, separated, { prior: { sigma: 1e6 } });
      expect(result.converged).toBe(true);
      expect(result.scores[0]).toBeGreaterThan(4);
      expect(result.scores.every(Number.isFinite)).toBe(true);
    }
  });

  it('a group that never loses to the rest is named as a group', () => {
    let error: unknown;
    try {
      bradleyTerry([
        { a: 'p', b: 'q', outcome: 1 },
        { a: 'q', b: 'p', outcome: 1 },
        { a: 'p', b: 'r', outcome: 1 },
        { a: 'q', b: 's', outcome: 1 },
        { a: 'r', b: 's', outcome: 0.5 },
      ]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SeparationError);
    expect([...(error as SeparationError).group].sort()).toEqual(['p', 'q']);
    expect((error as Error).message).toMatch(/^Items \{"[pq]", "[pq]"\} never lose against the rest of their component/);
  });

  it('an item that never wins is reported as such', () => {
    expect(() =>
      bradleyTerry([
        { a: 'x', b: 'y', outcome: 0.7 },
        { a: 'x', b: 'z', outcome: 1 },
        { a: 'y', b: 'z', outcome: 1 },
        { a: 'x', b: 'w', outcome: 0.3 },
        { a: 'w', b: 'y', outcome: 0.4 },
      ]),
    ).toThrow('Item "z" never wins');
  });

  it('disconnected graph without a prior: components reported, each centred', () => {
    const result = bradleyTerry([
      { a: 'a', b: 'b', outcome: 1 },
      { a: 'b', b: 'a', outcome: 0.5 },
      { a: 'c', b: 'd', outcome: 0.25 },
    ]);
    expect(result.components).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(scoreOf(result, 'a') + scoreOf(result, 'b')).toBeCloseTo(0, 12);
    expect(scoreOf(result, 'c') + scoreOf(result, 'd')).toBeCloseTo(0, 12);
    expect(scoreOf(result, 'd') - scoreOf(result, 'c')).toBeCloseTo(Math.log(3), 9);
  });

  it('items listed but never compared: 0 with SE sigma under a prior, NaN SE without', () => {
    const comparisons = [
      { a: 1, b: 2, outcome: 1 },
      { a: 2, b: 1, outcome: 1 },
    ];
    const withPrior = bradleyTerry(comparisons, { items: [1, 2, 3], prior: { sigma: 2 } });
    expect(withPrior.scores[2]).toBe(0);
    expect(withPrior.standardErrors![2]).toBeCloseTo(2, 12);
    const without = bradleyTerry(comparisons, { items: [1, 2, 3] });
    expect(without.scores[2]).toBe(0);
    expect(without.standardErrors![2]).toBeNaN();
    expect(without.components).toEqual([[1, 2], [3]]);
  });

  it('1 and "1" are different items', () => {
    const result = bradleyTerry([
      { a: 1, b: '1', outcome: 0.75 },
      { a: '1', b: 1, outcome: 0.25 },
    ]);
    expect(result.items).toEqual([1, '1']);
    expect(result.scores[0]! - result.scores[1]!).toBeCloseTo(Math.log(3), 9);
  });

  it('rejects invalid comparisons and options with a named argument', () => {
    expect(() => bradleyTerry([{ a: 'x', b: 'y', outcome: 1.5 }])).toThrow('Expected `comparisons[0].outcome` to be a probability in [0, 1], got `1.5`');
    expect(() => bradleyTerry([{ a: 'x', b: 'y', outcome: NaN }])).toThrow(StatisticsInputError);
    expect(() => bradleyTerry([{ a: 'x', b: 'x', outcome: 1 }])).toThrow('Expected `comparisons[0].b` to be an item other than `a`');
    expect(() => bradleyTerry([{ a: 'x', b: 'y', outcome: 1, weight: -1 }])).toThrow(StatisticsInputError);
    expect(() => bradleyTerry([])).toThrow(StatisticsInputError);
    expect(() => bradleyTerry([{ a: 'x', b: 'y', outcome: 0.5 }], { items: ['x'] })).toThrow('Expected `comparisons[0].b` to be an id listed in `options.items`');
    expect(() => bradleyTerry([{ a: 'x', b: 'y', outcome: 0.5 }], { prior: { sigma: 0 } })).toThrow(StatisticsInputError);
  });

  it('reports non-convergence instead of hiding it', () => {
    const comparisons = simulate(3, [1, 0, -1, 2], 50, 0.2);
    const result = bradleyTerry(comparisons, { maxIterations: 1 });
    expect(result.converged).toBe(false);
    expect(result.iterations).toBe(1);
  });
});
