/** The orders pairs are read and listed in (no statistics here: `quorum show` loads it). */

/**
 * Rank pairs in a canonical order: content, then the two item indices (a candidate pair is
 * unique by these). Fits and resampling read pairs in this order, so the same judged
 * pairs give the same scores and intervals whatever order they were judged in
 * (concurrency, cache) and `quorum show` lists them as the run did.
 */
export function canonicalPairs<P extends { itemA: number; itemB: number; content?: string | undefined }>(pairs: readonly P[]): P[] {
  return [...pairs].sort((x, y) => {
    const cx = x.content ?? '';
    const cy = y.content ?? '';
    return (cx < cy ? -1 : cx > cy ? 1 : 0) || x.itemA - y.itemA || x.itemB - y.itemB;
  });
}

/** Compare pairs in key order (keys are unique). */
export function byKey<P extends { key: string }>(pairs: readonly P[]): P[] {
  return [...pairs].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}
