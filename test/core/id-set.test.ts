import { describe, expect, it } from 'vitest';
import { IdSet } from '../../src/store/_id-set.js';

describe('IdSet (a run\'s linked call ids)', () => {
  it('answers like a Set for dense, sparse, huge and odd ids', () => {
    const ids = [1, 2, 3, 8, 9, 4095, 4096, 100_000, 1_000_003, 2 ** 28 + 5, 2 ** 40];
    const set = new IdSet(ids.slice(0, 5));
    for (const id of ids.slice(5)) set.add(id);
    const truth = new Set(ids);
    for (const id of [0, ...ids, ...ids.map((i) => i + 1), 2 ** 28, 7.5, -1]) expect(set.has(id), String(id)).toBe(truth.has(id));
  });

  it('matches a Set over 200,000 random adds and lookups', () => {
    const set = new IdSet();
    const truth = new Set<number>();
    let x = 12345;
    for (let i = 0; i < 200_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const id = x % 3_000_000;
      if (i % 2) {
        set.add(id);
        truth.add(id);
      } else expect(set.has(id)).toBe(truth.has(id));
    }
  });
});
