/** Tiny models, images and requests shared by the llama tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { z } from 'zod';
import type { CompletionRequest, ImagePart } from '../../src/core/provider.js';
import { writeTinyProjector, writeTinyTextModel } from '../support/gguf/index.js';

export interface TinyModels {
  dir: string;
  model: string;
  mmproj: string;
  cleanup(): void;
}

/** A temporary folder with the tiny text model and its projector. */
export function tinyModels(): TinyModels {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-llama-'));
  const model = writeTinyTextModel(join(dir, 'tiny.gguf'));
  const mmproj = writeTinyProjector(join(dir, 'mmproj-tiny.gguf'));
  return { dir, model, mmproj, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A 32x32 PNG as the runner would send it. */
export async function pngImage(color = { r: 200, g: 30, b: 90 }): Promise<ImagePart> {
  const data = await sharp({ create: { width: 32, height: 32, channels: 3, background: color } }).png().toBuffer();
  return { type: 'image', data: new Uint8Array(data), mediaType: 'image/png', sha256: 'test', width: 32, height: 32 };
}

export const LEVELS = ['excellent', 'good', 'fair', 'poor', 'bad'];
export const LEVEL_CANDIDATES = LEVELS.map((l) => ` ${l}`);
export const PREFIX = 'The quality of the image is';

/** The quality report the brief names: a score from 1 to 5, distortions, reasoning. */
export const QualityReport = z.object({
  score: z.number().min(1).max(5),
  distortions: z.array(z.object({ type: z.string().min(1), severity: z.enum(['minor', 'moderate', 'severe']) })),
  reasoning: z.string(),
});

export const qualityReportJsonSchema = {
  type: 'object',
  properties: {
    score: { type: 'number', minimum: 1, maximum: 5 },
    distortions: {
      type: 'array',
      items: {
        type: 'object',
        properties: { type: { type: 'string', minLength: 1, maxLength: 20 }, severity: { type: 'string', enum: ['minor', 'moderate', 'severe'] } },
        required: ['type', 'severity'],
        additionalProperties: false,
      },
    },
    reasoning: { type: 'string' },
  },
  required: ['score', 'distortions', 'reasoning'],
  additionalProperties: false,
};

/** The last `<answer>` block's first number (the sample method's parser). */
export function parseAnswer(text: string): number | undefined {
  const blocks = [...text.matchAll(/<answer>([\s\S]*?)<\/answer>/g)];
  const last = blocks.at(-1)?.[1];
  const m = last ? /-?\d+(\.\d+)?/.exec(last) : null;
  return m ? Number(m[0]) : undefined;
}

export function userMessage(image: ImagePart | undefined, text: string): CompletionRequest['messages'] {
  return [{ role: 'user', content: image ? [image, { type: 'text', text }] : [{ type: 'text', text }] }];
}
