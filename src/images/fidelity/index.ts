/**
 * Full-reference fidelity measures the super-resolution literature reports, as pure
 * functions over interleaved 8-bit pixel arrays. Definitions follow scikit-image
 * (`skimage.metrics`) and BasicSR, and are tested against scikit-image's values:
 *
 * - PSNR = 10 log10(255^2 / MSE), MSE over every sample of every channel (skimage
 *   `peak_signal_noise_ratio`, `data_range=255`). Identical images give `Infinity`.
 * - SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5 (skimage
 *   `gaussian_weights=True`, truncate 3.5), population covariances
 *   (`use_sample_covariance=False`), K1 = 0.01, K2 = 0.03, L = 255; the SSIM map is
 *   averaged over the pixels whose window lies wholly inside the image (skimage crops
 *   (11 - 1) / 2 = 5 pixels of the map; BasicSR's `valid` convolution is the same).
 *   Colour images: the mean of the per-channel SSIMs (skimage `channel_axis=-1`).
 * - Y channel: ITU-R BT.601 luma as MATLAB `rgb2ycbcr` (and skimage `rgb2ycbcr`, BasicSR
 *   `rgb2ycbcr(y_only=True)`): Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 for R, G,
 *   B in 0-255, kept as a real number (not rounded), compared with L = 255.
 * - The SR convention: `crop` pixels (the scale factor) are cut from every side of both
 *   images before measuring.
 * - Downscaling for consistency with the input: the mean of each `factor` x `factor`
 *   block (a box filter; skimage `downscale_local_mean`, OpenCV `INTER_AREA` for integer
 *   factors).
 */

/** An image as interleaved samples, `channels` per pixel, rows top to bottom. */
export interface Pixels {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: number;
}

export interface FidelityOptions {
  /** Pixels cut from every side of both images before measuring (the SR convention: the scale). @default 0 */
  crop?: number;
  /** Peak signal value L. @default 255 */
  dataRange?: number;
}

function checkPair(a: Pixels, b: Pixels, crop: number): void {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) {
    throw new RangeError(
      `Expected images of the same size, got \`${a.width}x${a.height}x${a.channels}\` and \`${b.width}x${b.height}x${b.channels}\``,
    );
  }
  for (const p of [a, b]) {
    if (p.data.length !== p.width * p.height * p.channels) {
      throw new RangeError(`Expected \`data\` to hold ${p.width * p.height * p.channels} samples, got \`${p.data.length}\``);
    }
  }
  if (!Number.isInteger(crop) || crop < 0 || 2 * crop >= Math.min(a.width, a.height)) {
    throw new RangeError(`Expected \`crop\` to be an integer >= 0 leaving pixels inside ${a.width}x${a.height}, got \`${crop}\``);
  }
}

/**
 * The channels of `p` inside the crop as float64 planes, row-major, read in one pass over
 * the interleaved samples.
 */
function planes(p: Pixels, crop: number): Float64Array[] {
  const width = p.width - 2 * crop;
  const height = p.height - 2 * crop;
  const c = p.channels;
  const data = p.data;
  // A single plane already whole (a luma image, no crop) is used as it is.
  if (c === 1 && crop === 0 && data instanceof Float64Array) return [data];
  const out = Array.from({ length: c }, () => new Float64Array(width * height));
  for (let y = 0; y < height; y++) {
    const start = ((y + crop) * p.width + crop) * c;
    const row = y * width;
    for (let k = 0; k < c; k++) {
      const plane = out[k] as Float64Array;
      for (let x = 0, i = start + k; x < width; x++, i += c) plane[row + x] = data[i] as number;
    }
  }
  return out;
}

/**
 * Peak signal-to-noise ratio in dB; `Infinity` for identical images. One pass over the
 * interleaved samples inside the crop, nothing allocated.
 * @example
 * psnr({ data: [0, 0], width: 2, height: 1, channels: 1 }, { data: [0, 255], width: 2, height: 1, channels: 1 });
 * // => 3.0103 (MSE = 255^2 / 2)
 */
export function psnr(a: Pixels, b: Pixels, options: FidelityOptions = {}): number {
  const crop = options.crop ?? 0;
  checkPair(a, b, crop);
  const L = options.dataRange ?? 255;
  const rowLength = (a.width - 2 * crop) * a.channels;
  const height = a.height - 2 * crop;
  const x = a.data;
  const y = b.data;
  let sum = 0;
  for (let r = 0; r < height; r++) {
    const start = ((r + crop) * a.width + crop) * a.channels;
    const end = start + rowLength;
    for (let i = start; i < end; i++) {
      const d = (x[i] as number) - (y[i] as number);
      sum += d * d;
    }
  }
  const mse = sum / (rowLength * height);
  return mse === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((L * L) / mse);
}

/** Side of the SSIM window and its Gaussian (skimage: radius int(3.5 * 1.5 + 0.5) = 5). */
const SSIM_SIGMA = 1.5;
const SSIM_RADIUS = 5;
const SSIM_KERNEL = (() => {
  const k = Array.from({ length: 2 * SSIM_RADIUS + 1 }, (_, i) => Math.exp(-0.5 * ((i - SSIM_RADIUS) / SSIM_SIGMA) ** 2));
  const total = k.reduce((s, v) => s + v, 0);
  return Float64Array.from(k, (v) => v / total);
})();
const TAPS = SSIM_KERNEL.length;

/**
 * Mean SSIM of one plane pair over the `valid` region, (w - 10) x (h - 10). The five
 * Gaussian-filtered quantities (x, y, x^2, y^2, xy) are filtered separably in one sweep:
 * each input row is filtered horizontally once into a ring of the last 11 rows, and each
 * output row is the vertical filter of that ring, consumed at once into the SSIM sum, so
 * memory is 5 x 11 rows however large the image. The kernel is symmetric, so each pair of
 * taps at equal distance is added before it is weighted (6 products per 11 taps).
 * Arithmetic is float64 like scikit-image's (it filters float64 arrays): only the order
 * of the additions differs, ~1e-12 apart.
 */
function ssimPlane(x: Float64Array, y: Float64Array, width: number, height: number, L: number): number {
  const [k0, k1, k2, k3, k4, k5] = SSIM_KERNEL as unknown as [number, number, number, number, number, number];
  const C1 = (0.01 * L) ** 2;
  const C2 = (0.03 * L) ** 2;
  const ow = width - TAPS + 1;
  const oh = height - TAPS + 1;
  // Ring slot r % 11 holds input row r filtered horizontally: x, y, x^2, y^2, xy, one after another.
  const ring = Array.from({ length: TAPS }, () => new Float64Array(5 * ow));
  // One input row and its products, so every quantity is filtered by the same loop.
  const src = new Float64Array(5 * width);
  const acc = new Float64Array(5 * ow);
  const filterRow = (r: number) => {
    const base = r * width;
    for (let i = 0; i < width; i++) {
      const a = x[base + i] as number;
      const b = y[base + i] as number;
      src[i] = a;
      src[width + i] = b;
      src[2 * width + i] = a * a;
      src[3 * width + i] = b * b;
      src[4 * width + i] = a * b;
    }
    const slot = ring[r % TAPS] as Float64Array;
    for (let q = 0; q < 5; q++) {
      const from = q * width;
      const to = q * ow;
      for (let i = 0; i < ow; i++) {
        const j = from + i;
        slot[to + i] =
          k0 * ((src[j] as number) + (src[j + 10] as number)) +
          k1 * ((src[j + 1] as number) + (src[j + 9] as number)) +
          k2 * ((src[j + 2] as number) + (src[j + 8] as number)) +
          k3 * ((src[j + 3] as number) + (src[j + 7] as number)) +
          k4 * ((src[j + 4] as number) + (src[j + 6] as number)) +
          k5 * (src[j + 5] as number);
      }
    }
  };
  for (let r = 0; r < TAPS - 1; r++) filterRow(r);
  let sum = 0;
  for (let out = 0; out < oh; out++) {
    filterRow(out + TAPS - 1);
    const s = (k: number) => ring[(out + k) % TAPS] as Float64Array;
    const [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10] = [s(0), s(1), s(2), s(3), s(4), s(5), s(6), s(7), s(8), s(9), s(10)];
    for (let i = 0; i < 5 * ow; i++) {
      acc[i] =
        k0 * ((s0[i] as number) + (s10[i] as number)) +
        k1 * ((s1[i] as number) + (s9[i] as number)) +
        k2 * ((s2[i] as number) + (s8[i] as number)) +
        k3 * ((s3[i] as number) + (s7[i] as number)) +
        k4 * ((s4[i] as number) + (s6[i] as number)) +
        k5 * (s5[i] as number);
    }
    for (let i = 0; i < ow; i++) {
      const mx = acc[i] as number;
      const my = acc[ow + i] as number;
      const vx = (acc[2 * ow + i] as number) - mx * mx;
      const vy = (acc[3 * ow + i] as number) - my * my;
      const vxy = (acc[4 * ow + i] as number) - mx * my;
      sum += ((2 * mx * my + C1) * (2 * vxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
    }
  }
  return sum / (ow * oh);
}

/**
 * Mean structural similarity (Wang et al. 2004) with scikit-image's Gaussian settings
 * (see the header); colour images average their channels. Needs at least 11x11 pixels
 * after the crop.
 * @example
 * ssim(img, img); // => 1
 */
export function ssim(a: Pixels, b: Pixels, options: FidelityOptions = {}): number {
  const crop = options.crop ?? 0;
  checkPair(a, b, crop);
  const width = a.width - 2 * crop;
  const height = a.height - 2 * crop;
  if (width < TAPS || height < TAPS) {
    throw new RangeError(`Expected at least ${TAPS}x${TAPS} pixels for SSIM, got \`${width}x${height}\``);
  }
  const L = options.dataRange ?? 255;
  const xs = planes(a, crop);
  const ys = planes(b, crop);
  let total = 0;
  for (let c = 0; c < a.channels; c++) total += ssimPlane(xs[c] as Float64Array, ys[c] as Float64Array, width, height, L);
  return total / a.channels;
}

/**
 * BT.601 luma of 8-bit RGB(A) pixels as MATLAB `rgb2ycbcr` computes it, unrounded:
 * Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, in [16, 235].
 * @example
 * lumaBT601({ data: [255, 255, 255], width: 1, height: 1, channels: 3 }).data[0]; // => 235
 */
export function lumaBT601(p: Pixels): Pixels & { data: Float64Array } {
  if (p.channels < 3) throw new RangeError(`Expected RGB pixels (3 or 4 channels), got \`${p.channels}\``);
  const n = p.width * p.height;
  const out = new Float64Array(n);
  for (let i = 0, j = 0; i < n; i++, j += p.channels) {
    out[i] = 16 + (65.481 * (p.data[j] as number) + 128.553 * (p.data[j + 1] as number) + 24.966 * (p.data[j + 2] as number)) / 255;
  }
  return { data: out, width: p.width, height: p.height, channels: 1 };
}

/**
 * Box-filter downscale by an integer factor: each output sample is the mean of a
 * `factor` x `factor` block (skimage `downscale_local_mean` for sizes divisible by the
 * factor). Sizes must be multiples of `factor`.
 */
export function downscaleMean(p: Pixels, factor: number): Pixels & { data: Float64Array } {
  if (!Number.isInteger(factor) || factor < 1 || p.width % factor !== 0 || p.height % factor !== 0) {
    throw new RangeError(`Expected \`factor\` to be an integer >= 1 dividing ${p.width}x${p.height}, got \`${factor}\``);
  }
  const w = p.width / factor;
  const h = p.height / factor;
  const c = p.channels;
  const out = new Float64Array(w * h * c);
  for (let y = 0; y < p.height; y++) {
    const oy = Math.floor(y / factor);
    for (let x = 0; x < p.width; x++) {
      const o = (oy * w + Math.floor(x / factor)) * c;
      const i = (y * p.width + x) * c;
      for (let k = 0; k < c; k++) out[o + k]! += p.data[i + k] as number;
    }
  }
  const area = factor * factor;
  for (let i = 0; i < out.length; i++) out[i]! /= area;
  return { data: out, width: w, height: h, channels: c };
}

/** The measures `quorum hallucination` reports for one SR output. */
export interface FidelityReport {
  /** SR against GT on RGB, `scale` border cropped (null without GT). `psnr` is Infinity for identical images. */
  psnrRgb: number | null;
  ssimRgb: number | null;
  /** SR against GT on BT.601 Y, `scale` border cropped (null without GT). */
  psnrY: number | null;
  ssimY: number | null;
  /** SR box-downscaled by `scale` against the LR input, RGB, no crop: consistency with the input. */
  psnrLr: number;
  ssimLr: number | null;
}

/**
 * Every measure of one SR output: against the ground truth when given, and against its
 * LR input after a box downscale. SSIM against the LR is null when the LR is smaller than
 * the 11x11 window.
 */
export function fidelityReport(input: { sr: Pixels; lr: Pixels; gt?: Pixels | undefined; scale: number }): FidelityReport {
  const { sr, lr, gt, scale } = input;
  const down = downscaleMean(sr, scale);
  const lrFits = lr.width >= SSIM_KERNEL.length && lr.height >= SSIM_KERNEL.length;
  const withGt = gt
    ? (() => {
        const crop = scale;
        const ySr = lumaBT601(sr);
        const yGt = lumaBT601(gt);
        return {
          psnrRgb: psnr(sr, gt, { crop }),
          ssimRgb: ssim(sr, gt, { crop }),
          psnrY: psnr(ySr, yGt, { crop }),
          ssimY: ssim(ySr, yGt, { crop }),
        };
      })()
    : { psnrRgb: null, ssimRgb: null, psnrY: null, ssimY: null };
  return { ...withGt, psnrLr: psnr(down, lr), ssimLr: lrFits ? ssim(down, lr) : null };
}
