/**
 * Distortion ladders: graded versions of pristine images whose order is known without
 * any human label. Five distortions, five levels each, level 1 barely visible and level
 * 5 severe; the pristine image is level 0 of every one. A judge that cannot put a ladder
 * in order is not worth asking about anything subtler.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Sharp } from 'sharp';
import { createRandom } from '../aggregate/random.js';

/** Strength per level 1..5 of each distortion, and how it is applied. */
const DISTORTIONS = {
  /** Gaussian blur sigma in pixels. */
  blur: [0.8, 1.5, 2.5, 4, 6.5],
  /** Additive Gaussian noise sd in grey levels (seeded per image). */
  noise: [4, 9, 16, 28, 48],
  /** JPEG quality (written as .jpg). */
  jpeg: [60, 35, 20, 10, 4],
  /** Downscale factor before upscaling back (bicubic both ways). */
  resample: [0.7, 0.5, 0.35, 0.22, 0.12],
  /** Colour cast: red gain up, blue gain down by this fraction. */
  colour: [0.06, 0.12, 0.2, 0.32, 0.5],
} as const;

export type Distortion = keyof typeof DISTORTIONS;

export interface LadderRow {
  path: string;
  score: number;
  group: string;
  distortion: string;
  level: number;
}

/** The known score of a level: 5 for the pristine image down to 1 at level 5 (an order, not a MOS). */
const levelScore = (level: number): number => 5 - 0.8 * level;

async function distorted(sharpOf: () => Sharp, distortion: Distortion, level: number, width: number, height: number, seed: number): Promise<Buffer> {
  const strength = DISTORTIONS[distortion][level - 1] as number;
  switch (distortion) {
    case 'blur':
      return sharpOf().blur(strength).png().toBuffer();
    case 'jpeg':
      return sharpOf().jpeg({ quality: strength, chromaSubsampling: '4:2:0' }).toBuffer();
    case 'resample': {
      const small = await sharpOf()
        .resize(Math.max(1, Math.round(width * strength)), Math.max(1, Math.round(height * strength)), { kernel: 'cubic' })
        .png()
        .toBuffer();
      const { default: sharp } = await import('sharp');
      return sharp(small).resize(width, height, { kernel: 'cubic', fit: 'fill' }).png().toBuffer();
    }
    case 'colour':
      return sharpOf().linear([1 + strength, 1, 1 - strength], [0, 0, 0]).png().toBuffer();
    case 'noise': {
      const { data, info } = await sharpOf().removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const random = createRandom(seed * 31 + level);
      for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round((data[i] as number) + strength * random.normal())));
      const { default: sharp } = await import('sharp');
      return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).png().toBuffer();
    }
  }
}

/**
 * Writes `<out>/<stem>/pristine.png` and `<out>/<stem>/<distortion>-<level>.png|jpg` for
 * every image, and returns the rows of `ladder.csv` (relative paths).
 */
export async function writeLadder(image: string, out: string, seed: number): Promise<LadderRow[]> {
  const { default: sharp } = await import('sharp');
  const stem = basename(image, extname(image));
  const dir = join(out, stem);
  await mkdir(dir, { recursive: true });
  // Decoded once, orientation applied, alpha flattened: every rung starts from the same pixels.
  const { data, info } = await sharp(image).rotate().flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const sharpOf = () => sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
  const rows: LadderRow[] = [];
  await writeFile(join(dir, 'pristine.png'), await sharpOf().png().toBuffer());
  rows.push({ path: `${stem}/pristine.png`, score: levelScore(0), group: stem, distortion: 'pristine', level: 0 });
  for (const distortion of Object.keys(DISTORTIONS) as Distortion[]) {
    for (let level = 1; level <= 5; level++) {
      const file = `${distortion}-${level}.${distortion === 'jpeg' ? 'jpg' : 'png'}`;
      await writeFile(join(dir, file), await distorted(sharpOf, distortion, level, info.width, info.height, seed));
      rows.push({ path: `${stem}/${file}`, score: levelScore(level), group: stem, distortion, level });
    }
  }
  return rows;
}

export function ladderCsv(rows: readonly LadderRow[]): string {
  const cell = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `path,score,group,distortion,level\n${rows.map((r) => `${cell(r.path)},${r.score.toFixed(1)},${cell(r.group)},${r.distortion},${r.level}`).join('\n')}\n`;
}
