import { CapabilityError, UsageError } from '../core/errors.js';
import type { Choice, CompletionRequest, ImagePart, Provider } from '../core/provider.js';
import { err, ok, type Result } from '../core/result.js';
import {
  levelsFromCandidates,
  levelsFromLogprobs,
  levelVariants,
  parseJsonAnswer,
  parseSampleAnswer,
  QualityReport,
  qualityReportSchema,
} from '../prompts/answers.js';
import { levelWeights, renderMessages, type PromptTemplate } from '../prompts/template.js';
import type { CallRecord } from '../store/store.js';
import { mean, sampleStd } from '../aggregate/descriptive.js';
import { levelMoments } from '../aggregate/level-moments.js';
import { cacheKey, type CallGroup, type JudgeSession } from './session.js';
import type { Anchor } from './anchors.js';
import type { PairSettings } from './compare.js';

/**
 * How a score is obtained. `report` is the `sample` method with a structured template;
 * `anchors` compares the image with anchors of known quality (Compare2Score).
 */
export type ScoreMethod = 'sample' | 'levels' | 'report' | 'anchors';

/** Whether a provider can read level probabilities (log-probabilities or exact candidates). */
export function canReadLevels(provider: Provider): boolean {
  return provider.capabilities.logprobs || provider.capabilities.candidateProbabilities;
}

/**
 * Picks the method: a template's kind decides; `auto` takes `levels` where the provider
 * returns probabilities and `sample` otherwise.
 */
export function resolveMethod(
  requested: 'auto' | 'sample' | 'levels' | 'anchors',
  provider: Provider,
  template: PromptTemplate | undefined,
): ScoreMethod {
  if (requested === 'anchors') {
    if (template && template.task !== 'pair') {
      throw new UsageError(`--method anchors needs a pair template (compare-levels, compare-sample), not \`${template.id}\``);
    }
    return 'anchors';
  }
  if (template) {
    if (template.task === 'pair') throw new UsageError(`Template \`${template.id}\` compares two images; use it with --method anchors, compare or rank`);
    const kind = template.kind;
    if (requested !== 'auto' && requested !== kind && !(requested === 'sample' && kind === 'report')) {
      throw new UsageError(`--method ${requested} does not fit template \`${template.id}\`, which is a ${kind} template`);
    }
    if (kind === 'levels' && !canReadLevels(provider)) {
      throw new CapabilityError(
        `${provider.id}:${provider.model} returns no log-probabilities, so the levels method cannot run; use --method sample`,
      );
    }
    return kind;
  }
  if (requested === 'levels' && !canReadLevels(provider)) {
    throw new CapabilityError(
      `${provider.id}:${provider.model} returns no log-probabilities, so the levels method cannot run; use --method sample`,
    );
  }
  if (requested === 'auto') return canReadLevels(provider) ? 'levels' : 'sample';
  return requested;
}

export interface ScoreSettings {
  template: PromptTemplate;
  method: ScoreMethod;
  /** Samples per image (the levels method always uses one call). */
  samples: number;
  temperature: number;
  /** @default 1024 for sample/report, 16 for levels */
  maxTokens?: number | undefined;
  seed?: number | undefined;
  /** For the anchors method: the anchors and how each comparison is judged. */
  anchors?: { list: Anchor[]; pair: PairSettings } | undefined;
}

/** One image's score, as printed and stored. */
export interface ImageScore {
  path: string;
  sha256: string;
  status: 'ok' | 'partial' | 'failed';
  method: ScoreMethod;
  /** Mean of the valid samples, or the expected level; 1..5 on the built-in templates. */
  score: number | null;
  /** Unbiased sample standard deviation, or the spread of the level distribution. */
  std: number | null;
  samples: number[];
  /** Level probabilities, best first (levels method). */
  levels: Record<string, number> | null;
  /** Probability mass the level words covered before renormalising (levels method). */
  coverage: number | null;
  reasoning: string | null;
  distortions: QualityReport['distortions'] | null;
  okCalls: number;
  failedCalls: number;
  cachedCalls: number;
  errors: string[];
  /** Anchors method: P(image better than anchor j), both orders averaged. */
  anchorPreferences?: (number | null)[];
  duplicateOf?: string;
}

interface LevelParsed {
  probabilities: number[];
  coverage: number;
  score: number;
  std: number;
}

function levelsParser(template: PromptTemplate, prefilled: boolean, candidates: boolean) {
  const levels = template.levels ?? [];
  const weights = levelWeights(template);
  return (choice: Choice): Result<LevelParsed, string> => {
    const dist =
      candidates && choice.candidateProbabilities
        ? levelsFromCandidates(choice.candidateProbabilities, levels)
        : choice.logprobs
          ? levelsFromLogprobs(choice.logprobs, template, prefilled)
          : err('the answer carried no log-probabilities');
    if (!dist.ok) return dist;
    const m = levelMoments(dist.value.probabilities, weights);
    return ok({ probabilities: dist.value.probabilities, coverage: dist.value.coverage, score: m.mean, std: m.std });
  };
}

/** The request, stored parameters and parser for one image under a method. */
export function scoreGroupSpec(
  provider: Provider,
  settings: ScoreSettings,
  image: ImagePart,
): Pick<CallGroup, 'request' | 'params' | 'parse'> {
  const { template, method } = settings;
  const messages = renderMessages(template, [{ part: image }]);
  if (method === 'levels') {
    const useCandidates = provider.capabilities.candidateProbabilities;
    const request: CompletionRequest = {
      messages,
      prefill: template.prefix ?? '',
      temperature: 0,
      maxTokens: settings.maxTokens ?? 16,
      ...(useCandidates
        ? { candidates: levelVariants(template.levels ?? []) }
        : { logprobs: { top: 20 } }),
    };
    return {
      request,
      params: { method, top: useCandidates ? 'exact' : 20, maxTokens: request.maxTokens },
      parse: levelsParser(template, provider.capabilities.prefill, useCandidates),
    };
  }
  const request: CompletionRequest = {
    messages,
    temperature: settings.temperature,
    maxTokens: settings.maxTokens ?? 1024,
    ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
    ...(method === 'report'
      ? { responseSchema: qualityReportSchema }
      : { answerShape: { kind: 'think-answer', maxThinkChars: 1500, range: template.range } }),
  };
  const range = template.range;
  return {
    request,
    params: {
      method,
      temperature: settings.temperature,
      maxTokens: request.maxTokens,
      ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
    },
    parse:
      method === 'report'
        ? (choice) => {
            const r = parseJsonAnswer(choice, QualityReport);
            return r.ok ? ok({ ...r.value.value, extraction: r.value.extraction }) : r;
          }
        : (choice) => parseSampleAnswer(choice.text, range),
  };
}

/** Cache keys of an image's samples, without touching the provider or encoding anything. */
export function sampleKeys(
  judgeId: string,
  template: PromptTemplate,
  imageHash: string,
  params: Record<string, unknown>,
  count: number,
): { cacheKey: string; sampleIndex: number }[] {
  return Array.from({ length: count }, (_, sampleIndex) => ({
    sampleIndex,
    cacheKey: cacheKey({ judgeId, promptHash: template.hash, imageHashes: [imageHash], params, sampleIndex }),
  }));
}

/** Stored parameters for a method, the same ones `scoreGroupSpec` records (no image needed). */
export function scoreParams(provider: Provider, settings: ScoreSettings): Record<string, unknown> {
  const { method } = settings;
  if (method === 'levels') {
    return {
      method,
      top: provider.capabilities.candidateProbabilities ? 'exact' : 20,
      maxTokens: settings.maxTokens ?? 16,
    };
  }
  return {
    method,
    temperature: settings.temperature,
    maxTokens: settings.maxTokens ?? 1024,
    ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
  };
}

/**
 * Scores one image: serves what the cache has, asks the judge for the rest (encoding
 * the image only then), and aggregates every valid sample.
 */
export async function scoreImage(input: {
  session: JudgeSession;
  provider: Provider;
  judgeId: string;
  settings: ScoreSettings;
  path: string;
  sha256: string;
  encode: () => Promise<ImagePart>;
}): Promise<ImageScore> {
  const { session, provider, settings } = input;
  const count = settings.method === 'levels' ? 1 : settings.samples;
  const params = scoreParams(provider, settings);
  const slots = sampleKeys(input.judgeId, settings.template, input.sha256, params, count);
  const calls: CallRecord[] = [];
  const missing: typeof slots = [];
  for (const slot of slots) {
    const hit = session.cached(slot.cacheKey);
    if (hit) calls.push(hit);
    else missing.push(slot);
  }
  session.linkCached(calls);
  const cachedCalls = calls.length;
  if (missing.length > 0 && !session.stopping) {
    const image = await input.encode();
    const spec = scoreGroupSpec(provider, settings, image);
    const made = await session.execute({
      ...spec,
      slots: missing,
      promptHash: settings.template.hash,
      imageHashes: [input.sha256],
    });
    calls.push(...made);
  }
  return aggregateImage(input.path, input.sha256, settings, calls, count, cachedCalls);
}

/** An image result with nothing in it yet: no score, no calls. */
export function unscored(path: string, sha256: string, method: ScoreMethod): ImageScore {
  return {
    path,
    sha256,
    status: 'failed',
    method,
    score: null,
    std: null,
    samples: [],
    levels: null,
    coverage: null,
    reasoning: null,
    distortions: null,
    okCalls: 0,
    failedCalls: 0,
    cachedCalls: 0,
    errors: [],
  };
}

/** Turns an image's calls into its score. Only `ok` calls contribute; failures are counted and listed. */
export function aggregateImage(
  path: string,
  sha256: string,
  settings: ScoreSettings,
  calls: readonly CallRecord[],
  wanted: number,
  cachedCalls: number,
): ImageScore {
  const sorted = [...calls].sort((a, b) => a.sampleIndex - b.sampleIndex);
  const good = sorted.filter((c) => c.status === 'ok');
  const errors = sorted.filter((c) => c.status !== 'ok').map((c) => `sample ${c.sampleIndex}: ${c.error ?? c.status}`);
  const missing = wanted - sorted.length;
  if (missing > 0) errors.push(`${missing} sample(s) not run (stopped or budget reached)`);
  const base: ImageScore = {
    ...unscored(path, sha256, settings.method),
    okCalls: good.length,
    failedCalls: sorted.length - good.length,
    cachedCalls,
    errors,
  };
  if (good.length === 0) return base;
  const status = good.length === wanted ? 'ok' : 'partial';
  if (settings.method === 'levels') {
    const p = (good[0] as CallRecord).parsed as LevelParsed;
    const names = settings.template.levels ?? [];
    return {
      ...base,
      status,
      score: p.score,
      std: p.std,
      samples: [p.score],
      levels: Object.fromEntries(names.map((n, i) => [n, p.probabilities[i] ?? 0])),
      coverage: p.coverage,
    };
  }
  const parsed = good.map((c) => c.parsed as { score: number; reasoning?: string; distortions?: QualityReport['distortions'] });
  const scores = parsed.map((p) => p.score);
  return {
    ...base,
    status,
    score: mean(scores),
    std: scores.length > 1 ? sampleStd(scores) : null,
    samples: scores,
    reasoning: parsed.find((p) => p.reasoning)?.reasoning ?? null,
    distortions: settings.method === 'report' ? (parsed[0]?.distortions ?? []) : null,
  };
}
