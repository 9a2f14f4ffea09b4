/**
 * The simulated judge's eyes: how it decides an image's true quality from its pixels.
 *
 * Default measure: coarse-scale roughness. The image is turned into luma
 * (0.299 R + 0.587 G + 0.114 B), averaged over 4x4 pixel blocks, and the 4-neighbour
 * Laplacian of that block grid is taken at every interior block; `roughness` is the mean
 * of its absolute values (the noise estimator of Immerkaer 1996, applied to blocks). Quality
 * falls linearly with roughness:
 *
 *     q = 5 - 4 * min(1, roughness / ROUGHNESS_AT_1)        (q in [1, 5])
 *
 * Why 4x4 blocks: JPEG q90 throws away high-frequency detail but keeps the low-frequency
 * content of every 8x8 block almost exactly, so a measure of coarse detail reads the same
 * value from a PNG and from its JPEG q90 re-encode (see `makeTestImage` and its test).
 * The measure knows noise only: a blurred or flat image reads as high quality. Tests that
 * need other truths plant them with the servers' `qualityOf` option.
 */
import sharp from 'sharp';

/** Side of the square blocks averaged before the Laplacian, in pixels. */
export const BLOCK = 4;
/** Roughness (grey levels, mean |Laplacian| on the block grid) that reads as quality 1. */
export const ROUGHNESS_AT_1 = 48;

/**
 * Mean absolute 4-neighbour Laplacian of the 4x4-block-averaged luma, in grey levels.
 * `pixels` is interleaved 8-bit (or float) samples with `channels` per pixel (1-4; only the
 * first three are read, alpha is ignored). Returns NaN when the image is smaller than
 * 3x3 blocks (12x12 pixels).
 */
export function roughness(
  pixels: ArrayLike<number>,
  width: number,
  height: number,
  channels = inferChannels(pixels.length, width, height),
): number {
  const bw = Math.floor(width / BLOCK);
  const bh = Math.floor(height / BLOCK);
  if (bw < 3 || bh < 3) return Number.NaN;
  const blocks = new Float64Array(bw * bh);
  for (let y = 0; y < bh * BLOCK; y++) {
    const by = Math.floor(y / BLOCK);
    for (let x = 0; x < bw * BLOCK; x++) {
      const i = (y * width + x) * channels;
      const luma =
        channels >= 3
          ? 0.299 * (pixels[i] ?? 0) + 0.587 * (pixels[i + 1] ?? 0) + 0.114 * (pixels[i + 2] ?? 0)
          : (pixels[i] ?? 0);
      blocks[by * bw + Math.floor(x / BLOCK)]! += luma;
    }
  }
  const area = BLOCK * BLOCK;
  for (let k = 0; k < blocks.length; k++) blocks[k]! /= area;
  let sum = 0;
  for (let y = 1; y < bh - 1; y++) {
    for (let x = 1; x < bw - 1; x++) {
      const c = blocks[y * bw + x]!;
      const around =
        blocks[(y - 1) * bw + x]! + blocks[(y + 1) * bw + x]! + blocks[y * bw + x - 1]! + blocks[y * bw + x + 1]!;
      sum += Math.abs(4 * c - around);
    }
  }
  return sum / ((bw - 2) * (bh - 2));
}

/** Quality in [1, 5] from a roughness value (see the header). NaN reads as 3: cannot tell. */
export function qualityFromRoughness(r: number): number {
  if (!Number.isFinite(r)) return 3;
  return 5 - 4 * Math.min(1, Math.max(0, r) / ROUGHNESS_AT_1);
}

/** Inverse of `qualityFromRoughness` on [1, 5]: the roughness that reads as `quality`. */
export function roughnessForQuality(quality: number): number {
  const q = Math.min(5, Math.max(1, quality));
  return (ROUGHNESS_AT_1 * (5 - q)) / 4;
}

/**
 * The simulated judge's default true quality of an image, in [1, 5], from its pixels.
 * Images smaller than 12x12 pixels read as 3.
 * @example
 * const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
 * measureQuality(data, info.width, info.height); // => 3.52
 */
export function measureQuality(rgbPixels: ArrayLike<number>, width: number, height: number): number {
  return qualityFromRoughness(roughness(rgbPixels, width, height));
}

function inferChannels(length: number, width: number, height: number): number {
  const c = length / (width * height);
  if (!Number.isInteger(c) || c < 1 || c > 4) {
    throw new RangeError(`Expected \`pixels\` to hold 1-4 samples per pixel of ${width}x${height}, got \`${length}\` samples`);
  }
  return c;
}

/** An image as the servers decode it: what `qualityOf` receives. */
export interface DecodedImage {
  /** Hex sha256 of the encoded bytes as received (after base64 decoding), not of any original file. */
  sha256: string;
  width: number;
  height: number;
  /** Interleaved 8-bit RGB, alpha flattened onto white. */
  pixels: Uint8Array;
  /** The default measure's quality (`measureQuality`), for `qualityOf` functions that transform it. */
  measured: number;
}

/** Decode encoded image bytes (PNG, JPEG, WebP, GIF) to RGB with sharp. Throws on undecodable bytes. */
export async function decodeImage(bytes: Uint8Array, sha256: string): Promise<DecodedImage> {
  const { data, info } = await sharp(bytes)
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    sha256,
    width: info.width,
    height: info.height,
    pixels,
    measured: qualityFromRoughness(roughness(pixels, info.width, info.height, info.channels)),
  };
}
