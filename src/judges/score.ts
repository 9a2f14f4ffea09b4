import { CapabilityError, UsageError } from '../core/errors.js';
import type { CompletionRequest, ImagePart, Provider } from '../core/provider.js';
import { ok } from '../core/result.js';
import { loadZod } from '../core/zod.js';
import { parseJsonAnswer, parseSampleAnswer, QualityReport, qualityReportSchema } from '../prompts/answers.js';
import { renderMessages, type PromptTemplate } from '../prompts/template.js';
import type { StoredAnswer } from '../store/store.js';
import { mean, sampleStd } from '../aggregate/descriptive.js';
import { sampleSlots, type CallGroup, type JudgeSession } from './session/session.js';
import { canReadLevels, levelParams, levelReader, levelRequest, type LevelReading } from './levels.js';
import type { Anchor } from './anchors.js';
import type { PairSettings } from './compare.js';

/**
 * How a score is obtained. `report` is the `sample` method with a structured template;
 * `anchors` compares the image with anchors of known quality (Compare2Score).
 */
export type ScoreMethod = 'sample' | 'levels' | 'report' | 'anchors';


/**
 * Picks the method: a template's kind decides; `auto` takes `levels` where the judge
 * reads level probabilities (`readsLevels`: see `levelsSupport`, which probes a server
 * once) and `sample` otherwise.
 */
export function resolveMethod(
  requested: 'auto' | 'sample' | 'levels' | 'anchors',
  provider: Provider,
  template: PromptTemplate | undefined,
  readsLevels: boolean = canReadLevels(provider),
): ScoreMethod {
  if (requested === 'anchors') {
    if (template && template.task !== 'pair') {
      throw new UsageError(`--method anchors needs a pair template (compare-levels, compare-sample), not \`${template.id}\``);
    }
    return 'anchors';
  }
  if (template) {
    if (template.task === 'hallucination') throw new UsageError(`Template \`${template.id}\` judges super-resolution outputs; use it with quorum hallucination`);
    if (template.task === 'pair') throw new UsageError(`Template \`${template.id}\` compares two images; use it with --method anchors, compare or rank`);
    const kind = template.kind;
    if (requested !== 'auto' && requested !== kind && !(requested === 'sample' && kind === 'report')) {
      throw new UsageError(`--method ${requested} does not fit template \`${template.id}\`, which is a ${kind} template`);
    }
    return needsLevels(kind, provider, readsLevels);
  }
  if (requested === 'auto') return readsLevels ? 'levels' : 'sample';
  return needsLevels(requested, provider, readsLevels);
}

/** The method itself, unless it is `levels` and the judge cannot read level probabilities. */
function needsLevels<M extends ScoreMethod>(method: M, provider: Provider, readsLevels: boolean): M {
  if (method === 'levels' && !readsLevels) {
    throw new CapabilityError(
      `${provider.id}:${provider.model} returns no log-probabilities, so the levels method cannot run; use --method sample`,
    );
  }
  return method;
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

/**
 * What happened to one input. `ok`: every sample answered; `partial`: some; `failed`: the
 * judge was asked and no sample is usable; `error`: the file could not be read (the
 * reason is in `errors`); `not-run`: never reached (Ctrl-C, `--max-cost`, or a run
 * stopped by an error no retry fixes).
 */
export type ItemStatus = 'ok' | 'partial' | 'failed' | 'error' | 'not-run';

/** One image's score, as printed and stored. */
export interface ImageScore {
  path: string;
  /** sha256 of the file; null when it could not be read. */
  sha256: string | null;
  status: ItemStatus;
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

/**
 * Stored parameters for a method (part of every sample's cache key); no image needed.
 * The same object for every image of a run (settings are not changed once a run starts):
 * sample keys are built from it once, not once per image.
 */
export function scoreParams(provider: Provider, settings: ScoreSettings): Record<string, unknown> {
  let byProvider = paramsSeen.get(settings);
  if (!byProvider) paramsSeen.set(settings, (byProvider = new WeakMap()));
  let params = byProvider.get(provider);
  if (!params) byProvider.set(provider, (params = Object.freeze(paramsOf(provider, settings))));
  return params;
}

const paramsSeen = new WeakMap<ScoreSettings, WeakMap<Provider, Readonly<Record<string, unknown>>>>();

function paramsOf(provider: Provider, settings: ScoreSettings): Record<string, unknown> {
  const { method } = settings;
  if (method === 'levels') return levelParams(provider, method, settings.maxTokens ?? 16);
  return {
    method,
    temperature: settings.temperature,
    maxTokens: settings.maxTokens ?? 1024,
    ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
  };
}

/** The request and parser for one image under a method. */
export function scoreGroupSpec(
  provider: Provider,
  settings: ScoreSettings,
  image: ImagePart,
): Pick<CallGroup, 'request' | 'parse'> {
  const { template, method } = settings;
  const messages = renderMessages(template, [{ part: image }]);
  if (method === 'levels') {
    return { request: levelRequest(provider, template, messages, settings.maxTokens ?? 16), parse: levelReader(provider, template) };
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
  return {
    request,
    parse:
      method === 'report'
        ? (choice) => {
            const r = parseJsonAnswer(choice, QualityReport());
            return r.ok ? ok({ ...r.value.value, extraction: r.value.extraction }) : r;
          }
        : (choice) => parseSampleAnswer(choice.text, template.range),
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
  /** Why samples left unasked were not (read after the calls). */
  notRun?: () => string;
}): Promise<ImageScore> {
  const { session, provider, settings } = input;
  const count = settings.method === 'levels' ? 1 : settings.samples;
  const params = scoreParams(provider, settings);
  const question = { judgeId: input.judgeId, promptHash: settings.template.hash, imageHashes: [input.sha256], params };
  const { cached, missing } = await session.lookupSoon(sampleSlots({ ...question, count }));
  const calls: StoredAnswer[] = [...cached];
  const cachedCalls = cached.length;
  if (missing.length > 0 && !session.stopping) {
    // A report answer is validated with zod: loaded beside the encoding, not on the first answer.
    const [image] = await Promise.all([input.encode(), settings.method === 'report' ? loadZod() : undefined]);
    const spec = scoreGroupSpec(provider, settings, image);
    const made = await session.execute({
      ...spec,
      params,
      slots: missing,
      promptHash: settings.template.hash,
      imageHashes: [input.sha256],
    });
    calls.push(...made);
  }
  return aggregateImage(input.path, input.sha256, settings, calls, count, cachedCalls, input.notRun?.());
}

/** An image result with nothing in it yet: no score, no calls. */
export function unscored(path: string, sha256: string | null, method: ScoreMethod): ImageScore {
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
  calls: readonly StoredAnswer[],
  wanted: number,
  cachedCalls: number,
  /** Why samples that were never asked were not, e.g. `interrupted`. */
  notRun?: string,
): ImageScore {
  const sorted = [...calls].sort((a, b) => a.sampleIndex - b.sampleIndex);
  const good = sorted.filter((c) => c.status === 'ok');
  const errors = sorted.filter((c) => c.status !== 'ok').map((c) => `sample ${c.sampleIndex}: ${c.error ?? c.status}`);
  const missing = wanted - sorted.length;
  if (missing > 0) errors.push(`${missing} sample(s) not run (${notRun ?? 'stopped or budget reached'})`);
  const base: ImageScore = {
    ...unscored(path, sha256, settings.method),
    okCalls: good.length,
    failedCalls: sorted.length - good.length,
    cachedCalls,
    errors,
  };
  if (sorted.length === 0 && missing > 0) return { ...base, status: 'not-run', errors: [`not run: ${notRun ?? 'stopped or budget reached'}`] };
  if (good.length === 0) return base;
  const status = good.length === wanted ? 'ok' : 'partial';
  if (settings.method === 'levels') {
    const p = (good[0] as StoredAnswer).parsed as LevelReading;
    const names = settings.template.levels ?? [];
    return {
      ...base,
      status,
      score: p.mean,
      std: p.std,
      samples: [p.mean],
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
