import { describe, expect, it } from 'vitest';
import { bradleyTerry } from '../../src/aggregate/bradley-terry.js';
import type { Comparison } from '../../src/aggregate/comparison.js';
import { createRandom } from '../../src/aggregate/random.js';
import { ActiveRanker, allPairsPool, listPool, RANK_PRIOR, type Candidate } from '../../src/judges/active.js';

describe('pair pools', () => {
  it('an all-pairs pool hands out every pair of its usable items exactly once', () => {
    const pool = allPairsPool(7, [0, 2, 3, 5, 6]);
    const random = createRandom(3);
    expect(pool.size).toBe(10);
    expect(pool.take(2, 5)).toEqual({ a: 2, b: 5 });
    expect(pool.take(2, 5)).toBeUndefined();
    expect(pool.available(0, 1)).toBe(false); // item 1 is not usable
    const seen = new Set<string>(['2:5']);
    for (let c = pool.takeRandom(random); c; c = pool.takeRandom(random)) {
      expect(c.a).toBeLessThan(c.b);
      seen.add(`${c.a}:${c.b}`);
    }
    expect(seen.size).toBe(10);
    expect(pool.size).toBe(0);
    expect(pool.hasPartner(0)).toBe(false);
  });

  it('a list pool keeps several contents of one pair apart', () => {
    const candidates: Candidate[] = [
      { a: 0, b: 1, content: 'x' },
      { a: 0, b: 1, content: 'y' },
      { a: 1, b: 2, content: 'x' },
    ];
    const pool = listPool(3, candidates);
    expect(pool.take(0, 1)?.content).toBe('x');
    expect(pool.available(0, 1)).toBe(true);
    expect(pool.take(0, 1)?.content).toBe('y');
    expect(pool.available(0, 1)).toBe(false);
    expect(pool.hasPartner(0)).toBe(false);
    expect(pool.takeRandom(createRandom(1))).toBe(candidates[2]);
    expect(pool.size).toBe(0);
  });
});

describe('ActiveRanker', () => {
  it('tracks the exact Bradley-Terry fit (same prior) with warm-started sweeps', () => {
    const random = createRandom(5);
    const n = 40;
    const truth = Array.from({ length: n }, (_, i) => i / 10);
    const ranker = new ActiveRanker(n);
    const all: Comparison[] = [];
    for (let batch = 0; batch < 60; batch++) {
      const judged: Comparison[] = [];
      for (let k = 0; k < 8; k++) {
        const a = random.integer(n);
        const b = (a + 1 + random.integer(n - 1)) % n;
        const p = 1 / (1 + Math.exp(-((truth[a] as number) - (truth[b] as number))));
        judged.push({ a, b, outcome: random.uniform() < p ? 1 : 0 });
      }
      all.push(...judged);
      ranker.add(judged);
    }
    for (let s = 0; s < 200; s++) ranker.add([]);
    const exact = bradleyTerry(all, { items: Array.from({ length: n }, (_, i) => i), prior: RANK_PRIOR });
    for (let i = 0; i < n; i++) expect(ranker.scores[i]).toBeCloseTo(exact.scores[i] as number, 6);
    // Diagonal errors never exceed the exact ones ((H^-1)_ii >= 1 / H_ii).
    for (let i = 0; i < n; i++) expect(ranker.standardError(i)).toBeLessThanOrEqual((exact.standardErrors?.[i] as number) + 1e-9);
  });

  it('chooses distinct, unjudged pairs, each item at most twice a batch', () => {
    const n = 1000;
    const pool = allPairsPool(n);
    const ranker = new ActiveRanker(n);
    const random = createRandom(9);
    const chosen = ranker.choose(pool, 16, random);
    expect(chosen).toHaveLength(16);
    const uses = new Map<number, number>();
    for (const c of chosen) for (const i of [c.a, c.b]) uses.set(i, (uses.get(i) ?? 0) + 1);
    expect(Math.max(...uses.values())).toBeLessThanOrEqual(2);
    expect(new Set(chosen.map((c) => `${c.a}:${c.b}`)).size).toBe(16);
    expect(pool.size).toBe((n * (n - 1)) / 2 - 16);
  });
});
