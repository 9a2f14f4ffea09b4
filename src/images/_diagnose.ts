/**
 * Reasons for images that fail to decode, worded from the file itself. sharp's error text
 * alone cannot be trusted for this: libvips keeps one error buffer per process, so when
 * several images fail at once a message can be `Unknown error` or another file's
 * decoder complaint (seen with sharp 0.35 / libvips 8.18 under `Promise.all`).
 */
import { describeError } from '../core/errors.js';

const NAMES: Readonly<Record<string, string>> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  tiff: 'TIFF',
  gif: 'GIF',
  heif: 'AVIF',
};

/** How each libvips decoder names itself in its messages (`VipsJpeg:`, `vipspng:`, `heifload:`). */
const DECODER_WORDS: Readonly<Record<string, RegExp>> = {
  jpeg: /jpe?g/i,
  png: /png/i,
  webp: /webp/i,
  tiff: /tiff/i,
  gif: /gif/i,
  heif: /heif|avif/i,
};

export const READABLE_NAMES = 'JPEG, PNG, WebP, TIFF, GIF or AVIF';

/** The reason for a file whose header could not be read. */
export function headerFailure(error: unknown): string {
  const line = sharpLines(error)[0];
  if (line === undefined || /unsupported image format|not in a known format/i.test(line)) {
    return `not a readable image: unknown format (expected ${READABLE_NAMES})`;
  }
  return `not a readable image: ${line}`;
}

/**
 * The reason for a file whose header was read (so its format is known) but whose pixels
 * failed to decode: `not a readable image: truncated JPEG (VipsJpeg: premature end of
 * JPEG image)`. The decoder's own line is added only when it comes from this format's
 * decoder.
 */
export function decodeFailure(format: string, data: Uint8Array, error: unknown): string {
  const name = NAMES[format] ?? format;
  const what = isTruncated(format, data)
    ? `truncated ${name} (the file ends before its image data)`
    : `corrupt ${name} data`;
  const words = DECODER_WORDS[format];
  const line = words === undefined ? undefined : sharpLines(error).find((l) => words.test(l));
  return `not a readable image: ${what}${line === undefined ? '' : ` (${line})`}`;
}

function sharpLines(error: unknown): string[] {
  const message = error instanceof Error ? error.message : describeError(error);
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'Unknown error');
}

/** Whether the file stops before its format says it should. Only JPEG, PNG and WebP are checked. */
export function isTruncated(format: string, data: Uint8Array): boolean {
  switch (format) {
    case 'jpeg':
      return jpegTruncated(data);
    case 'png':
      return pngTruncated(data);
    case 'webp':
      return webpTruncated(data);
    default:
      return false;
  }
}

/**
 * No end-of-image marker (FF D9) after the last start-of-scan (FF DA). Entropy-coded data
 * stuffs every FF with 00, so neither marker can appear inside it by chance; taking the
 * LAST start-of-scan skips an EXIF thumbnail's complete scan near the start of the file.
 */
function jpegTruncated(data: Uint8Array): boolean {
  const sos = lastIndexOfPair(data, 0xff, 0xda, data.length - 2);
  if (sos < 0) return true;
  return lastIndexOfPair(data, 0xff, 0xd9, data.length - 2) < sos;
}

function lastIndexOfPair(data: Uint8Array, a: number, b: number, from: number): number {
  for (let i = from; i >= 0; i--) if (data[i] === a && data[i + 1] === b) return i;
  return -1;
}

/** Walks the chunks (length, type, data, CRC) after the 8-byte signature; truncated unless IEND is reached whole. */
function pngTruncated(data: Uint8Array): boolean {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 8;
  while (offset + 8 <= data.length) {
    const next = offset + 12 + view.getUint32(offset);
    if (next > data.length) return true;
    if (view.getUint32(offset + 4) === 0x49454e44 /* IEND */) return false;
    offset = next;
  }
  return true;
}

/** RIFF header: bytes 4-7 give the size of everything after byte 8. */
function webpTruncated(data: Uint8Array): boolean {
  if (data.length < 12) return true;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return data.length < 8 + view.getUint32(4, true);
}
