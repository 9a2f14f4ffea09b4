import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { fileSystemReason } from './_file-system.js';
import { decodeFootprint, decodeOrExplain, decoder, readHeader, resolveLimits, type ImageLimits } from './_sharp.js';
import { checkPng, isPng } from './_png.js';

/** Original file bytes, read once, with the path they came from (for error messages). */
export interface ImageSource {
  path: string;
  data: Uint8Array;
  /** sha256 of `data`, when the caller has hashed it already (the registry does, to look the image up). */
  sha256?: string | undefined;
}

/** What Quorum knows about one input image after checking that it decodes. */
export interface LoadedImage {
  path: string;
  /** sha256 of the original file bytes: the image's identity (same picture, two names: one image). */
  sha256: string;
  /** Size of the original file, in bytes. */
  bytes: number;
  /** sharp's format name: `jpeg`, `png`, `webp`, `tiff`, `gif`, or `heif` for AVIF. */
  format: string;
  /** Width in pixels after EXIF orientation (of the first frame for animations). */
  width: number;
  /** Height in pixels after EXIF orientation (of the first frame for animations). */
  height: number;
  /** EXIF orientation tag (1-8) when the file has one. */
  orientation?: number;
  hasAlpha: boolean;
  /**
   * Whether the file can be sent to a judge as it is (see `passThrough` in encode.ts):
   * PNG or JPEG (every judge reads them; llama.cpp's loader cannot read WebP), one frame,
   * upright, 8-bit, no EXIF (GPS) and no ICC profile.
   */
  sendable: boolean;
  /** Number of frames or pages when the format reports it; only the first is judged. */
  pages?: number;
}

/** Longest side of the throwaway decode that proves the pixels are readable. */
const CHECK_SIDE = 64;

/**
 * Reads a file once, with the failures a user can act on as `InputError`s: missing,
 * a directory, unreadable, or empty.
 *
 * @example
 * const source = await readImageFile('photos/a.jpg'); // { path, data }
 */
export async function readImageFile(path: string): Promise<ImageSource> {
  let data: Uint8Array;
  try {
    // Synchronous on purpose: for the small files most runs are made of, fs.promises'
    // readFile costs ~15x the CPU (0.3 ms against 0.02 ms for a 10 KB file, bench/score.ts),
    // and every byte is needed at once anyway; a 100 MB file blocks for tens of ms.
    data = readFileSync(path);
  } catch (error) {
    throw new InputError(path, fileSystemReason(error), { cause: error });
  }
  if (data.byteLength === 0) throw new InputError(path, 'file is empty (0 bytes)');
  return { path, data };
}

/**
 * Reads, hashes and checks one image: the header must name a supported format within
 * the limits, and the pixels must decode to the end, so truncated and corrupt files are
 * caught here rather than in the middle of a run. The check decodes with shrink-on-load
 * (JPEG at 1/8, WebP scaled) and streams the rest, so a 20000 x 20000 JPEG costs a
 * fraction of a second and a few tens of MiB. The decode waits for room in the shared
 * decoding budget (`limits.decodeBudget`), weighted by its footprint estimated from the header.
 *
 * Throws `InputError` (with the path and a reason) for any problem with the file; the
 * caller records it and goes on with the other inputs.
 *
 * @example
 * const image = await loadImage('photos/a.jpg');
 * // => { path: 'photos/a.jpg', sha256: '9f2c…', bytes: 48213, format: 'jpeg',
 * //      width: 1200, height: 1600, orientation: 6, hasAlpha: false }
 */
export async function loadImage(source: string | ImageSource, limits?: ImageLimits): Promise<LoadedImage> {
  const resolved = resolveLimits(limits);
  const { path, data, sha256: known } = typeof source === 'string' ? await readImageFile(source) : source;
  if (data.byteLength === 0) throw new InputError(path, 'file is empty (0 bytes)');
  const hash = known ?? sha256(data);
  if (isPng(data)) {
    const png = checkPng(path, data);
    // Interlaced PNGs must be decoded whole later: libvips' header check applies its
    // memory limit to them, so only streamed (non-interlaced) ones take this path.
    if (png && !png.interlaced && png.width * png.height <= resolved.limitInputPixels) {
      return {
        path,
        sha256: hash,
        bytes: data.byteLength,
        format: 'png',
        width: png.width,
        height: png.height,
        hasAlpha: png.hasAlpha,
        sendable: !png.animated && png.bitDepth <= 8 && !png.hasIcc && !png.hasExif,
        ...(png.animated ? { pages: 2 } : {}),
      };
    }
  }
  const meta = await readHeader(path, data, resolved);
  await resolved.decodeBudget.use(decodeFootprint(meta), () =>
    decodeOrExplain(path, data, meta.format, () =>
      decoder(data, resolved).resize(CHECK_SIDE, CHECK_SIDE, { fit: 'inside', withoutEnlargement: true }).raw().toBuffer(),
    ),
  );
  const image: LoadedImage = {
    path,
    sha256: hash,
    bytes: data.byteLength,
    format: meta.format,
    width: meta.autoOrient.width,
    height: meta.autoOrient.height,
    hasAlpha: meta.hasAlpha,
    sendable:
      (meta.format === 'png' || meta.format === 'jpeg') &&
      (meta.pages ?? 1) === 1 &&
      (meta.orientation ?? 1) === 1 &&
      meta.exif === undefined &&
      meta.icc === undefined &&
      (meta.depth === 'uchar' || meta.depth === undefined),
  };
  if (meta.orientation !== undefined) image.orientation = meta.orientation;
  if (meta.pages !== undefined) image.pages = meta.pages;
  return image;
}
