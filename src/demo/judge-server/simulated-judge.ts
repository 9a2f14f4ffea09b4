/**
 * The simulated judge: a protocol-neutral function from a parsed request (images with
 * their true quality already decided, prompt text, answer-format hints) to answer
 * choices with simulated tokens and log-probabilities. No I/O: the servers decode the
 * images, decide their quality and turn the answer into their wire format.
 *
 * Task, first match wins:
 *   1. structured   a JSON schema / forced tool was asked for (any name; `quality_report`,
 *                   `comparison` by convention), or OpenAI `json_object`
 *                   -> a report object (one image) or a verdict object (a pair); under
 *                   `json_object` the text is that object in a fenced ```json block
 *   2. sample       the prompt contains `<answer>`
 *                   -> `<think>...</think>\n<answer>3.42</answer>` (or a comparative word)
 *   3. levels       logprobs were asked for -> one level word, the level distribution in
 *                   the logprobs (with a prefill: just ` good`; without: a whole sentence)
 *   4. fenced-json  the prompt mentions JSON -> a fenced ```json block with the object of 1.
 *   5. levels       the prompt names at least three of the five level words (no logprobs)
 *   6. text         anything else -> one sentence of prose
 * Subject: two judged images (a third labelled "Reference" is set aside) make a pair,
 * compared as "Image B relative to Image A"; otherwise the first image is judged.
 *
 * Perceived quality is the true quality plus seeded noise, see `JudgeOptions` and
 * `drawKey` for what is deterministic.
 */
import { createHash } from 'node:crypto';
import { hallucinationObject } from './hallucination.js';
import { createRng, normalCdf, type Rng } from './random.js';

/** Absolute-quality levels, best first, and their weights (Q-Align). */
export const LEVELS = ['excellent', 'good', 'fair', 'poor', 'bad'] as const;
export const LEVEL_WEIGHTS = [5, 4, 3, 2, 1] as const;
/** Comparative levels for Image B relative to Image A, worst first, and their weights (Compare2Score). */
export const COMPARATIVE_LEVELS = ['inferior', 'worse', 'similar', 'better', 'superior'] as const;
export const COMPARATIVE_WEIGHTS = [0, 0.25, 0.5, 0.75, 1] as const;

/** How the judge perceives. All noise is seeded; see `drawKey`. */
export interface JudgeOptions {
  /** Server seed, part of every random key. @default 0 */
  seed: number;
  /** Standard deviation of one sampled judgement around the true quality, in quality units. @default 0.25 */
  noiseSd: number;
  /** Quality units added to Image A's perceived quality in comparisons (position bias). @default 0 */
  firstSlotBias: number;
  /** Probability mass the five level tokens (all variants) get in a level slot. @default 0.97 */
  levelCoverage: number;
  /** Width of the Gaussian that spreads level mass around the perceived quality, in quality units. @default 0.6 */
  levelSpread: number;
  /** Sd of the per-prompt perception shift behind log-probabilities, in quality units. @default 0.05 */
  levelJitter: number;
  /** Quality units added to every sampled single-image score: a lenient (+) or harsh (-) judge. @default 0 */
  scoreOffset: number;
  /** Sampled single-image scores are `3 + scoreStretch * (perceived - 3)`: 0.25 keeps them in 2.5-3.5. @default 1 */
  scoreStretch: number;
}

export const DEFAULT_JUDGE_OPTIONS: JudgeOptions = {
  seed: 0,
  noiseSd: 0.25,
  firstSlotBias: 0,
  levelCoverage: 0.97,
  levelSpread: 0.6,
  levelJitter: 0.05,
  scoreOffset: 0,
  scoreStretch: 1,
};

export interface JudgeImage {
  /** sha256 of the encoded bytes as received. */
  sha256: string;
  width: number;
  height: number;
  /** True quality in [1, 5]. */
  quality: number;
  /** Text of the text part right before the image in its message, if any. */
  label?: string | undefined;
  /** Decoded 8-bit RGB (`width` x `height`), for answers that read pixels (hallucination reports). */
  pixels?: Uint8Array | undefined;
}

export type StructuredMode = { type: 'schema'; name: string } | { type: 'json_object' };

export interface JudgeRequest {
  /** Images of the last user message, in order. */
  images: JudgeImage[];
  /** System text and the text of the last user message, joined by newlines. */
  prompt: string;
  /** A final assistant message the answer continues. */
  prefill?: string | undefined;
  structured?: StructuredMode | undefined;
  /** OpenAI `logprobs: true`; `top` is `top_logprobs` (0-20). */
  logprobs?: { top: number } | undefined;
  temperature: number;
  n: number;
  /** The request's own `seed` parameter (OpenAI). */
  seed?: number | undefined;
  /** Generated-token limit; longer answers are cut and finish with `length`. */
  maxTokens?: number | undefined;
}

/** Misbehaviours that still answer HTTP 200 (see `Fault` in server.ts). */
export type ContentFault = 'invalid-json' | 'missing-tags' | 'out-of-range' | 'text';

export type Subject =
  | { kind: 'single'; image: JudgeImage }
  | { kind: 'pair'; a: JudgeImage; b: JudgeImage; reference?: JudgeImage | undefined }
  | { kind: 'none' };

export type TaskKind = 'structured' | 'sample' | 'levels' | 'fenced-json' | 'text';

export interface Task {
  kind: TaskKind;
  subject: Subject;
}

export interface TopToken {
  token: string;
  logprob: number;
}

export interface SimToken {
  token: string;
  logprob: number;
  /** The 20 most likely tokens at this position, most likely first; empty unless logprobs were asked for. */
  top: TopToken[];
}

export interface JudgeChoice {
  /** The generated text (the continuation, when there was a prefill). */
  text: string;
  /** The answer object, for structured tasks that were answered properly and not cut. */
  structured?: Record<string, unknown> | undefined;
  /** `text` as simulated tokens; their count is the choice's output tokens. */
  tokens: SimToken[];
  finish: 'stop' | 'length';
}

export interface JudgeAnswer {
  task: Task;
  choices: JudgeChoice[];
}

export interface JudgeContext {
  /** How many identical requests (same `contentKey`) this server answered before. */
  occurrence: number;
  fault?: ContentFault | undefined;
}

/** Decide what the request asks for (see the header for the rules). */
export function decideTask(request: JudgeRequest): Task {
  const subject = decideSubject(request.images);
  if (request.structured) return { kind: 'structured', subject };
  if (request.prompt.includes('<answer>')) return { kind: 'sample', subject };
  if (request.logprobs) return { kind: 'levels', subject };
  if (/\bjson\b/i.test(request.prompt)) return { kind: 'fenced-json', subject };
  const words: readonly string[] = subject.kind === 'pair' ? COMPARATIVE_LEVELS : LEVELS;
  const named = words.filter((w) => new RegExp(`\\b${w}\\b`, 'i').test(request.prompt)).length;
  if (named >= 3) return { kind: 'levels', subject };
  return { kind: 'text', subject };
}

function decideSubject(images: JudgeImage[]): Subject {
  const reference = images.find((img) => /\breference\b/i.test(img.label ?? ''));
  const judged = images.filter((img) => img !== reference);
  if (judged.length >= 2) {
    const byLabel = (letter: string) => judged.find((img) => new RegExp(`\\bimage\\s+${letter}\\b`, 'i').test(img.label ?? ''));
    const a = byLabel('a') ?? judged[0]!;
    const b = byLabel('b') ?? judged.find((img) => img !== a)!;
    return { kind: 'pair', a, b, reference };
  }
  const image = judged[0] ?? reference;
  return image ? { kind: 'single', image } : { kind: 'none' };
}

/**
 * Identity of a request's content for seeding: images, prompt, prefill and answer format.
 * Two requests with equal keys are "the same question".
 */
export function contentKey(request: JudgeRequest): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        request.images.map((i) => [i.sha256, i.label ?? null]),
        request.prompt,
        request.prefill ?? null,
        request.structured ?? null,
        request.logprobs ? 'logprobs' : null,
      ]),
    )
    .digest('hex');
}

/**
 * The random key of one choice. Deterministic given (server seed, content, draw):
 * at temperature 0 every choice and every repeat is the same greedy draw; otherwise the
 * draw is the request's `seed` parameter when given, else the occurrence number (the k-th
 * identical request gets the same answers in every run), plus the choice index.
 */
export function drawKey(seed: number, content: string, request: JudgeRequest, occurrence: number, choice: number): string {
  if (request.temperature === 0) return `${seed}|${content}|greedy`;
  const draw = request.seed !== undefined ? `seed:${request.seed}` : `occurrence:${occurrence}`;
  return `${seed}|${content}|${draw}|${choice}`;
}

/** Answer a request. Pure: same request, options and context give the same answer. */
export function answer(request: JudgeRequest, options: JudgeOptions, context: JudgeContext): JudgeAnswer {
  const task = decideTask(request);
  const content = contentKey(request);
  // Perception behind log-probabilities is a property of the prompt, not of the draw.
  const perception = createRng(`${options.seed}|${content}|perception`);
  const shift = options.levelJitter * perception.normal();
  const choices: JudgeChoice[] = [];
  for (let c = 0; c < request.n; c++) {
    const rng = createRng(drawKey(options.seed, content, request, context.occurrence, c));
    const generated = generate(task, request, options, rng, shift, context.fault);
    // Top lists cost 20 objects a token: built only when log-probabilities were asked for.
    if (request.logprobs) generated.tokens = generated.tokens.map(withTop);
    choices.push(cut(generated, request.maxTokens));
  }
  return { task, choices };
}

interface Generated {
  text: string;
  structured?: Record<string, unknown> | undefined;
  tokens: SimToken[];
}

function generate(
  task: Task,
  request: JudgeRequest,
  options: JudgeOptions,
  rng: Rng,
  shift: number,
  fault: ContentFault | undefined,
): Generated {
  const { subject } = task;
  if (fault === 'missing-tags') return plain(continuation(request.prefill, 'I think the image is decent.'));
  if (fault === 'invalid-json') return plain(continuation(request.prefill, brokenJson(subject)));
  if (task.kind === 'levels') return levelAnswer(subject, request, options, rng, shift, fault);
  if (fault === 'text') return plain(continuation(request.prefill, prose(subject, perceive(subject, options, rng))));
  const perceived = perceive(subject, options, rng);
  const outOfRange = fault === 'out-of-range';
  switch (task.kind) {
    case 'structured': {
      const object =
        (request.structured?.type === 'schema' && request.structured.name === 'hallucination_report' ? hallucinationObject(request.images) : undefined) ??
        answerObject(subject, perceived, outOfRange);
      // json_object mode answers the fenced block a prompt asking for JSON gets.
      const text = request.structured?.type === 'json_object' ? fenced(object) : JSON.stringify(object);
      return { ...plain(text), structured: object };
    }
    case 'fenced-json': {
      const object = answerObject(subject, perceived, outOfRange);
      return plain(continuation(request.prefill, fenced(object)));
    }
    case 'sample': {
      const value = outOfRange ? (subject.kind === 'pair' ? 'much better' : '7.5') : answerValue(subject, perceived);
      return plain(continuation(request.prefill, `<think>${thinking(subject, perceived)}</think>\n<answer>${value}</answer>`));
    }
    case 'text':
      return plain(continuation(request.prefill, outOfRange ? 'The image quality is 7.5 out of 5.' : prose(subject, perceived)));
  }
}

const fenced = (object: unknown) => `\`\`\`json\n${JSON.stringify(object, null, 2)}\n\`\`\``;

/** Perceived qualities for one draw: true quality + N(0, noiseSd); Image A also gets the slot bias. */
interface Perceived {
  q: number;
  a: number;
  b: number;
}

function perceive(subject: Subject, options: JudgeOptions, rng: Rng): Perceived {
  const draw = (q: number) => q + options.noiseSd * rng.normal();
  if (subject.kind === 'pair') {
    const a = draw(subject.a.quality) + options.firstSlotBias;
    const b = draw(subject.b.quality);
    return { q: b, a, b };
  }
  // A judge's own use of the scale (offset, stretch) applies to what it says of one image.
  const q = subject.kind === 'single' ? 3 + options.scoreOffset + options.scoreStretch * (draw(subject.image.quality) - 3) : 3;
  return { q, a: q, b: q };
}

const clampScore = (q: number) => Math.round(Math.min(5, Math.max(1, q)) * 100) / 100;

/** Comparative word for a perceived difference B - A, thresholds at +-0.25 and +-0.75 quality units. */
export function comparativeWord(difference: number): (typeof COMPARATIVE_LEVELS)[number] {
  if (difference < -0.75) return 'inferior';
  if (difference < -0.25) return 'worse';
  if (difference <= 0.25) return 'similar';
  if (difference <= 0.75) return 'better';
  return 'superior';
}

/** Level word nearest a quality. */
export function levelWord(q: number): (typeof LEVELS)[number] {
  const i = Math.min(4, Math.max(0, Math.round(5 - q)));
  return LEVELS[i]!;
}

function answerValue(subject: Subject, p: Perceived): string {
  return subject.kind === 'pair' ? comparativeWord(p.b - p.a) : clampScore(p.q).toFixed(2);
}

function answerObject(subject: Subject, p: Perceived, outOfRange: boolean): Record<string, unknown> {
  if (subject.kind === 'pair') {
    return {
      verdict: outOfRange ? 'much better' : comparativeWord(p.b - p.a),
      reasoning: `Image A shows ${grain(p.a)} grain; Image B shows ${grain(p.b)} grain.`,
    };
  }
  const score = outOfRange ? 7.5 : clampScore(p.q);
  const distortions =
    p.q >= 4.5
      ? []
      : [
          {
            type: 'noise',
            severity: p.q < 2 ? 'severe' : p.q < 3.2 ? 'moderate' : 'minor',
            location: p.q < 2 ? 'whole image' : 'flat regions',
          },
        ];
  return {
    score,
    distortions,
    reasoning: `The flat regions show ${grain(p.q)} grain and the colour gradient is otherwise clean, so the quality is ${levelWord(p.q)}.`,
  };
}

function grain(q: number): string {
  if (q >= 4.5) return 'no';
  if (q >= 3.5) return 'faint';
  if (q >= 2.5) return 'visible';
  if (q >= 1.5) return 'strong';
  return 'heavy';
}

function thinking(subject: Subject, p: Perceived): string {
  if (subject.kind === 'pair') {
    return `I compared the grain in flat regions. Image A shows ${grain(p.a)} grain, Image B shows ${grain(p.b)} grain, so Image B looks ${comparativeWord(p.b - p.a)} relative to Image A.`;
  }
  return `I measured the grain in flat regions and the sharpness of edges. There is ${grain(p.q)} grain, so the quality is ${levelWord(p.q)}.`;
}

function prose(subject: Subject, p: Perceived): string {
  if (subject.kind === 'none') return 'I do not see an image in your message.';
  if (subject.kind === 'pair') return `Image A shows ${grain(p.a)} grain and Image B shows ${grain(p.b)} grain.`;
  return `This image shows a smooth colour gradient with ${grain(p.q)} grain.`;
}

function brokenJson(subject: Subject): string {
  return subject.kind === 'pair' ? '{"verdict": "better", "reasoning": "Image B has' : '{"score": 3.4, "distortions": [{"type": "noise", "severity": ';
}

/** The generated part of `full` given a prefill: the rest of it when it starts with the prefill. */
function continuation(prefill: string | undefined, full: string): string {
  if (prefill === undefined || prefill === '') return full;
  const trimmed = prefill.trimEnd();
  if (trimmed !== '' && full.startsWith(trimmed)) {
    const rest = full.slice(trimmed.length);
    // The prefill's own trailing whitespace already stands for the rest's leading one.
    return prefill === trimmed ? rest : rest.replace(/^[ \t]+/, '');
  }
  return /\s$/.test(prefill) ? full : ` ${full}`;
}

// --- Tokens and log-probabilities -------------------------------------------------------

/** Split text into simulated tokens: words with their leading space, single digits, punctuation. */
export function tokenize(text: string): string[] {
  return text.match(/ ?[A-Za-z]+| ?\d| ?[^\sA-Za-z\d]|\s+/g) ?? [];
}

/** Unlikely tokens that fill a top-20 list after the likely ones. */
const PADDING = ['\n', ' the', ' a', ',', '.', ' and', ' of', ' to', ' in', ' it', ' that', ' with', ' for', ' on', ' as', ' this', ' be', ' at', ' so', ' but', ' not'];

/** Append unlikely padding tokens (p = 1e-5 down to ~1e-7) until `top` holds 20 entries; most likely first. */
function pad(top: TopToken[]): TopToken[] {
  const seen = new Set(top.map((t) => t.token));
  const out = [...top];
  for (const token of PADDING) {
    if (out.length >= 20) break;
    if (!seen.has(token)) out.push({ token, logprob: Math.log(1e-5) - 0.25 * (out.length - top.length) });
  }
  return out.sort((x, y) => y.logprob - x.logprob);
}

/** A token the judge was sure of: p = 0.999. Its top list is filled in by `withTop` when asked for. */
function sure(token: string): SimToken {
  return { token, logprob: Math.log(0.999), top: [] };
}

function withTop(t: SimToken): SimToken {
  if (t.top.length > 0) return t;
  return { ...t, top: pad([{ token: t.token, logprob: t.logprob }, { token: t.token === '\n' ? ' ' : '\n', logprob: Math.log(0.0008) }]) };
}

function plain(text: string): Generated {
  return { text, tokens: tokenize(text).map(sure) };
}

function cut(generated: Generated, maxTokens: number | undefined): JudgeChoice {
  if (maxTokens === undefined || generated.tokens.length <= maxTokens) return { ...generated, finish: 'stop' };
  const tokens = generated.tokens.slice(0, maxTokens);
  return { text: tokens.map((t) => t.token).join(''), tokens, finish: 'length' };
}

/**
 * Probabilities of the five levels (in the order of `weights`) around `center`:
 * p_i ∝ exp(-(w_i - center)^2 / (2 spread^2)), summing to 1.
 * @example
 * levelProbabilities(4, LEVEL_WEIGHTS, 0.6); // => [0.2, 0.57, 0.2, 0.01, 0]  (rounded)
 */
export function levelProbabilities(center: number, weights: readonly number[], spread: number): number[] {
  const raw = weights.map((w) => Math.exp(-((w - center) ** 2) / (2 * spread ** 2)));
  const total = raw.reduce((s, x) => s + x, 0);
  return raw.map((x) => x / total);
}

/**
 * The level distribution the judge has for a subject: absolute levels around the
 * perceived quality (one image), comparative levels around P(B better) =
 * Phi((qB - qA - firstSlotBias) / (sqrt(2) noiseSd)) (a pair; spread / 4 on the 0..1 scale).
 * Returns words and probabilities over the five levels only.
 */
export function levelDistribution(subject: Subject, options: JudgeOptions, shift = 0): { words: readonly string[]; probs: number[] } {
  if (subject.kind === 'pair') {
    const sd = Math.max(1e-6, Math.SQRT2 * options.noiseSd);
    const preference = normalCdf((subject.b.quality - subject.a.quality - options.firstSlotBias + shift) / sd);
    return { words: COMPARATIVE_LEVELS, probs: levelProbabilities(preference, COMPARATIVE_WEIGHTS, options.levelSpread / 4) };
  }
  const q = subject.kind === 'single' ? subject.image.quality : 3;
  return { words: LEVELS, probs: levelProbabilities(q + shift, LEVEL_WEIGHTS, options.levelSpread) };
}

/** Share of one level's mass on each spelling: the main one, the other spacing, capitalised. */
const VARIANT_SHARES = [0.9, 0.06, 0.04] as const;

function levelAnswer(
  subject: Subject,
  request: JudgeRequest,
  options: JudgeOptions,
  rng: Rng,
  shift: number,
  fault: ContentFault | undefined,
): Generated {
  const { words, probs } = levelDistribution(subject, options, shift);
  // After a prefill that ends in a space the level word comes without one (token boundaries).
  const spaced = !(request.prefill !== undefined && /\s$/.test(request.prefill));
  const sp = spaced ? ' ' : '';
  const capital = (w: string) => w[0]!.toUpperCase() + w.slice(1);
  const off = fault === 'text' || fault === 'out-of-range';
  const coverage = off ? 0.05 : Math.min(1, Math.max(0, options.levelCoverage));
  const slot: TopToken[] = [];
  words.forEach((w, i) => {
    const p = probs[i]! * coverage;
    slot.push({ token: sp + w, logprob: Math.log(p * VARIANT_SHARES[0]) });
    slot.push({ token: (spaced ? '' : ' ') + w, logprob: Math.log(p * VARIANT_SHARES[1]) });
    slot.push({ token: sp + capital(w), logprob: Math.log(p * VARIANT_SHARES[2]) });
  });
  const rest = 1 - coverage;
  const fillers: Array<[string, number]> =
    fault === 'out-of-range'
      ? [[`${sp}7`, 0.6], [`${sp}8`, 0.25], [`${sp}10`, 0.15]]
      : fault === 'text'
        ? [[`${sp}nice`, 0.5], [`${sp}decent`, 0.3], [`${sp}a`, 0.2]]
        : subject.kind === 'pair'
          ? [[`${sp}slightly`, 0.6], [`${sp}much`, 0.4]]
          : [[`${sp}very`, 0.6], [`${sp}of`, 0.4]];
  if (rest > 0) for (const [token, share] of fillers) slot.push({ token, logprob: Math.log(rest * share) });
  slot.sort((x, y) => y.logprob - x.logprob);
  const top = pad(slot.filter((t) => Number.isFinite(t.logprob)).slice(0, 20));

  const chosen = request.temperature === 0 ? top[0]! : sampleToken(slot, rng);
  const tokens: SimToken[] = [{ token: chosen.token, logprob: chosen.logprob, top }];
  // A filler word ("very", "slightly") is followed by the most likely level word.
  if (!words.some((w) => chosen.token.trim().toLowerCase() === w) && !off) {
    const best = words[probs.indexOf(Math.max(...probs))]!;
    const levels = words.map((w, i) => ({ token: ` ${w}`, logprob: Math.log(probs[i]!) }));
    levels.sort((x, y) => y.logprob - x.logprob);
    tokens.push({ token: ` ${best}`, logprob: Math.log(Math.max(...probs)), top: pad(levels.filter((t) => Number.isFinite(t.logprob))) });
  }
  if (request.prefill !== undefined) return { text: tokens.map((t) => t.token).join(''), tokens };
  const lead = tokenize(subject.kind === 'pair' ? 'Compared with Image A, Image B is' : 'The quality of the image is').map(sure);
  // Without a prefill the sentence is generated whole; level words then carry a leading space.
  const all = [...lead, ...tokens, sure('.')];
  return { text: all.map((t) => t.token).join(''), tokens: all };
}

function sampleToken(slot: TopToken[], rng: Rng): TopToken {
  let u = rng.next();
  for (const t of slot) {
    u -= Math.exp(t.logprob);
    if (u <= 0) return t;
  }
  return slot[0]!;
}
