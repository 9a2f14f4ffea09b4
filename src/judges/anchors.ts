import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { scoreAgainstAnchors } from '../aggregate/score-against-anchors.js';
import { ConfigError } from '../core/errors.js';
import type { Provider } from '../core/provider.js';
import { judgePair, type PairResult, type PairSettings } from './compare.js';
import type { ImageRegistry, RegisteredImage } from './image-registry.js';
import type { JudgeSession } from './session/session.js';

/**
 * Compare2Score-style absolute scores: the test image is compared (both orders) with
 * anchors of known quality; the anchors' own preference matrix comes from judging every
 * anchor pair with the same judge, so the judge's comparisons are calibrated against
 * the known scores; the MAP latent score of the test image is mapped onto the anchors'
 * scale (aggregate/score-against-anchors).
 */

export interface Anchor {
  path: string;
  score: number;
}

/**
 * Reads an anchors file: CSV with a header naming `path` and `score` columns (others are
 * ignored); relative paths are relative to the file. At least two anchors with different
 * scores are needed; five spread over the scale is the usual choice.
 */
export async function loadAnchors(file: string): Promise<Anchor[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`Anchors file ${file}: cannot read it`, { cause });
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines.shift() ?? '').split(',').map((h) => h.trim().toLowerCase());
  const pathCol = header.indexOf('path');
  const scoreCol = header.indexOf('score');
  if (pathCol < 0 || scoreCol < 0) {
    throw new ConfigError(`Anchors file ${file}: expected a header with \`path\` and \`score\` columns, got \`${header.join(',')}\``);
  }
  const anchors = lines.map((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    const path = cells[pathCol] ?? '';
    const score = Number(cells[scoreCol]);
    if (!path || !Number.isFinite(score)) {
      throw new ConfigError(`Anchors file ${file}, line ${i + 2}: expected a path and a numeric score, got \`${line}\``);
    }
    return { path: isAbsolute(path) ? path : join(dirname(file), path), score };
  });
  if (anchors.length < 2 || new Set(anchors.map((a) => a.score)).size < 2) {
    throw new ConfigError(`Anchors file ${file}: needs at least two anchors with different scores, got ${anchors.length}`);
  }
  return anchors;
}

export interface AnchorContext {
  anchors: Anchor[];
  images: RegisteredImage[];
  /** preferences[i][j] = P(anchor i better than anchor j) as judged (diagonal 0.5). */
  preferences: number[][];
  pairs: PairResult[];
}

/** Registers the anchors and judges every anchor pair in both orders. */
export async function prepareAnchors(input: {
  anchors: Anchor[];
  registry: ImageRegistry;
  session: JudgeSession;
  provider: Provider;
  judgeId: string;
  settings: PairSettings;
}): Promise<AnchorContext> {
  const images = await Promise.all(input.anchors.map((a) => input.registry.register(a.path)));
  const m = images.length;
  const preferences = Array.from({ length: m }, () => Array.from({ length: m }, () => 0.5));
  const jobs: Promise<PairResult>[] = [];
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) {
      jobs.push(
        judgePair({ ...input, a: images[i] as RegisteredImage, b: images[j] as RegisteredImage, order: 'both' }).then((r) => {
          // With no answer, an anchor pair falls back to "equal": it then carries no information.
          const pB = r.preference ?? 0.5;
          (preferences[i] as number[])[j] = 1 - pB;
          (preferences[j] as number[])[i] = pB;
          return r;
        }),
      );
    }
  }
  const pairs = await Promise.all(jobs);
  return { anchors: input.anchors, images, preferences, pairs };
}

export interface AnchoredScore {
  score: number | null;
  /** P(test better than anchor j), both orders averaged; null where the pair failed. */
  preferences: (number | null)[];
  latent: number | null;
  pairs: PairResult[];
  errors: string[];
}

/** Scores one image against prepared anchors. */
export async function scoreWithAnchors(input: {
  context: AnchorContext;
  image: RegisteredImage;
  session: JudgeSession;
  provider: Provider;
  judgeId: string;
  settings: PairSettings;
}): Promise<AnchoredScore> {
  const { context, image } = input;
  const pairs = await Promise.all(
    context.images.map((anchor) => judgePair({ ...input, a: anchor, b: image, order: 'both' })),
  );
  const preferences = pairs.map((p) => p.preference);
  const errors = pairs.flatMap((p) => p.orders.flatMap((o) => o.errors));
  if (preferences.some((p) => p === null)) {
    return { score: null, preferences, latent: null, pairs, errors: errors.length ? errors : ['a comparison with an anchor failed'] };
  }
  const fit = scoreAgainstAnchors(
    { scores: context.anchors.map((a) => a.score), preferences: context.preferences },
    preferences as number[],
  );
  return { score: fit.score, preferences, latent: fit.latent, pairs, errors };
}
