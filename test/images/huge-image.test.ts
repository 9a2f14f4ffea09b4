import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, write } from './_fixtures.js';

const SIDE = 20_000;
/** The bound this test holds the loader to: peak RSS growth while loading and encoding one image. */
const MAX_GROWTH_MIB = 512;

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterAll(() => cleanup());

/**
 * A 20000 x 20000 picture of four coloured quadrants, made by enlarging 2 x 2 pixels
 * (nearest neighbour, streamed): about a second and 100 MiB, where `sharp({ create })`
 * took 10 s and 2.3 GiB on two cores.
 */
function quadrants(): Sharp {
  const pixels = Buffer.from([200, 80, 40, 30, 90, 200, 10, 200, 20, 250, 250, 250]);
  return sharp(pixels, { raw: { width: 2, height: 2, channels: 3 }, limitInputPixels: false }).resize(SIDE, SIDE, {
    kernel: 'nearest',
  });
}

interface Measured {
  source: { width: number; height: number; format: string };
  encoded: { width: number; height: number; mediaType: string; bytes: number };
  baselineMiB: number;
  peakMiB: number;
  growthMiB: number;
  ms: number;
}

async function measure(path: string, maxSide: number): Promise<Measured> {
  const script = fileURLToPath(new URL('./_peak-memory.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, path, String(maxSide)], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
  });
  return JSON.parse(stdout) as Measured;
}

describe('a 20000 x 20000 image does not exhaust memory', () => {
  it.each([
    ['baseline JPEG', 'huge.jpg', () => quadrants().jpeg({ quality: 50 }), 'jpeg', 'image/jpeg'],
    ['PNG', 'huge.png', () => quadrants().png({ compressionLevel: 1 }), 'png', 'image/png'],
  ] as const)(`%s: loads and encodes for maxSide 1024 within ${MAX_GROWTH_MIB} MiB of RSS growth`, async (...row) => {
    const [, name, make, format, mediaType] = row;
    const path = await write(dir, name, make());
    const measured = await measure(path, 1024);
    expect(measured.source).toEqual({ width: SIDE, height: SIDE, format });
    expect(measured.encoded).toMatchObject({ width: 1024, height: 1024, mediaType });
    expect(measured.growthMiB, JSON.stringify(measured)).toBeLessThan(MAX_GROWTH_MIB);
  });
});
