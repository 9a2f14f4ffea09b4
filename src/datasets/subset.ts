/**
 * Subsets of a dataset: `--split`, then a seeded `--sample N`, then `--limit N` (the
 * first N). Order is kept, so a subset prints in the label file's order.
 */
import { UsageError } from '../core/errors.js';
import { createRandom } from '../aggregate/random.js';
import type { Dataset, DatasetItem } from './types.js';

export interface SubsetOptions {
  /** Keep only this split (`train`, `val`, `test`; official or seeded). */
  split?: string | undefined;
  /** Keep N items drawn without replacement with `seed`. */
  sample?: number | undefined;
  /** Keep the first N items. */
  limit?: number | undefined;
  /** @default 0 */
  seed?: number | undefined;
}

export function subset(dataset: Dataset, options: SubsetOptions): DatasetItem[] {
  let items = dataset.items;
  if (options.split !== undefined) {
    const split = options.split;
    items = items.filter((item) => item.split === split);
    if (items.length === 0) {
      const names = [...new Set(dataset.items.map((i) => i.split))].filter((s) => s !== undefined).join(', ');
      throw new UsageError(`Expected \`split\` to be one of ${names || 'none (the dataset has no items)'}, got \`${split}\``);
    }
  }
  const sample = options.sample;
  if (sample !== undefined && sample < items.length) {
    // Partial Fisher-Yates over positions; the positions kept are put back in order.
    const random = createRandom(options.seed ?? 0);
    const positions = Array.from(items, (_, i) => i);
    for (let i = 0; i < sample; i++) {
      const j = i + random.integer(positions.length - i);
      [positions[i], positions[j]] = [positions[j] as number, positions[i] as number];
    }
    const kept = positions.slice(0, sample).sort((a, b) => a - b);
    const from = items;
    items = kept.map((p) => from[p] as DatasetItem);
  }
  if (options.limit !== undefined) items = items.slice(0, options.limit);
  return items;
}
