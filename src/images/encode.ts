import { InputError, UsageError, expected } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import type { ImagePart } from '../core/provider.js';
import { decodeFootprint, decodeOrExplain, decoder, readHeader, resolveLimits, type ImageLimits } from './_sharp.js';
import { readImageFile, type ImageSource, type LoadedImage } from './load.js';

export type EncodeFormat = 'auto' | 'jpeg' | 'png' | 'webp';

export interface EncodeOptions extends ImageLimits {
  /**
   * Longest side of the encoded image, in pixels; larger images are downscaled keeping
   * their aspect ratio, smaller ones are never enlarged. Usually `provider.maxImageSide`.
   * @example { maxSide: 1568 }
   */
  maxSide: number;
  /**
   * Output format. `auto` follows the rule in {@link encodeForJudge}; it never picks WebP,
   * which some engines (llama.cpp's image loader) cannot read.
   * @default 'auto'
   */
  format?: EncodeFormat | undefined;
  /** JPEG or WebP quality, 1-100. @default 90 */
  quality?: number | undefined;
}

/**
 * With `format: 'auto'`, a lossless source (PNG, TIFF, GIF) whose encoded long side is at
 * most this many pixels is sent as PNG; anything else as JPEG.
 */
export const AUTO_PNG_MAX_SIDE = 1024;

const DEFAULT_QUALITY = 90;
const LOSSLESS_SOURCES: ReadonlySet<string> = new Set(['png', 'tiff', 'gif']);
const FORMATS: ReadonlySet<string> = new Set<EncodeFormat>(['auto', 'jpeg', 'png', 'webp']);
const MEDIA_TYPES = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' } as const;

/**
 * Turns an original image into the bytes a judge receives: EXIF orientation applied,
 * first frame of animations and multi-page files, downscaled so the long side is at most
 * `maxSide` (`fit: 'inside'`, never enlarged), colour converted to 8-bit sRGB, metadata
 * (EXIF, GPS, ICC) stripped.
 *
 * Output rule for `format: 'auto'`: PNG when the source is lossless (PNG, TIFF, GIF) and
 * the result's long side is at most {@link AUTO_PNG_MAX_SIDE} (1024), so small lossless
 * images reach the judge without new artefacts; otherwise JPEG at `quality` (90) with
 * 4:4:4 chroma, so the re-encoding adds as little blur as JPEG allows. PNG and WebP keep
 * transparency; JPEG is flattened on white. `mediaType` always matches the bytes.
 *
 * Pure: no cache, no writes, nothing kept between calls, and equal inputs give equal
 * bytes, so the caller can memoise by `(sha256, maxSide, format, quality)` and encode each
 * image once per run. `sha256` is that of the ORIGINAL bytes. Given a `LoadedImage`, the
 * file is read again and must still hash to `image.sha256`; given an `ImageSource`, its
 * bytes are used as they are.
 *
 * The decode waits for room in the shared decoding budget (`options.decodeBudget`, by
 * default the process-wide one), weighted by its footprint estimated from the header.
 *
 * Throws `InputError` for a problem with the file, `UsageError` for bad options.
 *
 * @example
 * const part = await encodeForJudge(image, { maxSide: provider.maxImageSide });
 * // => { type: 'image', mediaType: 'image/jpeg', width: 1024, height: 768, sha256: '9f2c…', data }
 */
export async function encodeForJudge(
  source: string | LoadedImage | ImageSource,
  options: EncodeOptions,
): Promise<ImagePart> {
  const { maxSide, format = 'auto', quality = DEFAULT_QUALITY } = options;
  if (!Number.isInteger(maxSide) || maxSide < 1) {
    throw new UsageError(expected('maxSide', 'an integer >= 1', maxSide));
  }
  if (!FORMATS.has(format)) {
    throw new UsageError(expected('format', 'one of auto, jpeg, png, webp', format));
  }
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new UsageError(expected('quality', 'an integer from 1 to 100', quality));
  }
  const limits = resolveLimits(options);

  const { path, data } = await originalBytes(source);
  const hash = sha256(data);
  if (typeof source !== 'string' && 'sha256' in source && source.sha256 !== hash) {
    throw new InputError(path, 'file changed since it was loaded (sha256 differs)');
  }
  const meta = await readHeader(path, data, limits);
  const longSide = Math.min(Math.max(meta.autoOrient.width, meta.autoOrient.height), maxSide);
  const output =
    format !== 'auto' ? format : LOSSLESS_SOURCES.has(meta.format) && longSide <= AUTO_PNG_MAX_SIDE ? 'png' : 'jpeg';

  let pipeline = decoder(data, limits).resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true });
  if (output === 'jpeg') {
    pipeline = pipeline.flatten({ background: '#ffffff' }).jpeg({ quality, chromaSubsampling: '4:4:4' });
  } else if (output === 'webp') {
    pipeline = pipeline.webp({ quality });
  } else {
    pipeline = pipeline.png();
  }
  const { data: encoded, info } = await limits.decodeBudget.use(decodeFootprint(meta), () =>
    decodeOrExplain(path, data, meta.format, () => pipeline.toBuffer({ resolveWithObject: true })),
  );
  return {
    type: 'image',
    data: new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.byteLength),
    mediaType: MEDIA_TYPES[output],
    sha256: hash,
    width: info.width,
    height: info.height,
  };
}

/**
 * The original bytes as the judge's image, when nothing needs changing: the file is a
 * PNG or JPEG, which every judge reads as it is, one frame, upright (no EXIF orientation),
 * 8-bit, with no EXIF (which may hold GPS) or ICC profile to strip or convert, and both
 * sides within `maxSide`. Re-encoding such a file would only cost time and, for JPEG, add
 * a generation of artefacts. `undefined` when it must go through `encodeForJudge`.
 *
 * `image` must come from `loadImage` on these same bytes (which checked they decode).
 */
export function passThrough(image: LoadedImage, source: ImageSource, maxSide: number): ImagePart | undefined {
  if (!image.sendable || image.width > maxSide || image.height > maxSide) return undefined;
  const mediaType = image.format === 'png' ? 'image/png' : 'image/jpeg';
  return { type: 'image', data: source.data, mediaType, sha256: image.sha256, width: image.width, height: image.height };
}

async function originalBytes(source: string | LoadedImage | ImageSource): Promise<ImageSource> {
  if (typeof source === 'string') return readImageFile(source);
  if ('data' in source) {
    if (source.data.byteLength === 0) throw new InputError(source.path, 'file is empty (0 bytes)');
    return source;
  }
  return readImageFile(source.path);
}
