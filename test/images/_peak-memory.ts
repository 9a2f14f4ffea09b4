/**
 * Child process for the huge-image test: loads and encodes one file and prints, as JSON,
 * how far the peak resident set grew while doing so. Run in its own process so the peak
 * is this image's alone: `node --import tsx test/images/_peak-memory.ts FILE MAX_SIDE`.
 */
import { encodeForJudge, loadImage } from '../../src/images/index.js';

const [file, maxSide] = process.argv.slice(2);
if (file === undefined || maxSide === undefined) throw new Error('usage: _peak-memory.ts FILE MAX_SIDE');

// maxRSS is the high-water mark in KiB; everything imported (sharp, libvips) is counted in the baseline.
const baselineKiB = process.resourceUsage().maxRSS;
const started = performance.now();
const image = await loadImage(file);
const part = await encodeForJudge(image, { maxSide: Number(maxSide) });
const peakKiB = process.resourceUsage().maxRSS;
process.stdout.write(
  JSON.stringify({
    source: { width: image.width, height: image.height, format: image.format },
    encoded: { width: part.width, height: part.height, mediaType: part.mediaType, bytes: part.data.length },
    baselineMiB: Math.round(baselineKiB / 1024),
    peakMiB: Math.round(peakKiB / 1024),
    growthMiB: Math.round((peakKiB - baselineKiB) / 1024),
    ms: Math.round(performance.now() - started),
  }),
);
