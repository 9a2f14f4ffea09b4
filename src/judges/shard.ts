import { expected, UsageError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';

/**
 * A deterministic part of a run's items, for judging one dataset on several machines:
 * shard `index` of `count` holds the items whose key hashes to it. The key is the item's
 * identity: an image's content hash (score), a matched output's relative path (compare),
 * a candidate pair's two image hashes, sorted and joined by `:` (rank). Every machine computes the same split from
 * the same inputs, and the shards together hold every item exactly once.
 */
export interface Shard {
  index: number;
  count: number;
}

/** `k/n` with 0 <= k < n. */
export function parseShard(text: string, name = 'shard'): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!(count >= 1 && count <= 1_000_000 && index >= 0 && index < count)) {
    throw new UsageError(expected(name, 'k/n with 0 <= k < n, e.g. 0/4', text));
  }
  return { index, count };
}

/** Whether the item with this key belongs to the shard (the first 48 bits of sha256(key), mod n). */
export function inShard(key: string, shard: Shard): boolean {
  return Number.parseInt(sha256(key).slice(0, 12), 16) % shard.count === shard.index;
}

/** `k/n`, as stored with the run. */
export const shardLabel = (shard: Shard): string => `${shard.index}/${shard.count}`;
