/** Real image files for the image tests, generated with sharp in a temporary folder. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';

export async function makeTempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'quorum-images-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Deterministic noise, so that cutting a file in half loses real image data. */
export function noise(width: number, height: number, channels: 3 | 4 = 3): Buffer {
  const pixels = Buffer.alloc(width * height * channels);
  let state = 12345;
  for (let i = 0; i < pixels.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    pixels[i] = state >>> 24;
  }
  return pixels;
}

export function noiseImage(width: number, height: number): Sharp {
  return sharp(noise(width, height), { raw: { width, height, channels: 3 } });
}

export function solidImage(width: number, height: number, background: string): Sharp {
  return sharp({ create: { width, height, channels: 3, background } });
}

/** A two-frame animation: the first frame `first`, the second `second`. */
export async function animation(first: string, second: string, format: 'gif' | 'webp'): Promise<Buffer> {
  const frames = await Promise.all([first, second].map((c) => solidImage(30, 20, c).png().toBuffer()));
  return sharp(frames, { join: { animated: true } }).toFormat(format).toBuffer();
}

export async function write(dir: string, name: string, data: Uint8Array | Sharp): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, data instanceof Uint8Array ? data : await data.toBuffer());
  return path;
}

/** The colour of one pixel of an encoded image, as [r, g, b]. */
export async function pixelAt(data: Uint8Array, x: number, y: number): Promise<number[]> {
  const { data: raw, info } = await sharp(data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...raw.subarray(at, at + 3)];
}

/** Each channel within `tolerance` of the expected value (lossy formats move colours a little). */
export function near(actual: number[], expected: number[], tolerance = 12): boolean {
  return actual.length === expected.length && actual.every((v, i) => Math.abs(v - (expected[i] ?? NaN)) <= tolerance);
}
