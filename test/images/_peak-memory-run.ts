/**
 * Child process for the decoding-budget test: registers every file with one
 * `ImageRegistry` at once and encodes them all at once, as a run's pipeline does, under a
 * process-wide decoding budget of BUDGET_MIB, and prints as JSON how far the peak resident
 * set grew. `node --import tsx test/images/_peak-memory-run.ts BUDGET_MIB MAX_SIDE FILE...`
 */
import sharp from 'sharp';
import { sharedDecodeBudget } from '../../src/images/index.js';
import { ImageRegistry } from '../../src/judges/image-registry.js';
import { Store } from '../../src/store/store.js';

const [budgetMiB, maxSide, ...files] = process.argv.slice(2);
if (budgetMiB === undefined || maxSide === undefined || files.length === 0) {
  throw new Error('usage: _peak-memory-run.ts BUDGET_MIB MAX_SIDE FILE...');
}
// The CLI's process-wide settings (cli/main.ts), QUORUM_DECODE_MEMORY included.
sharp.cache(false);
sharp.concurrency(1);
sharedDecodeBudget.capacity = Number(budgetMiB) * 1024 ** 2;

const store = Store.open(':memory:');
const registry = new ImageRegistry(store, Number(maxSide));
// maxRSS is the high-water mark in KiB; everything imported (sharp, SQLite) is in the baseline.
const baselineKiB = process.resourceUsage().maxRSS;
const parts = await Promise.all(
  files.map(async (file) => {
    const image = await registry.register(file);
    return image.encode();
  }),
);
const peakKiB = process.resourceUsage().maxRSS;
store.close();
process.stdout.write(
  JSON.stringify({
    encoded: parts.map((p) => ({ width: p.width, height: p.height, mediaType: p.mediaType })),
    budgetPeakMiB: Math.round(sharedDecodeBudget.peak / 1024 ** 2),
    baselineMiB: Math.round(baselineKiB / 1024),
    growthMiB: Math.round((peakKiB - baselineKiB) / 1024),
  }),
);
