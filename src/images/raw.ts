import { decodeFootprint, decodeOrExplain, decoder, readHeader, resolveLimits, type ImageLimits } from './_sharp.js';
import { readImageFile } from './load.js';

/** An image decoded to interleaved 8-bit sRGB, alpha flattened onto white. */
export interface RgbImage {
  path: string;
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

/**
 * Decodes a whole image file to 8-bit sRGB pixels (EXIF orientation applied, first frame),
 * for measures that read every pixel. Unreadable files throw `InputError` naming the file.
 * The decode waits for room in the shared decoding budget (`limits.decodeBudget`), charged
 * at least the whole frame it returns.
 */
export async function decodeRgb(path: string, limits?: ImageLimits): Promise<RgbImage> {
  const source = await readImageFile(path);
  const resolved = resolveLimits(limits);
  const meta = await readHeader(path, source.data, resolved);
  const whole = meta.autoOrient.width * meta.autoOrient.height * 3;
  const { data, info } = await resolved.decodeBudget.use(Math.max(decodeFootprint(meta), whole), () =>
    decodeOrExplain(path, source.data, meta.format, () =>
      decoder(source.data, resolved).flatten({ background: '#ffffff' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true }),
    ),
  );
  return { path, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
}

/** Width and height after EXIF orientation, from the header alone (no pixels decoded). */
export async function readSize(path: string, limits?: ImageLimits): Promise<{ width: number; height: number }> {
  const source = await readImageFile(path);
  const { autoOrient } = await readHeader(path, source.data, resolveLimits(limits));
  return { width: autoOrient.width, height: autoOrient.height };
}
