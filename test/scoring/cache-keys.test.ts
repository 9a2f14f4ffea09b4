/**
 * Cache keys are what make reruns free: the fast path that builds a question's sample keys
 * must give exactly the keys of the definition (`cacheKey`), or every stored call would
 * be asked again after an upgrade.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { cacheKey, sampleSlots } from '../../src/judges/session/session.js';

it('sampleSlots gives the same key as cacheKey for every sample, whatever the question', () => {
  const json = fc.jsonValue();
  fc.assert(
    fc.property(
      fc.string(),
      fc.string(),
      fc.array(fc.string({ minLength: 1, maxLength: 64 }), { maxLength: 3 }),
      fc.dictionary(fc.string(), json),
      fc.integer({ min: 0, max: 20 }),
      (judgeId, promptHash, imageHashes, params, count) => {
        const slots = sampleSlots({ judgeId, promptHash, imageHashes, params, count });
        expect(slots.map((s) => s.sampleIndex)).toEqual(Array.from({ length: count }, (_, i) => i));
        for (const s of slots) {
          expect(s.cacheKey).toBe(cacheKey({ judgeId, promptHash, imageHashes, params, sampleIndex: s.sampleIndex }));
        }
        // A frozen parameters object (scoreParams hands one out per run) has its JSON
        // remembered: the same keys, the first time and again.
        const frozen = Object.freeze({ ...params });
        for (let again = 0; again < 2; again++) {
          expect(sampleSlots({ judgeId, promptHash, imageHashes, params: frozen, count }).map((s) => s.cacheKey)).toEqual(slots.map((s) => s.cacheKey));
        }
      },
    ),
    { numRuns: 300 },
  );
});

it('a key stored by an earlier Quorum is still found: the definition is unchanged', () => {
  // sha256 of {"imageHashes":["aa"],"judgeId":"j","params":{"method":"sample"},"promptHash":"p","sampleIndex":2}
  expect(sampleSlots({ judgeId: 'j', promptHash: 'p', imageHashes: ['aa'], params: { method: 'sample' }, count: 3 })[2]?.cacheKey).toBe(
    '13f8a38e2d22c186797d5ceeb8d15bcbd827b21aba410c87b69a04eadecbf319',
  );
});
