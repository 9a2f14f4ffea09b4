/**
 * The one place that opens images with sharp: limits, input options, and the header
 * check that runs before any pixel is decoded. Reasons for failures are worded in
 * `_diagnose.ts`.
 */
import type { Metadata, Sharp } from 'sharp';
import { InputError, UsageError, expected } from '../core/errors.js';
import { READABLE_NAMES, decodeFailure, headerFailure } from './_diagnose.js';
import { sharedDecodeBudget, type DecodeBudget } from './decode-budget.js';

/** Limits that keep one image from exhausting memory or time. */
export interface ImageLimits {
  /**
   * Largest image accepted, in pixels (width x height of the first frame). sharp's own
   * default (268 million, 16383 x 16383) would refuse a 20000 x 20000 scan; streamed
   * decoding keeps memory flat whatever the size, so this bounds time, not memory.
   * @default 600_000_000 (20000 x 20000 x 1.5)
   */
  limitInputPixels?: number | undefined;
  /**
   * Largest estimated working memory, in bytes, allowed for an image whose decoder must
   * hold it whole (progressive JPEG, interlaced PNG, GIF, AVIF); such an image above it is
   * refused from its header, before any pixel is decoded. Other images are decoded as a
   * stream, shrinking on load where the format allows, and need tens of MiB whatever
   * their size. The bound is per image being decoded: run four at once, allow four times
   * this, or bound them together with `decodeBudget`. It assumes libvips' operation cache is off (`sharp.cache(false)`, a process-wide
   * setting for the CLI to make at start-up): with sharp's default cache a finished
   * decoder's memory can stay cached while the next one runs, doubling the peak.
   * @default 1_073_741_824 (1 GiB)
   * @example { maxDecodeBytes: 4 * 1024 ** 3 } // a machine with memory to spare
   */
  maxDecodeBytes?: number | undefined;
  /**
   * The memory budget this image's decode shares with every other decode in flight: the
   * decode waits until its estimated footprint fits (see {@link DecodeBudget}).
   * @default the process-wide `sharedDecodeBudget` (512 MiB, env `QUORUM_DECODE_MEMORY` in the CLI)
   * @example { decodeBudget: new DecodeBudget(256 * 1024 ** 2) }
   */
  decodeBudget?: DecodeBudget | undefined;
}

export const DEFAULT_LIMIT_INPUT_PIXELS = 600_000_000;
export const DEFAULT_MAX_DECODE_BYTES = 1024 ** 3;

/** sharp format names Quorum reads; AVIF is reported by sharp as `heif` (checked further below). */
const READABLE_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'tiff', 'gif', 'heif']);

interface ResolvedLimits {
  limitInputPixels: number;
  maxDecodeBytes: number;
  decodeBudget: DecodeBudget;
}

export function resolveLimits(limits: ImageLimits | undefined): ResolvedLimits {
  const limitInputPixels = limits?.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;
  const maxDecodeBytes = limits?.maxDecodeBytes ?? DEFAULT_MAX_DECODE_BYTES;
  if (!Number.isInteger(limitInputPixels) || limitInputPixels < 1) {
    throw new UsageError(expected('limitInputPixels', 'an integer >= 1', limitInputPixels));
  }
  if (!Number.isFinite(maxDecodeBytes) || maxDecodeBytes < 1) {
    throw new UsageError(expected('maxDecodeBytes', 'a number >= 1', maxDecodeBytes));
  }
  return { limitInputPixels, maxDecodeBytes, decodeBudget: limits?.decodeBudget ?? sharedDecodeBudget };
}

type SharpLibrary = (typeof import('sharp'))['default'];

let library: SharpLibrary | undefined;
let loading: Promise<SharpLibrary> | undefined;
const setups: ((sharp: SharpLibrary) => void)[] = [];

/**
 * sharp, loaded on first use: its native library is most of a short command's start-up,
 * and a cached rerun, or a run of small PNGs (checked in `_png.ts`, sent as they are),
 * never needs it.
 */
export function loadSharp(): Promise<SharpLibrary> {
  loading ??= import('sharp').then((module) => {
    library = module.default;
    for (const setup of setups) setup(library);
    return library;
  });
  return loading;
}

/**
 * Process-wide sharp settings (the CLI's: no operation cache, one libvips thread per
 * image), applied when sharp loads, or now if it has.
 */
export function configureSharp(setup: (sharp: SharpLibrary) => void): void {
  setups.push(setup);
  if (library) setup(library);
}

/**
 * A decoding pipeline over the original bytes: first frame only (sharp's default
 * `pages: 1`), EXIF orientation applied, streamed (`sequentialRead`), and failing on
 * decode errors such as truncation rather than returning grey rows. `failOn: 'error'`
 * rather than sharp's default `'warning'`: libjpeg warns about harmless oddities
 * (extraneous bytes before a marker) that would otherwise refuse viewable photos.
 */
export function decoder(data: Uint8Array, limits: ResolvedLimits): Sharp {
  // Every decode starts with `readHeader`, which loads sharp.
  if (!library) throw new Error('decoder() before readHeader() loaded sharp');
  return library(data, {
    failOn: 'error',
    limitInputPixels: limits.limitInputPixels,
    sequentialRead: true,
    autoOrient: true,
  });
}

/**
 * Reads the header only (no pixels) and refuses, with a reason, what Quorum cannot or
 * should not decode: unknown or unsupported formats, images over `limitInputPixels`, and
 * images that would need more than `maxDecodeBytes` to decode whole.
 */
export async function readHeader(path: string, data: Uint8Array, limits: ResolvedLimits): Promise<Metadata> {
  let meta: Metadata;
  try {
    // The pixel limit is checked below with a clearer message; the header read is cheap.
    meta = await (await loadSharp())(data, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new InputError(path, headerFailure(error), { cause: error });
  }
  const format = displayFormat(meta);
  if (!READABLE_FORMATS.has(meta.format) || format === 'heic') {
    throw new InputError(path, `unsupported image format \`${format}\` (expected ${READABLE_NAMES})`);
  }
  const pixels = meta.width * meta.height;
  if (pixels > limits.limitInputPixels) {
    throw new InputError(
      path,
      `image too large: ${meta.width} x ${meta.height} = ${pixels} pixels is over \`limitInputPixels\` (${limits.limitInputPixels})`,
    );
  }
  const whole = wholeDecodeBytes(meta);
  if (whole !== undefined && whole.bytes > limits.maxDecodeBytes) {
    throw new InputError(
      path,
      `image too large to decode: a ${meta.width} x ${meta.height} ${whole.what} must be decoded whole, ` +
        `about ${mebibytes(whole.bytes)} MiB, over \`maxDecodeBytes\` (${mebibytes(limits.maxDecodeBytes)} MiB); ` +
        `re-save it as ${whole.fix} or raise the limit`,
    );
  }
  return meta;
}

/**
 * Estimated working memory of decoders that cannot stream, from the header, in bytes;
 * `undefined` for streamed formats (baseline JPEG, non-interlaced PNG, TIFF, WebP), whose
 * memory does not grow with the image. Factors are peak RSS growth per pixel for a load
 * and an encode, measured with sharp 0.35 / libvips 8.18 and rounded up: progressive JPEG
 * keeps every DCT coefficient (2 bytes per sample: 3.0-3.2 bytes per pixel at 4:2:0, so
 * x 1.1); interlaced PNG keeps the whole image (3.1-3.5 bytes per RGB pixel, so x 1.2);
 * GIF decodes to RGBA (4.2); AVIF through libheif 18.4.
 */
function wholeDecodeBytes(meta: Metadata): { bytes: number; what: string; fix: string } | undefined {
  const pixels = meta.width * meta.height;
  switch (meta.format) {
    case 'jpeg':
      if (!meta.isProgressive) return undefined;
      return { bytes: pixels * 2.2 * jpegSamplesPerPixel(meta), what: 'progressive JPEG', fix: 'baseline JPEG' };
    case 'png': {
      if (!meta.isProgressive) return undefined;
      const bytesPerSample = (meta.bitsPerSample ?? 8) > 8 ? 2 : 1;
      return { bytes: pixels * meta.channels * bytesPerSample * 1.2, what: 'interlaced PNG', fix: 'non-interlaced PNG' };
    }
    case 'gif':
      return { bytes: pixels * 4.5, what: 'GIF', fix: 'PNG' };
    case 'heif':
      return { bytes: pixels * 20, what: 'AVIF', fix: 'PNG or JPEG' };
    default:
      return undefined;
  }
}

/**
 * Working memory of one decode, estimated from the header in bytes: what a whole decode
 * needs for formats that cannot stream (see {@link wholeDecodeBytes}); for streamed ones,
 * the whole frame (width x height x channels x bytes per sample) for small images and at
 * most {@link STREAMED_DECODE_BYTES} for large ones, whose decoders hold a few strips of
 * rows at a time (a 6000 x 6000 baseline JPEG, PNG, WebP or TIFF: 45-80 MiB of RSS
 * growth for a load and an encode, most of it libraries that stay loaded).
 */
export function decodeFootprint(meta: Metadata): number {
  const whole = wholeDecodeBytes(meta);
  if (whole !== undefined) return whole.bytes;
  const bytesPerSample = (meta.bitsPerSample ?? 8) > 8 || (meta.depth !== undefined && meta.depth !== 'uchar') ? 2 : 1;
  return Math.min(meta.width * meta.height * meta.channels * bytesPerSample, STREAMED_DECODE_BYTES);
}

/** Budget charged to a large streamed decode (strips of rows, the resize's buffers, the encoded output). */
const STREAMED_DECODE_BYTES = 32 * 1024 ** 2;

/** Samples per pixel from JPEG chroma subsampling `J:a:b[:alpha]`: luma 1, each chroma (a+b)/2J. */
function jpegSamplesPerPixel(meta: Metadata): number {
  const parts = (meta.chromaSubsampling ?? '').split(':').map(Number);
  const [j, a, b] = parts;
  if (j === undefined || a === undefined || b === undefined || !(j > 0)) return meta.channels;
  return 1 + (2 * (a + b)) / (2 * j) + (parts.length > 3 ? 1 : 0);
}

/** sharp's format, except that AVIF and HEIC (both `heif` to sharp) are told apart. */
function displayFormat(meta: Pick<Metadata, 'format' | 'compression'>): string {
  if (meta.format !== 'heif') return meta.format;
  return meta.compression === 'av1' ? 'avif' : 'heic';
}

/**
 * Runs a sharp pipeline over an image whose header `readHeader` accepted, turning a
 * decode failure into an `InputError` that says what is wrong with this file.
 */
export async function decodeOrExplain<T>(
  path: string,
  data: Uint8Array,
  format: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new InputError(path, decodeFailure(format, data, error), { cause: error });
  }
}

function mebibytes(bytes: number): number {
  return Math.max(1, Math.round(bytes / 1024 ** 2));
}
