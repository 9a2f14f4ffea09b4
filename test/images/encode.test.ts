import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/core/errors.js';
import { sha256 } from '../../src/core/hash.js';
import { AUTO_PNG_MAX_SIDE, encodeForJudge, loadImage, readImageFile } from '../../src/images/index.js';
import { animation, makeTempDir, near, noiseImage, pixelAt, solidImage, write } from './_fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterAll(() => cleanup());

/** What the encoded bytes really are, read back by sharp. */
async function actualFormat(data: Uint8Array): Promise<string> {
  return (await sharp(data).metadata()).format;
}

describe('encodeForJudge sizes', () => {
  it('downscales to `maxSide`, keeping the aspect ratio', async () => {
    const path = await write(dir, 'wide.jpg', noiseImage(1999, 1001).jpeg());
    const part = await encodeForJudge(path, { maxSide: 512 });
    expect(part).toMatchObject({ width: 512, height: 256 });
    const tall = await encodeForJudge(await write(dir, 'tall.png', noiseImage(300, 900).png()), { maxSide: 600 });
    expect(tall).toMatchObject({ width: 200, height: 600 });
  });

  it('never enlarges a small image', async () => {
    const part = await encodeForJudge(await write(dir, 'small.jpg', noiseImage(100, 50).jpeg()), { maxSide: 1024 });
    expect(part).toMatchObject({ width: 100, height: 50 });
  });

  it('gives the sha256 of the original bytes, not of the encoded ones', async () => {
    const path = await write(dir, 'identity.png', noiseImage(80, 60).png());
    const original = (await readImageFile(path)).data;
    const part = await encodeForJudge(path, { maxSide: 40 });
    expect(part.sha256).toBe(sha256(original));
    expect(sha256(part.data)).not.toBe(part.sha256);
  });

  it('is pure: the same input and options give the same bytes', async () => {
    const path = await write(dir, 'pure.jpg', noiseImage(400, 300).jpeg());
    const a = await encodeForJudge(path, { maxSide: 256 });
    const b = await encodeForJudge(path, { maxSide: 256 });
    expect(sha256(a.data)).toBe(sha256(b.data));
  });
});

describe('encodeForJudge output format', () => {
  it.each([
    ['PNG, small', 'a.png', 'png', 300, 200, 1024, 'image/png'],
    ['TIFF, small', 'a.tiff', 'tiff', 300, 200, 1024, 'image/png'],
    ['PNG, downscaled to 1024', 'b.png', 'png', 2000, 1000, AUTO_PNG_MAX_SIDE, 'image/png'],
    ['PNG, large result', 'c.png', 'png', 2000, 1000, 1568, 'image/jpeg'],
    ['JPEG, small', 'a.jpg', 'jpeg', 300, 200, 1024, 'image/jpeg'],
    ['WebP, small', 'a.webp', 'webp', 300, 200, 1024, 'image/jpeg'],
    ['AVIF, small', 'a.avif', 'avif', 300, 200, 1024, 'image/jpeg'],
  ] as const)('auto: %s -> %s', async (_label, name, format, width, height, maxSide, mediaType) => {
    const path = await write(dir, name, noiseImage(width, height).toFormat(format));
    const part = await encodeForJudge(path, { maxSide });
    expect(part.mediaType).toBe(mediaType);
    expect(`image/${await actualFormat(part.data)}`).toBe(mediaType);
  });

  it('auto: a GIF becomes a PNG of its first frame', async () => {
    const path = await write(dir, 'anim.gif', await animation('#ff0000', '#0000ff', 'gif'));
    const part = await encodeForJudge(path, { maxSide: 64 });
    expect(part.mediaType).toBe('image/png');
    expect(await pixelAt(part.data, 5, 5)).toEqual([255, 0, 0]);
  });

  it.each(['jpeg', 'png', 'webp'] as const)('format: %s is honoured and matches the bytes', async (format) => {
    const path = await write(dir, `forced-${format}.png`, noiseImage(50, 50).png());
    const part = await encodeForJudge(path, { maxSide: 1024, format });
    expect(part.mediaType).toBe(`image/${format}`);
    expect(await actualFormat(part.data)).toBe(format);
  });

  it('keeps transparency in PNG and flattens it on white in JPEG', async () => {
    const clear = { r: 255, g: 0, b: 0, alpha: 0 };
    const transparent = sharp({ create: { width: 20, height: 20, channels: 4, background: clear } });
    const path = await write(dir, 'transparent.png', transparent.png());
    const png = await encodeForJudge(path, { maxSide: 1024 });
    expect(png.mediaType).toBe('image/png');
    expect((await sharp(png.data).metadata()).hasAlpha).toBe(true);
    const jpeg = await encodeForJudge(path, { maxSide: 1024, format: 'jpeg' });
    expect(near(await pixelAt(jpeg.data, 10, 10), [255, 255, 255], 2)).toBe(true);
  });

  it('applies `quality` to JPEG', async () => {
    const path = await write(dir, 'quality.jpg', noiseImage(256, 256).jpeg({ quality: 100 }));
    const low = await encodeForJudge(path, { maxSide: 256, quality: 30 });
    const high = await encodeForJudge(path, { maxSide: 256 });
    expect(low.data.length).toBeLessThan(high.data.length);
  });
});

describe('encodeForJudge errors', () => {
  it('refuses bad options with the validation template', async () => {
    const path = await write(dir, 'options.png', noiseImage(10, 10).png());
    await expect(encodeForJudge(path, { maxSide: 0 })).rejects.toThrow(
      new UsageError('Expected `maxSide` to be an integer >= 1, got `0`'),
    );
    await expect(encodeForJudge(path, { maxSide: 10, quality: 101 })).rejects.toBeInstanceOf(UsageError);
    await expect(encodeForJudge(path, { maxSide: 10, format: 'gif' as 'png' })).rejects.toBeInstanceOf(UsageError);
  });

  it('refuses a file that changed since it was loaded', async () => {
    const path = await write(dir, 'changing.png', noiseImage(10, 10).png());
    const image = await loadImage(path);
    await writeFile(path, await solidImage(10, 10, '#00ff00').png().toBuffer());
    await expect(encodeForJudge(image, { maxSide: 10 })).rejects.toThrow(
      new InputError(path, 'file changed since it was loaded (sha256 differs)'),
    );
  });

  it('names the file when its pixels do not decode', async () => {
    const jpeg = await noiseImage(200, 150).jpeg().toBuffer();
    const path = await write(dir, 'half.jpg', jpeg.subarray(0, jpeg.length >> 1));
    await expect(encodeForJudge(path, { maxSide: 100 })).rejects.toMatchObject({
      path,
      reason: expect.stringMatching(/^not a readable image: truncated JPEG/),
    });
    const empty = { path: 'in-memory.png', data: new Uint8Array(0) };
    await expect(encodeForJudge(empty, { maxSide: 100 })).rejects.toMatchObject({
      path: 'in-memory.png',
      reason: 'file is empty (0 bytes)',
    });
  });
});

describe('passThrough', () => {
  it('sends a judge-ready file unchanged and re-encodes anything that needs a change', async () => {
    const { passThrough } = await import('../../src/images/index.js');
    const ready = await readImageFile(await write(dir, 'ready.png', noiseImage(60, 40).png()));
    const loaded = await loadImage(ready);
    expect(loaded.sendable).toBe(true);
    const part = passThrough(loaded, ready, 1024);
    expect(part).toMatchObject({ mediaType: 'image/png', width: 60, height: 40, sha256: sha256(ready.data) });
    expect(part?.data).toBe(ready.data);
    // Too large for the judge: must be downscaled.
    expect(passThrough(loaded, ready, 50)).toBeUndefined();

    // EXIF orientation, EXIF data (GPS), an ICC profile or a TIFF all need encodeForJudge.
    const rotated = await readImageFile(await write(dir, 'rotated.jpg', noiseImage(40, 20).jpeg().withMetadata({ orientation: 6 })));
    expect(passThrough(await loadImage(rotated), rotated, 1024)).toBeUndefined();
    const exif = await readImageFile(
      await write(dir, 'exif.jpg', noiseImage(40, 20).jpeg().withExif({ IFD0: { Copyright: 'someone' } })),
    );
    expect(passThrough(await loadImage(exif), exif, 1024)).toBeUndefined();
    const tiff = await readImageFile(await write(dir, 'ready.tiff', noiseImage(30, 30).tiff()));
    expect(passThrough(await loadImage(tiff), tiff, 1024)).toBeUndefined();
    // WebP is re-encoded too: llama.cpp's image loader cannot read it.
    const webp = await readImageFile(await write(dir, 'ready.webp', noiseImage(30, 30).webp()));
    expect(passThrough(await loadImage(webp), webp, 1024)).toBeUndefined();
    // A plain JPEG goes as it is.
    const jpeg = await readImageFile(await write(dir, 'plain.jpg', noiseImage(30, 20).jpeg()));
    expect(passThrough(await loadImage(jpeg), jpeg, 1024)).toMatchObject({ mediaType: 'image/jpeg', width: 30, height: 20 });
  });
});
