import { UsageError } from '../core/errors.js';
import type { Choice, CompletionRequest, ImagePart, Provider } from '../core/provider.js';
import { ok, type Result } from '../core/result.js';
import { parseWordAnswer } from '../prompts/answers.js';
import { levelWeights, renderMessages, type PromptTemplate } from '../prompts/template.js';
import type { StoredAnswer } from '../store/store.js';
import { mean } from '../aggregate/descriptive.js';
import type { RegisteredImage } from './image-registry.js';
import { canReadLevels, levelParams, levelReader, levelRequest } from './levels.js';
import { sampleSlots, type JudgeSession } from './session/session.js';

/**
 * Pairwise judging: one image against another, in one or both orders. The judge always
 * rates Image B relative to Image A; the answer's expectation over the template's
 * comparative weights is the soft preference P(second shown is better).
 */

/** Half-width of the band around 0.5 inside which a soft preference is a tie. */
export const TIE_BAND = 0.1;

export interface PairSettings {
  template: PromptTemplate;
  /** Samples per order for a sample template (a levels template uses one call). */
  samples: number;
  temperature: number;
  maxTokens?: number | undefined;
  seed?: number | undefined;
}

export type OrderVerdict = 'first' | 'second' | 'tie';

/** One order of one pair: what the judge said about `second` relative to `first`. */
export interface OrderResult {
  first: string;
  second: string;
  /** P(second better than first) from this order, or null when no call succeeded. */
  preference: number | null;
  verdict: OrderVerdict | null;
  /** Level distribution (levels templates) or per-sample weights (sample templates). */
  levels: number[] | null;
  samples: number[];
  coverage: number | null;
  reasoning: string | null;
  ok: number;
  failed: number;
  cached: number;
  callIds: number[];
  errors: string[];
}

export type PairVerdict = 'a' | 'b' | 'tie';

/** One pair judged in one or both orders, mapped back to (a, b). */
export interface PairResult {
  a: { path: string; sha256: string };
  b: { path: string; sha256: string };
  orders: OrderResult[];
  /** P(b better than a): the mean over orders of each order's preference mapped to b. */
  preference: number | null;
  /** Both orders must agree; if they disagree the pair is a tie (MT-Bench). */
  verdict: PairVerdict | null;
  /** False when the two orders disagreed (position bias). Null with fewer than two orders. */
  consistent: boolean | null;
  /** |P_b(order 1) - P_b(order 2)|: how far apart the two orders were. */
  orderGap: number | null;
}

export function verdictOf(preference: number): OrderVerdict {
  if (preference > 0.5 + TIE_BAND) return 'second';
  if (preference < 0.5 - TIE_BAND) return 'first';
  return 'tie';
}

export function pairMethod(template: PromptTemplate, provider: Provider): 'levels' | 'sample' {
  if (template.task !== 'pair') throw new UsageError(`Template \`${template.id}\` is not a pair template`);
  if (template.kind === 'levels') {
    if (!canReadLevels(provider)) {
      throw new UsageError(
        `${provider.id}:${provider.model} returns no log-probabilities; use --prompt compare-sample for pairwise judging`,
      );
    }
    return 'levels';
  }
  return 'sample';
}

interface OrderParsed {
  preference: number;
  levels: number[] | null;
  coverage: number | null;
  reasoning: string | null;
}

/** Stored parameters of a pair order (part of its cache key). */
export function pairParams(provider: Provider, settings: PairSettings): Record<string, unknown> {
  if (pairMethod(settings.template, provider) === 'levels') return levelParams(provider, 'pair-levels', settings.maxTokens ?? 24);
  return {
    method: 'pair-sample',
    temperature: settings.temperature,
    maxTokens: settings.maxTokens ?? 1024,
    ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
  };
}

/** The request and parser of one order of a pair. */
export function pairRequest(
  provider: Provider,
  settings: PairSettings,
  parts: { reference?: ImagePart | undefined; first: ImagePart; second: ImagePart },
): { request: CompletionRequest; parse: (c: Choice) => Result<OrderParsed, string> } {
  const { template } = settings;
  const images = [
    ...(parts.reference ? [{ part: parts.reference, label: 'Reference Image' }] : []),
    { part: parts.first, label: 'Image A' },
    { part: parts.second, label: 'Image B' },
  ];
  const messages = renderMessages(template, images);
  if (pairMethod(template, provider) === 'levels') {
    const read = levelReader(provider, template);
    return {
      request: levelRequest(provider, template, messages, settings.maxTokens ?? 24),
      parse: (choice) => {
        // The expectation over the comparative weights is P(B better than A).
        const r = read(choice);
        return r.ok ? ok({ preference: r.value.mean, levels: r.value.probabilities, coverage: r.value.coverage, reasoning: null }) : r;
      },
    };
  }
  const levels = template.levels ?? [];
  const weights = levelWeights(template);
  return {
    request: {
      messages,
      temperature: settings.temperature,
      maxTokens: settings.maxTokens ?? 1024,
      ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
      answerShape: { kind: 'think-answer', maxThinkChars: 800, choices: levels },
    },
    parse: (choice) => {
      const r = parseWordAnswer(choice.text, levels);
      if (!r.ok) return r;
      return ok({ preference: weights[r.value.level] as number, levels: null, coverage: null, reasoning: r.value.reasoning || null });
    },
  };
}

/** What one order of a pair is asked with: `second` against `first` (and the reference). */
interface OrderInput {
  provider: Provider;
  judgeId: string;
  settings: PairSettings;
  first: RegisteredImage;
  second: RegisteredImage;
  reference?: RegisteredImage | undefined;
}

/** One order's question: its method, samples, parameters, images and the samples' cache keys. */
function orderQuestion(input: OrderInput) {
  const { provider, settings, first, second, reference } = input;
  const method = pairMethod(settings.template, provider);
  const count = method === 'levels' ? 1 : settings.samples;
  const params = pairParams(provider, settings);
  const imageHashes = [...(reference ? [reference.sha256] : []), first.sha256, second.sha256];
  const slots = sampleSlots({ judgeId: input.judgeId, promptHash: settings.template.hash, imageHashes, params, count });
  return { method, count, params, imageHashes, slots };
}

/** Judges `second` against `first` (and the reference, when given) in this order. */
export async function judgeOrder(input: OrderInput & { session: JudgeSession }): Promise<OrderResult> {
  const { session, provider, settings, first, second, reference } = input;
  const { method, count, params, imageHashes, slots } = orderQuestion(input);
  const found = session.lookup(slots);
  const calls: StoredAnswer[] = [...found.cached];
  const missing = found.missing;
  const cached = calls.length;
  if (missing.length > 0 && !session.stopping) {
    const [refPart, firstPart, secondPart] = await Promise.all([reference?.encode(), first.encode(), second.encode()]);
    const spec = pairRequest(provider, settings, { reference: refPart, first: firstPart, second: secondPart });
    calls.push(
      ...(await session.execute({ ...spec, params, slots: missing, promptHash: settings.template.hash, imageHashes })),
    );
  }
  const good = calls.filter((c) => c.status === 'ok').sort((a, b) => a.sampleIndex - b.sampleIndex);
  const parsed = good.map((c) => c.parsed as OrderParsed);
  const errors = calls.filter((c) => c.status !== 'ok').map((c) => `sample ${c.sampleIndex}: ${c.error ?? c.status}`);
  if (calls.length < count) errors.push(`${count - calls.length} sample(s) not run (stopped or budget reached)`);
  const preference = parsed.length ? mean(parsed.map((p) => p.preference)) : null;
  return {
    first: first.sha256,
    second: second.sha256,
    preference,
    verdict: preference === null ? null : verdictOf(preference),
    levels: method === 'levels' ? (parsed[0]?.levels ?? null) : parsed.length ? parsed.map((p) => p.preference) : null,
    samples: parsed.map((p) => p.preference),
    coverage: parsed[0]?.coverage ?? null,
    reasoning: parsed.find((p) => p.reasoning)?.reasoning ?? null,
    ok: good.length,
    failed: calls.length - good.length,
    cached,
    callIds: calls.map((c) => c.id),
    errors,
  };
}

export type OrderPolicy = 'both' | 'random' | 'fixed';

/**
 * Judges a pair under an order policy and maps every order back to "P(b better than a)".
 * `both` (the default everywhere) judges (a, b) and (b, a); `fixed` only (a, b);
 * `random` one of them, chosen by `coin` (seeded by the caller).
 */
export async function judgePair(input: {
  session: JudgeSession;
  provider: Provider;
  judgeId: string;
  settings: PairSettings;
  a: RegisteredImage;
  b: RegisteredImage;
  reference?: RegisteredImage | undefined;
  order: OrderPolicy;
  coin?: () => boolean;
}): Promise<PairResult> {
  const { a, b } = input;
  const results = await Promise.all(
    ordersOf(input).map(([first, second]) => judgeOrder({ ...input, first, second, reference: input.reference })),
  );
  return combineOrders({ path: a.path, sha256: a.sha256 }, { path: b.path, sha256: b.sha256 }, results);
}

/** The orders a pair is judged in under its policy, the image shown first first. */
function ordersOf(input: { a: RegisteredImage; b: RegisteredImage; order: OrderPolicy; coin?: (() => boolean) | undefined }): [RegisteredImage, RegisteredImage][] {
  const { a, b } = input;
  return input.order === 'both' ? [[a, b], [b, a]] : input.order === 'fixed' || !(input.coin?.() ?? false) ? [[a, b]] : [[b, a]];
}

/**
 * The cache keys of every sample `judgePair` asks for with these inputs: batch mode asks
 * whether any of them is still to come from a batch before judging what depends on the
 * pair's verdict (a panel's neurons behind its escalation judge).
 */
export function pairCacheKeys(input: Omit<Parameters<typeof judgePair>[0], 'session'>): string[] {
  return ordersOf(input).flatMap(([first, second]) => orderQuestion({ ...input, first, second }).slots.map((s) => s.cacheKey));
}

/** Maps orders back to (a, b) and decides the pair's verdict. */
export function combineOrders(a: PairResult['a'], b: PairResult['b'], orders: OrderResult[]): PairResult {
  const mapped = orders
    .filter((o) => o.preference !== null)
    .map((o) => ({
      pB: o.second === b.sha256 ? (o.preference as number) : 1 - (o.preference as number),
      verdict: (o.verdict === 'tie' ? 'tie' : (o.verdict === 'second') === (o.second === b.sha256) ? 'b' : 'a') as PairVerdict,
    }));
  if (mapped.length === 0) return { a, b, orders, preference: null, verdict: null, consistent: null, orderGap: null };
  const preference = mean(mapped.map((m) => m.pB));
  if (mapped.length === 1) {
    return { a, b, orders, preference, verdict: (mapped[0] as (typeof mapped)[number]).verdict, consistent: null, orderGap: null };
  }
  const [m1, m2] = mapped as [(typeof mapped)[number], (typeof mapped)[number]];
  const consistent = m1.verdict === m2.verdict;
  return {
    a,
    b,
    orders,
    preference,
    verdict: consistent ? m1.verdict : 'tie',
    consistent,
    orderGap: Math.abs(m1.pB - m2.pB),
  };
}

/** Position-bias figures over judged orders and pairs (reported per judge). */
export function positionBias(pairs: readonly PairResult[]): {
  pairsBothOrders: number;
  swapDisagreementRate: number | null;
  /** Share of decided orders (not ties) won by the image shown first. 0.5 = no slot preference. */
  firstSlotPreference: number | null;
  decidedOrders: number;
} {
  const both = pairs.filter((p) => p.consistent !== null);
  const decided = pairs.flatMap((p) => p.orders).filter((o) => o.verdict === 'first' || o.verdict === 'second');
  return {
    pairsBothOrders: both.length,
    swapDisagreementRate: both.length ? both.filter((p) => p.consistent === false).length / both.length : null,
    firstSlotPreference: decided.length ? decided.filter((o) => o.verdict === 'first').length / decided.length : null,
    decidedOrders: decided.length,
  };
}
