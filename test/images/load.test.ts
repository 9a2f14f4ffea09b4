import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { sha256 } from '../../src/core/hash.js';
import { encodeForJudge, loadImage, readImageFile } from '../../src/images/index.js';
import { animation, makeTempDir, near, noiseImage, pixelAt, solidImage, write } from './_fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await makeTempDir());
});
afterAll(() => cleanup());

describe('loadImage reads every supported format', () => {
  it.each([
    ['photo.jpg', 'jpeg'],
    ['photo.png', 'png'],
    ['photo.webp', 'webp'],
    ['photo.tiff', 'tiff'],
    ['photo.avif', 'heif'],
  ] as const)('%s', async (name, format) => {
    const path = await write(dir, name, noiseImage(64, 48).toFormat(format === 'heif' ? 'avif' : format));
    const image = await loadImage(path);
    const bytes = await readFile(path);
    expect(image).toMatchObject({ path, sha256: sha256(bytes), bytes: bytes.length, format, width: 64, height: 48 });
    expect(image.hasAlpha).toBe(false);
  });

  it('reads the first frame of an animated GIF', async () => {
    const path = await write(dir, 'anim.gif', await animation('#ff0000', '#0000ff', 'gif'));
    const image = await loadImage(path);
    expect(image).toMatchObject({ format: 'gif', width: 30, height: 20, pages: 2 });
    const part = await encodeForJudge(image, { maxSide: 512 });
    expect(part).toMatchObject({ width: 30, height: 20 });
    expect(near(await pixelAt(part.data, 15, 10), [255, 0, 0])).toBe(true);
  });

  it('reads the first frame of an animated WebP', async () => {
    const path = await write(dir, 'anim.webp', await animation('#00ff00', '#0000ff', 'webp'));
    const image = await loadImage(path);
    expect(image).toMatchObject({ format: 'webp', width: 30, height: 20, pages: 2 });
    const part = await encodeForJudge(image, { maxSide: 512 });
    expect(near(await pixelAt(part.data, 15, 10), [0, 255, 0], 30)).toBe(true);
  });

  it('applies EXIF orientation 6: a 40x20 picture stands up as 20x40, its left half on top', async () => {
    // Stored left half red, right half blue; orientation 6 means "rotate 90° clockwise to view".
    const red = await solidImage(20, 20, '#ff0000').png().toBuffer();
    const stored = solidImage(40, 20, '#0000ff').composite([{ input: red, left: 0, top: 0 }]).jpeg({ quality: 95 });
    const path = await write(dir, 'rotated.jpg', await stored.withMetadata({ orientation: 6 }).toBuffer());
    const image = await loadImage(path);
    expect(image).toMatchObject({ width: 20, height: 40, orientation: 6 });
    const part = await encodeForJudge(image, { maxSide: 1024 });
    expect(part).toMatchObject({ width: 20, height: 40 });
    expect(near(await pixelAt(part.data, 10, 5), [255, 0, 0], 30)).toBe(true);
    expect(near(await pixelAt(part.data, 10, 35), [0, 0, 255], 30)).toBe(true);
  });

  it('gives the same picture under two names the same identity', async () => {
    const bytes = await noiseImage(32, 32).png().toBuffer();
    const a = await loadImage(await write(dir, 'same-a.png', bytes));
    const b = await loadImage(await write(dir, 'same-b.png', bytes));
    expect(a.sha256).toBe(sha256(bytes));
    expect(b.sha256).toBe(a.sha256);
    expect(b.path).not.toBe(a.path);
  });

  it('sniffs the content, not the name: PNG bytes called .jpg or .dat load as PNG', async () => {
    const bytes = await noiseImage(16, 16).png().toBuffer();
    expect((await loadImage(await write(dir, 'liar.jpg', bytes))).format).toBe('png');
    expect((await loadImage(await write(dir, 'picture.dat', bytes))).format).toBe('png');
  });

  it('loads bytes already in memory without reading the file again', async () => {
    const source = await readImageFile(await write(dir, 'memory.png', noiseImage(20, 10).png()));
    const image = await loadImage({ path: 'named-by-caller.png', data: source.data });
    expect(image).toMatchObject({ path: 'named-by-caller.png', width: 20, height: 10, sha256: sha256(source.data) });
  });
});

describe('loadImage refuses bad files one by one, with the path and a clear reason', () => {
  it('reports each bad file and still loads the good ones', async () => {
    const jpeg = await noiseImage(200, 150).jpeg().toBuffer();
    const png = await noiseImage(200, 150).png().toBuffer();
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 193 + 71) % 256));
    const files = {
      good1: await write(dir, 'good-1.jpg', jpeg),
      empty: await write(dir, 'empty.png', new Uint8Array(0)),
      truncatedJpeg: await write(dir, 'truncated.jpg', jpeg.subarray(0, jpeg.length >> 1)),
      truncatedPng: await write(dir, 'truncated.png', png.subarray(0, png.length >> 1)),
      random: await write(dir, 'random.png', random),
      missing: join(dir, 'missing.png'),
      folder: dir,
      good2: await write(dir, 'good-2.png', png),
    };
    const outcomes = await Promise.allSettled(Object.values(files).map((path) => loadImage(path)));
    const byName = Object.fromEntries(Object.keys(files).map((name, i) => [name, outcomes[i]]));

    for (const name of ['good1', 'good2']) expect(byName[name]?.status).toBe('fulfilled');
    const expectedReasons: Record<string, RegExp> = {
      empty: /^file is empty \(0 bytes\)$/,
      truncatedJpeg: /^not a readable image: truncated JPEG \(the file ends before its image data\)/,
      truncatedPng: /^not a readable image: truncated PNG \(the file ends before its image data\)/,
      random: /^not a readable image: unknown format \(expected JPEG, PNG, WebP, TIFF, GIF or AVIF\)$/,
      missing: /^no such file or directory$/,
      folder: /^is a directory$/,
    };
    for (const [name, reason] of Object.entries(expectedReasons)) {
      const outcome = byName[name];
      expect(outcome?.status, name).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as unknown;
      expect(error, name).toBeInstanceOf(InputError);
      const { path, message } = error as InputError;
      expect(path, name).toBe(files[name as keyof typeof files]);
      expect((error as InputError).reason, name).toMatch(reason);
      expect(message, name).toBe(`${path}: ${(error as InputError).reason}`);
    }
  });

  it('keeps each reason with its own file when many fail at once', async () => {
    // libvips shares one error buffer across threads; reasons must not cross between files.
    const jpeg = await noiseImage(120, 90).jpeg().toBuffer();
    const png = await noiseImage(120, 90).png().toBuffer();
    const kinds = [
      { ext: 'jpg', data: jpeg.subarray(0, jpeg.length >> 1), reason: /^not a readable image: truncated JPEG/ },
      { ext: 'png', data: png.subarray(0, png.length >> 1), reason: /^not a readable image: truncated PNG/ },
      { ext: 'jpg', data: Buffer.from('not an image at all'), reason: /^not a readable image: unknown format/ },
    ];
    const paths = await Promise.all(
      [...kinds, ...kinds, ...kinds, ...kinds].map(async ({ ext, data, reason }, i) => ({
        path: await write(dir, `many-${i}.${ext}`, data),
        reason,
      })),
    );
    const outcomes = await Promise.allSettled(paths.map(({ path }) => loadImage(path)));
    outcomes.forEach((outcome, i) => {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as InputError;
      expect(error.path).toBe(paths[i]?.path);
      expect(error.reason).toMatch(paths[i]?.reason ?? /never/);
      expect(error.reason).not.toMatch(/Unknown error|vipspng.*JPEG|VipsJpeg.*PNG/);
    });
  });

  it('refuses a format Quorum does not judge, naming it', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>';
    const path = await write(dir, 'drawing.svg', Buffer.from(svg));
    await expect(loadImage(path)).rejects.toMatchObject({
      path,
      reason: 'unsupported image format `svg` (expected JPEG, PNG, WebP, TIFF, GIF or AVIF)',
    });
  });

  it('refuses an image over `limitInputPixels`', async () => {
    const path = await write(dir, 'limit.png', solidImage(100, 80, '#808080').png());
    await expect(loadImage(path, { limitInputPixels: 5000 })).rejects.toMatchObject({
      path,
      reason: 'image too large: 100 x 80 = 8000 pixels is over `limitInputPixels` (5000)',
    });
    await expect(loadImage(path)).resolves.toMatchObject({ width: 100, height: 80 });
  });

  it('refuses, before decoding, an image that must be decoded whole and would pass `maxDecodeBytes`', async () => {
    // A 1000x1000 progressive 4:2:0 JPEG keeps 1.5 samples of 2 bytes per pixel (x 1.1): about 3 MiB.
    const progressive = await write(dir, 'progressive.jpg', noiseImage(1000, 1000).jpeg({ progressive: true }));
    const interlaced = await write(dir, 'interlaced.png', noiseImage(1000, 1000).png({ progressive: true }));
    const baseline = await write(dir, 'baseline.jpg', noiseImage(1000, 1000).jpeg());
    const limits = { maxDecodeBytes: 1024 ** 2 };
    await expect(loadImage(progressive, limits)).rejects.toMatchObject({
      path: progressive,
      reason: expect.stringMatching(
        /^image too large to decode: a 1000 x 1000 progressive JPEG must be decoded whole, about 3 MiB, over `maxDecodeBytes` \(1 MiB\)/,
      ),
    });
    await expect(loadImage(interlaced, limits)).rejects.toMatchObject({ reason: expect.stringContaining('interlaced PNG') });
    await expect(loadImage(baseline, limits)).resolves.toMatchObject({ width: 1000 });
    await expect(loadImage(progressive)).resolves.toMatchObject({ width: 1000 });
  });

  it('readImageFile reads bytes once and refuses an empty file', async () => {
    const path = await write(dir, 'zero.jpg', new Uint8Array(0));
    await expect(readImageFile(path)).rejects.toThrow(new InputError(path, 'file is empty (0 bytes)'));
    await writeFile(path, Buffer.from('x'));
    const source = await readImageFile(path);
    expect(source.path).toBe(path);
    expect([...source.data]).toEqual([120]);
  });
});

describe('PNG check without libvips', () => {
  it('agrees with sharp on the facts of valid PNGs of every colour type and depth', async () => {
    const variants: [string, Promise<Buffer>][] = [
      ['rgb', noiseImage(33, 17).png().toBuffer()],
      ['rgba', noiseImage(20, 21).ensureAlpha(0.5).png().toBuffer()],
      ['grey', noiseImage(19, 9).greyscale().png().toBuffer()],
      ['palette', noiseImage(25, 25).png({ palette: true }).toBuffer()],
      ['16-bit', noiseImage(12, 12).toColourspace('rgb16').png().toBuffer()],
    ];
    for (const [name, pending] of variants) {
      const bytes = await pending;
      const meta = await sharp(bytes).metadata();
      const image = await loadImage({ path: `${name}.png`, data: bytes });
      expect(image, name).toMatchObject({ format: 'png', width: meta.width, height: meta.height, hasAlpha: meta.hasAlpha });
      expect(image.sendable, name).toBe(name !== '16-bit');
    }
  });

  it('refuses a PNG whose data was changed or cut, naming the problem', async () => {
    const good = Buffer.from(await noiseImage(40, 30).png().toBuffer());
    const idat = good.indexOf('IDAT');
    const flipped = Buffer.from(good);
    flipped[idat + 20] = (flipped[idat + 20] as number) ^ 0xff;
    await expect(loadImage({ path: 'flipped.png', data: flipped })).rejects.toThrow(/corrupt PNG \(chunk `IDAT` fails its checksum\)/);
    await expect(loadImage({ path: 'cut.png', data: good.subarray(0, idat + 30) })).rejects.toThrow(
      /truncated PNG \(the file ends before its image data\)/,
    );
    // Without IEND: also cut.
    await expect(loadImage({ path: 'no-end.png', data: good.subarray(0, good.length - 12) })).rejects.toThrow(/truncated PNG/);
  });
});
