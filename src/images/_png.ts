import { createRequire } from 'node:module';

/** node:zlib, loaded by the first PNG checked (a rerun of known images checks none). */
let zlibModule: typeof import('node:zlib') | undefined;
const zlib = (): typeof import('node:zlib') => (zlibModule ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib'));
import { InputError } from '../core/errors.js';

/**
 * A decodability check for small PNGs without libvips: every chunk whole and matching its
 * CRC-32, IHDR first and IEND last, and the compressed image data inflating to exactly the
 * bytes its header implies, with a valid filter type on every row. That is everything a
 * PNG decoder can fail on; what remains (unfiltering) cannot fail. It costs a few
 * microseconds where two libvips operations cost about a millisecond, which is most of
 * Quorum's own time per call on small images (bench/score.ts).
 */

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Largest inflated image data checked here; bigger images go through libvips, which streams. */
const MAX_INFLATED_BYTES = 32 * 1024 * 1024;
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export interface PngFacts {
  width: number;
  height: number;
  bitDepth: number;
  hasAlpha: boolean;
  interlaced: boolean;
  animated: boolean;
  hasIcc: boolean;
  hasExif: boolean;
}

export function isPng(data: Uint8Array): boolean {
  return data.length >= 8 && SIGNATURE.every((b, i) => data[i] === b);
}

/** Bytes of filtered image data (filter byte + packed row) for a pass of w x h pixels. */
function passBytes(w: number, h: number, bitsPerPixel: number): number {
  if (w === 0 || h === 0) return 0;
  return h * (1 + Math.ceil((w * bitsPerPixel) / 8));
}

/** Adam7 passes: [x0, y0, dx, dy]. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/**
 * Checks a PNG and returns its facts, or `undefined` when it is too large for this check
 * (the caller then uses libvips). Throws `InputError` for a truncated or corrupt file.
 */
export function checkPng(path: string, data: Uint8Array): PngFacts | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const truncated = () => new InputError(path, 'not a readable image: truncated PNG (the file ends before its image data)');
  const corrupt = (why: string) => new InputError(path, `not a readable image: corrupt PNG (${why})`);
  let offset = 8;
  let header: { width: number; height: number; bitDepth: number; colorType: number; interlaced: boolean } | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  let hasTrns = false;
  let animated = false;
  let hasIcc = false;
  let hasExif = false;
  while (!ended) {
    if (offset + 12 > data.length) throw truncated();
    const length = view.getUint32(offset);
    const end = offset + 12 + length;
    if (end > data.length) throw truncated();
    const type = String.fromCharCode(...data.subarray(offset + 4, offset + 8));
    const body = data.subarray(offset + 8, offset + 8 + length);
    if (zlib().crc32(data.subarray(offset + 4, offset + 8 + length)) !== view.getUint32(offset + 8 + length)) {
      throw corrupt(`chunk \`${type}\` fails its checksum`);
    }
    if (!header && type !== 'IHDR') throw corrupt('the first chunk is not IHDR');
    switch (type) {
      case 'IHDR': {
        if (length !== 13) throw corrupt('IHDR has the wrong length');
        const h = new DataView(body.buffer, body.byteOffset, 13);
        header = { width: h.getUint32(0), height: h.getUint32(4), bitDepth: body[8] as number, colorType: body[9] as number, interlaced: body[12] === 1 };
        if (CHANNELS[header.colorType] === undefined || header.width === 0 || header.height === 0) throw corrupt('IHDR describes no valid image');
        break;
      }
      case 'IDAT':
        idat.push(body);
        break;
      case 'tRNS':
        hasTrns = true;
        break;
      case 'acTL':
        animated = true;
        break;
      case 'iCCP':
        hasIcc = true;
        break;
      case 'eXIf':
        hasExif = true;
        break;
      case 'IEND':
        ended = true;
        break;
    }
    offset = end;
  }
  if (!header) throw truncated();
  if (idat.length === 0) throw corrupt('no image data (IDAT)');
  const bitsPerPixel = (CHANNELS[header.colorType] as number) * header.bitDepth;
  const { width, height } = header;
  const expected = header.interlaced
    ? ADAM7.reduce(
        (sum, [x0, y0, dx, dy]) => sum + passBytes(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy), bitsPerPixel),
        0,
      )
    : passBytes(width, height, bitsPerPixel);
  if (expected > MAX_INFLATED_BYTES) return undefined;
  let pixels: Buffer;
  try {
    pixels = zlib().inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR') throw truncated();
    throw corrupt(code === 'ERR_BUFFER_TOO_LARGE' ? 'more image data than its size allows' : `compressed image data: ${(error as Error).message}`);
  }
  if (pixels.length !== expected) throw corrupt(`image data holds ${pixels.length} bytes, ${expected} expected`);
  if (!header.interlaced) {
    const stride = 1 + Math.ceil((width * bitsPerPixel) / 8);
    for (let row = 0; row < height; row++) if ((pixels[row * stride] as number) > 4) throw corrupt(`row ${row} has an unknown filter type`);
  }
  return {
    width,
    height,
    bitDepth: header.bitDepth,
    hasAlpha: header.colorType === 4 || header.colorType === 6 || hasTrns,
    interlaced: header.interlaced,
    animated,
    hasIcc,
    hasExif,
  };
}
