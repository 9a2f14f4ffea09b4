/**
 * Judging one triplet: each tile of the SR output is shown beside the same rectangle of
 * the bicubic-upscaled input (and of the ground truth), K samples each, through the
 * session (cache, retries, budget); tile answers become image scores and merged findings.
 */
import sharp from 'sharp';
import { mean, sampleStd } from '../aggregate/descriptive.js';
import type { ContentPart, ImagePart, Message, Provider } from '../core/provider.js';
import { ok } from '../core/result.js';
import { loadZod } from '../core/zod.js';
import type { RgbImage } from '../images/index.js';
import { parseJsonAnswer } from '../prompts/answers.js';
import type { PromptTemplate } from '../prompts/template.js';
import type { StoredAnswer } from '../store/store.js';
import { sampleSlots, type JudgeSession } from '../judges/session/session.js';
import { HallucinationAnswer, hallucinationSchema, type ElementKind, type ElementSeverity } from './answer.js';
import { mapBox, mergeFindings, type Finding, type PixelBox, type Tile } from './tiles.js';

export interface HallucinationSettings {
  template: PromptTemplate;
  /** Samples per tile; the image's score is the mean over samples of each sample's image score. */
  samples: number;
  temperature: number;
  maxTokens?: number | undefined;
  seed?: number | undefined;
}

/** The filter the input is upscaled with before the judge sees it (sharp's Catmull-Rom cubic). */
export const UPSCALE_FILTER = 'cubic';

/** Labels written right before each image in the request. */
export const IMAGE_LABELS = {
  input: 'Input (low resolution, upscaled with plain bicubic):',
  output: 'Output (super-resolved):',
  truth: 'Ground truth:',
} as const;

export interface TileResult extends Tile {
  /** Mean of the tile's valid sample scores, or null when none came back. */
  score: number | null;
  samples: number[];
  ok: number;
  failed: number;
  cached: number;
  callIds: number[];
  errors: string[];
  reasoning: string | null;
}

export interface JudgedImage {
  tiles: TileResult[];
  /** Worst tile, averaged over complete samples (null unless some sample answered for every tile). */
  worst: number | null;
  /** Area-weighted mean over tiles, averaged over complete samples. */
  areaMean: number | null;
  /** Standard deviation of the per-sample worst-tile scores (null with fewer than two complete samples). */
  spread: number | null;
  /** Samples that answered for every tile (only these enter the scores). */
  completeSamples: number;
  findings: Finding[];
  reasoning: string | null;
}

interface ParsedTile {
  score: number;
  elements: { kind: ElementKind; severity: ElementSeverity; box: { x0: number; y0: number; x1: number; y1: number } }[];
  reasoning: string;
}

/** Stored parameters of one tile's question (part of every sample's cache key). */
export function tileParams(tile: Tile, settings: HallucinationSettings): Record<string, unknown> {
  return {
    method: 'hallucination',
    tile: [tile.x, tile.y, tile.width, tile.height],
    sent: [tile.sentWidth, tile.sentHeight],
    upscale: UPSCALE_FILTER,
    temperature: settings.temperature,
    maxTokens: settings.maxTokens ?? 1024,
    ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
  };
}

/** The request messages for one tile: labelled images, the template's text, the size the boxes refer to. */
export function tileMessages(template: PromptTemplate, parts: { input: ImagePart; output: ImagePart; truth?: ImagePart | undefined }): Message[] {
  const content: ContentPart[] = [
    { type: 'text', text: IMAGE_LABELS.input },
    parts.input,
    { type: 'text', text: IMAGE_LABELS.output },
    parts.output,
    ...(parts.truth ? [{ type: 'text' as const, text: IMAGE_LABELS.truth }, parts.truth] : []),
    { type: 'text', text: template.user },
    { type: 'text', text: `The output image is ${parts.output.width} x ${parts.output.height} pixels; give boxes in these pixels.` },
  ];
  return [...(template.system ? [{ role: 'system' as const, content: template.system }] : []), { role: 'user', content }];
}

/** The pixels a triplet's tiles are cut from; the upscaled input is made on first use. */
export interface TripletPixels {
  sr: RgbImage & { sha256: string };
  lr: RgbImage & { sha256: string };
  gt?: (RgbImage & { sha256: string }) | undefined;
}

async function crop(image: { data: Uint8Array; width: number; height: number }, tile: Tile, sha: string): Promise<ImagePart> {
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).extract({
    left: tile.x,
    top: tile.y,
    width: tile.width,
    height: tile.height,
  });
  if (tile.sentWidth !== tile.width || tile.sentHeight !== tile.height) {
    pipeline = sharp(await pipeline.raw().toBuffer(), { raw: { width: tile.width, height: tile.height, channels: 3 } }).resize(
      tile.sentWidth,
      tile.sentHeight,
      { fit: 'fill', kernel: 'lanczos3' },
    );
  }
  const data = await pipeline.png({ compressionLevel: 6 }).toBuffer();
  return { type: 'image', data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), mediaType: 'image/png', sha256: sha, width: tile.sentWidth, height: tile.sentHeight };
}

/** Each triplet's upscaled input, made once however many judges (panel neurons) ask for it. */
const upscaledInputs = new WeakMap<TripletPixels, Promise<Uint8Array>>();

function upscaledInputOf(pixels: TripletPixels): Promise<Uint8Array> {
  let made = upscaledInputs.get(pixels);
  if (!made) {
    made = upscaleInput(pixels.lr, pixels.sr.width, pixels.sr.height);
    upscaledInputs.set(pixels, made);
  }
  return made;
}

/** The LR input upscaled to the SR size with the plain cubic filter. */
async function upscaleInput(lr: RgbImage, width: number, height: number): Promise<Uint8Array> {
  const data = await sharp(lr.data, { raw: { width: lr.width, height: lr.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: UPSCALE_FILTER })
    .raw()
    .toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Judges every tile of one triplet and combines the answers. Boxes are mapped from the
 * coordinates of the image as sent to SR pixels and merged across tiles and samples.
 */
export async function judgeTriplet(input: {
  session: JudgeSession;
  provider: Provider;
  judgeId: string;
  settings: HallucinationSettings;
  tiles: readonly Tile[];
  pixels: TripletPixels;
}): Promise<JudgedImage> {
  const { session, settings, pixels } = input;
  const imageHashes = [pixels.lr.sha256, pixels.sr.sha256, ...(pixels.gt ? [pixels.gt.sha256] : [])];
  const perTile = await Promise.all(
    input.tiles.map(async (tile) => {
      const params = tileParams(tile, settings);
      const found = session.lookup(sampleSlots({ judgeId: input.judgeId, promptHash: settings.template.hash, imageHashes, params, count: settings.samples }));
      const calls: StoredAnswer[] = [...found.cached];
      if (found.missing.length > 0 && !session.stopping) {
        const size = { width: pixels.sr.width, height: pixels.sr.height };
        const [inputPart, outputPart, truthPart] = await Promise.all([
          upscaledInputOf(pixels).then((data) => crop({ data, ...size }, tile, pixels.lr.sha256)),
          crop(pixels.sr, tile, pixels.sr.sha256),
          pixels.gt ? crop(pixels.gt, tile, pixels.gt.sha256) : undefined,
          loadZod(), // the answers are validated with zod: loaded now, not on the first answer
        ]);
        const made = await session.execute({
          request: {
            messages: tileMessages(settings.template, { input: inputPart, output: outputPart, truth: truthPart }),
            temperature: settings.temperature,
            maxTokens: settings.maxTokens ?? 1024,
            ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
            responseSchema: hallucinationSchema,
          },
          parse: (choice) => {
            const r = parseJsonAnswer(choice, HallucinationAnswer());
            return r.ok ? ok({ ...r.value.value, extraction: r.value.extraction }) : r;
          },
          params,
          slots: found.missing,
          promptHash: settings.template.hash,
          imageHashes,
        });
        calls.push(...made);
      }
      return { calls, cached: found.cached.length };
    }),
  );
  return combineTiles(input.tiles, perTile, settings.samples);
}

/**
 * How one judge's verdict on an image stands: `ok` with scores from complete samples;
 * `failed` when it was asked (or the session goes on) and some tile has no answer;
 * `not-run` when the session stopped before asking. Errors: each tile's, or why not run.
 */
export function judgedOutcome(j: JudgedImage, session: JudgeSession): { status: 'ok' | 'failed' | 'not-run'; errors: string[] } {
  const complete = j.worst !== null && j.completeSamples > 0 && j.tiles.every((t) => t.score !== null);
  const asked = j.tiles.some((t) => t.ok + t.failed > 0);
  const status = complete ? 'ok' : asked || !session.stopping ? 'failed' : 'not-run';
  return { status, errors: status === 'not-run' ? [`not run: ${session.notRunReason()}`] : j.tiles.flatMap((t) => t.errors) };
}

/** Tile results and image scores from each tile's calls (see `JudgedImage`). */
export function combineTiles(tiles: readonly Tile[], perTile: readonly { calls: readonly StoredAnswer[]; cached: number }[], samples: number): JudgedImage {
  const bySample: Map<number, ParsedTile>[] = [];
  const results: TileResult[] = tiles.map((tile, t) => {
    const { calls, cached } = perTile[t] as (typeof perTile)[number];
    const good = calls.filter((c) => c.status === 'ok').sort((a, b) => a.sampleIndex - b.sampleIndex);
    const map = new Map(good.map((c) => [c.sampleIndex, c.parsed as ParsedTile]));
    bySample.push(map);
    const errors = calls.filter((c) => c.status !== 'ok').map((c) => `tile ${t} sample ${c.sampleIndex}: ${c.error ?? c.status}`);
    if (calls.length < samples) errors.push(`tile ${t}: ${samples - calls.length} sample(s) not run`);
    const scores = [...map.values()].map((p) => p.score);
    return {
      ...tile,
      score: scores.length ? mean(scores) : null,
      samples: scores,
      ok: good.length,
      failed: calls.length - good.length,
      cached,
      callIds: calls.map((c) => c.id),
      errors,
      reasoning: [...map.values()].find((p) => p.reasoning)?.reasoning ?? null,
    };
  });
  const totalArea = tiles.reduce((s, t) => s + t.width * t.height, 0);
  const worstPerSample: number[] = [];
  const meanPerSample: number[] = [];
  for (let k = 0; k < samples; k++) {
    const answers = bySample.map((m) => m.get(k));
    if (answers.some((a) => a === undefined)) continue;
    const scores = answers.map((a) => (a as ParsedTile).score);
    worstPerSample.push(scores.reduce((m, s) => Math.max(m, s), -Infinity));
    meanPerSample.push(scores.reduce((s, v, t) => s + v * (tiles[t] as Tile).width * (tiles[t] as Tile).height, 0) / totalArea);
  }
  const raw: Finding[] = [];
  bySample.forEach((m, t) => {
    for (const answer of m.values()) {
      for (const e of answer.elements) {
        const box: PixelBox | null = mapBox(e.box, tiles[t] as Tile);
        if (box) raw.push({ kind: e.kind, severity: e.severity, box, support: 1, tiles: [t] });
      }
    }
  });
  const worstTile = results.reduce<TileResult | undefined>((w, r) => (r.score !== null && (w === undefined || (r.score ?? 0) > (w.score ?? 0)) ? r : w), undefined);
  return {
    tiles: results,
    worst: worstPerSample.length ? mean(worstPerSample) : null,
    areaMean: meanPerSample.length ? mean(meanPerSample) : null,
    spread: worstPerSample.length >= 2 ? sampleStd(worstPerSample) : null,
    completeSamples: worstPerSample.length,
    findings: mergeFindings(raw),
    reasoning: worstTile?.reasoning ?? null,
  };
}
