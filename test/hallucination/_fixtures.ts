/**
 * Generated SR fixtures: a ground truth of shapes and stroke "text", its LR by a x4
 * downscale, and SR variants: faithful (cubic upscale, slightly sharpened), fake text
 * planted in a known box, texture planted in a known region.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';

export const SIDE = 768;
export const SCALE = 4;
/** Where the fake text goes: across the seam of two 512-pixel tiles (overlap 256..512). */
export const TEXT_BOX = { x0: 440, y0: 600, x1: 600, y1: 640 };
export const TEXTURE_BOX = { x0: 96, y0: 96, x1: 288, y1: 288 };

type Raw = { data: Uint8Array; width: number; height: number };

function groundTruth(): Raw {
  const data = new Uint8Array(SIDE * SIDE * 3);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const i = (y * SIDE + x) * 3;
      const inDisc = (x - 500) ** 2 + (y - 250) ** 2 < 110 ** 2;
      const inSquare = x > 120 && x < 330 && y > 420 && y < 560;
      data[i] = inDisc ? 200 : inSquare ? 40 : 150 + Math.round(60 * Math.sin(x / 90));
      data[i + 1] = inDisc ? 60 : inSquare ? 120 : 170 + Math.round(40 * Math.cos(y / 110));
      data[i + 2] = inDisc ? 70 : inSquare ? 200 : 190;
    }
  }
  // A line of true "text": dark bars in the top right, present in the input too.
  for (let k = 0; k < 8; k++) paint(data, 560 + k * 22, 60, 10, 40, 20);
  return { data, width: SIDE, height: SIDE };
}

function paint(data: Uint8Array, x: number, y: number, w: number, h: number, v: number): void {
  for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) data.fill(v, (yy * SIDE + xx) * 3, (yy * SIDE + xx) * 3 + 3);
}

const png = (r: Raw) => sharp(r.data, { raw: { width: r.width, height: r.height, channels: 3 } }).png().toBuffer();
async function raw(p: Sharp): Promise<Raw> {
  const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/** Writes lr/, gt/ and sr-faithful/, sr-texture/, sr-text/ under `dir` (one image `city`, plus `extra` copies). */
export async function writeFixtures(dir: string, names: readonly string[] = ['city']): Promise<void> {
  const gt = groundTruth();
  const gtPng = await png(gt);
  const lr = await raw(sharp(gtPng).resize(SIDE / SCALE, SIDE / SCALE, { kernel: 'cubic' }));
  const lrPng = await png(lr);
  const faithful = await raw(sharp(lrPng).resize(SIDE, SIDE, { kernel: 'cubic' }).sharpen({ sigma: 0.5 }));
  const text = { ...faithful, data: Uint8Array.from(faithful.data) };
  // Fake text: seven dark "letters" (two bars each) filling TEXT_BOX.
  for (let k = 0; k < 7; k++) {
    const x = TEXT_BOX.x0 + k * 23;
    paint(text.data, x, TEXT_BOX.y0, 5, TEXT_BOX.y1 - TEXT_BOX.y0, 10);
    paint(text.data, x + 5, TEXT_BOX.y0 + 16, 10, 6, 10);
  }
  const texture = { ...faithful, data: Uint8Array.from(faithful.data) };
  for (let y = TEXTURE_BOX.y0; y < TEXTURE_BOX.y1; y++) {
    for (let x = TEXTURE_BOX.x0; x < TEXTURE_BOX.x1; x++) {
      const d = ((x >> 1) + (y >> 1)) % 2 === 0 ? 45 : -45;
      for (let c = 0; c < 3; c++) {
        const i = (y * SIDE + x) * 3 + c;
        texture.data[i] = Math.max(0, Math.min(255, (texture.data[i] as number) + d));
      }
    }
  }
  for (const sub of ['lr', 'gt', 'sr-faithful', 'sr-texture', 'sr-text']) await mkdir(join(dir, sub), { recursive: true });
  const outputs = { 'sr-faithful': await png(faithful), 'sr-texture': await png(texture), 'sr-text': await png(text) };
  for (const name of names) {
    await writeFile(join(dir, 'lr', `${name}.png`), lrPng);
    await writeFile(join(dir, 'gt', `${name}.png`), gtPng);
    for (const [sub, bytes] of Object.entries(outputs)) await writeFile(join(dir, sub, `${name}.png`), bytes);
  }
}
