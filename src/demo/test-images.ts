/**
 * Test images whose true quality the simulated judge can read back from the pixels.
 *
 * An image is a smooth colour gradient (linear in x and y, so its block Laplacian is
 * zero) plus a mottled grey noise field whose coarse-scale roughness is set exactly to
 * the value that `measureQuality` maps to the requested quality. The noise is the same
 * on R, G and B, so it lives in luma only and survives JPEG chroma subsampling; it is
 * smooth at the 4-pixel scale, so JPEG q90 keeps it. Measured quality stays within
 * +-0.15 of the request after a PNG round trip and after a JPEG q90 re-encode at the same
 * size (tested in test/judge-server/calibration.test.ts). Resizing changes the reading.
 *
 * @example
 * const png = await makeTestImage({ quality: 3.5, seed: 7 });
 * const jpg = await makeTestImage({ quality: 2, width: 96, height: 64, format: 'jpeg' });
 */
import sharp from 'sharp';
import { BLOCK, roughness, roughnessForQuality } from './judge-server/quality.js';
import { createRng } from './judge-server/random.js';

export interface TestImageOptions {
  /** True quality in [1, 5] as the simulated judge will read it. */
  quality: number;
  /** @default 64 */
  width?: number;
  /** @default 64 */
  height?: number;
  /** `jpeg` is written at quality 90. @default 'png' */
  format?: 'png' | 'jpeg' | 'webp';
  /** Seeds the noise pattern and the gradient's colours: same options, same bytes. @default 0 */
  seed?: number;
}

/** Make an encoded test image whose simulated-judge quality is `quality` (+-0.15). */
export async function makeTestImage(options: TestImageOptions): Promise<Buffer> {
  const { quality, width = 64, height = 64, format = 'png', seed = 0 } = options;
  if (!(quality >= 1 && quality <= 5)) {
    throw new RangeError(`Expected \`quality\` to be a number in [1, 5], got \`${quality}\``);
  }
  if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 12 && height >= 12)) {
    throw new RangeError(`Expected \`width\` and \`height\` to be integers >= 12, got \`${width}x${height}\``);
  }
  const pixels = renderTestPixels(quality, width, height, seed);
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  if (format === 'jpeg') return image.jpeg({ quality: 90 }).toBuffer();
  if (format === 'webp') return image.webp({ quality: 90 }).toBuffer();
  return image.png().toBuffer();
}

/** The raw interleaved RGB pixels behind `makeTestImage`, before encoding. */
export function renderTestPixels(quality: number, width: number, height: number, seed = 0): Uint8Array {
  const rng = createRng(`test-image|${seed}|${width}x${height}`);
  const noise = smoothNoise(width, height, rng);
  // Per-channel linear gradients kept in [96, 160] so noise up to ~+-90 never clips.
  const channel = () => ({ base: 112 + rng.next() * 32, dx: (rng.next() - 0.5) * 32, dy: (rng.next() - 0.5) * 32 });
  const gradients = [channel(), channel(), channel()];
  const out = new Uint8Array(width * height * 3);
  const render = (scale: number): void => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const n = noise[y * width + x]! * scale;
        for (let c = 0; c < 3; c++) {
          const g = gradients[c]!;
          const v = g.base + (g.dx * x) / width + (g.dy * y) / height + n;
          out[(y * width + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(v)));
        }
      }
    }
  };
  const target = roughnessForQuality(quality);
  const raw = roughness(noise, width, height, 1);
  let scale = target === 0 || raw === 0 ? 0 : target / raw;
  render(scale);
  // Rounding to 8 bits moves the roughness a little; two corrections on the final pixels
  // cancel that where the noise is well above the rounding floor (~0.3 grey levels).
  for (let i = 0; i < 2 && target >= 1; i++) {
    scale *= target / roughness(out, width, height, 3);
    render(scale);
  }
  return out;
}

/** Gaussian values on a grid with BLOCK-pixel cells, bilinearly interpolated: mottled grain. */
function smoothNoise(width: number, height: number, rng: { normal(): number }): Float64Array {
  const gw = Math.ceil(width / BLOCK) + 2;
  const gh = Math.ceil(height / BLOCK) + 2;
  const grid = new Float64Array(gw * gh);
  for (let i = 0; i < grid.length; i++) grid[i] = rng.normal();
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const fy = y / BLOCK;
    const y0 = Math.floor(fy);
    const ty = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = x / BLOCK;
      const x0 = Math.floor(fx);
      const tx = fx - x0;
      const a = grid[y0 * gw + x0]!;
      const b = grid[y0 * gw + x0 + 1]!;
      const c = grid[(y0 + 1) * gw + x0]!;
      const d = grid[(y0 + 1) * gw + x0 + 1]!;
      out[y * width + x] = (a * (1 - tx) + b * tx) * (1 - ty) + (c * (1 - tx) + d * tx) * ty;
    }
  }
  return out;
}
