import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createRng, measureQuality } from '../support/judge-server/index.js';
import { makeTestImage } from '../support/test-images.js';

async function readQuality(encoded: Buffer): Promise<number> {
  const { data, info } = await sharp(encoded).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return measureQuality(data, info.width, info.height);
}

const qualities = [1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.25, 3.5, 3.75, 4, 4.25, 4.5, 4.75, 5];

describe('makeTestImage calibration against measureQuality', () => {
  for (const [width, height] of [
    [64, 64],
    [96, 48],
    [37, 53],
  ] as const) {
    it(`reads back within 0.15 at ${width}x${height}, from PNG and from a JPEG q90 re-encode`, async () => {
      const misses: string[] = [];
      for (const quality of qualities) {
        for (const seed of [0, 1, 2]) {
          const png = await makeTestImage({ quality, width, height, seed });
          const fromPng = await readQuality(png);
          const fromJpeg = await readQuality(await sharp(png).jpeg({ quality: 90 }).toBuffer());
          for (const [how, got] of [['png', fromPng], ['jpeg q90', fromJpeg]] as const) {
            if (Math.abs(got - quality) > 0.15) misses.push(`q=${quality} seed=${seed} ${how}: ${got.toFixed(3)}`);
          }
        }
      }
      expect(misses).toEqual([]);
    });
  }

  it('writes JPEG (q90) and WebP directly, still within 0.15', async () => {
    for (const quality of [1.5, 3, 4.5]) {
      const jpeg = await makeTestImage({ quality, format: 'jpeg', seed: 4 });
      expect((await sharp(jpeg).metadata()).format).toBe('jpeg');
      expect(Math.abs((await readQuality(jpeg)) - quality)).toBeLessThanOrEqual(0.15);
      const webp = await makeTestImage({ quality, format: 'webp', seed: 4 });
      expect((await sharp(webp).metadata()).format).toBe('webp');
    }
  });

  it('is deterministic in its seed and varies with it', async () => {
    const a = await makeTestImage({ quality: 3, seed: 9 });
    const b = await makeTestImage({ quality: 3, seed: 9 });
    const c = await makeTestImage({ quality: 3, seed: 10 });
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });

  it('rejects qualities outside [1, 5] and images under 12 pixels', async () => {
    await expect(makeTestImage({ quality: 5.5 })).rejects.toThrow(/Expected `quality` to be a number in \[1, 5\], got `5.5`/);
    await expect(makeTestImage({ quality: 3, width: 8 })).rejects.toThrow(/width/);
  });

  it('reads noise as lower quality: flat is 5, strong pixel noise or a checkerboard of 4px blocks is 1, tiny is 3', () => {
    const w = 32;
    const flat = new Uint8Array(w * w * 3).fill(128);
    expect(measureQuality(flat, w, w)).toBe(5);
    const rng = createRng('calibration');
    const noisy = new Uint8Array(w * w * 3);
    for (let p = 0; p < w * w; p++) noisy.fill(rng.next() < 0.5 ? 0 : 255, p * 3, p * 3 + 3);
    expect(measureQuality(noisy, w, w)).toBe(1);
    const checker = new Uint8Array(w * w * 3);
    for (let p = 0; p < w * w; p++) {
      const dark = (Math.floor((p % w) / 4) + Math.floor(p / w / 4)) % 2 === 0;
      checker.fill(dark ? 0 : 255, p * 3, p * 3 + 3);
    }
    expect(measureQuality(checker, w, w)).toBe(1);
    expect(measureQuality(new Uint8Array(8 * 8 * 3), 8, 8)).toBe(3);
  });
});
