import type * as z from 'zod';
import type { Choice, ResponseSchema, TokenLogprob } from '../core/provider.js';
import { err, ok, type Result } from '../core/result.js';
import { lazySchema } from '../core/zod.js';
import type { PromptTemplate } from './template.js';

/**
 * Answer parsing, strict first, then lenient. Every parser returns a Result: an answer
 * that does not parse is data (recorded with its raw text), never a guessed score.
 */

export interface SampleAnswer {
  score: number;
  reasoning: string;
  /** How the score was found: the `<answer>` tag as asked, or a lenient fallback. */
  extraction: 'strict' | 'lenient';
}

const NUMBER = /[-+]?\d+(?:\.\d+)?/;

function lastTagged(text: string, tag: string): string | undefined {
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'gi');
  let last: string | undefined;
  for (const m of text.matchAll(re)) last = m[1];
  return last;
}

function inRange(score: number, range: readonly [number, number]): Result<number, string> {
  if (!Number.isFinite(score)) return err(`score \`${score}\` is not a finite number`);
  if (score < range[0] || score > range[1]) return err(`score ${score} is outside ${range[0]}..${range[1]}`);
  return ok(score);
}

/**
 * VisualQuality-R1 answers: the LAST `<answer>` block, first number in it. Lenient: an
 * unclosed final `<answer>`, or a JSON object with a numeric `score`.
 */
export function parseSampleAnswer(raw: string, range: readonly [number, number] = [1, 5]): Result<SampleAnswer, string> {
  const reasoning = (lastTagged(raw, 'think') ?? '').trim();
  const tagged = lastTagged(raw, 'answer');
  if (tagged !== undefined) {
    const m = NUMBER.exec(tagged);
    if (!m) return err(`<answer> holds no number: \`${tagged.trim().slice(0, 60)}\``);
    const r = inRange(Number(m[0]), range);
    return r.ok ? ok({ score: r.value, reasoning, extraction: 'strict' }) : r;
  }
  const open = /<answer>\s*([-+]?\d+(?:\.\d+)?)\s*$/i.exec(raw.trim());
  if (open) {
    const r = inRange(Number(open[1]), range);
    return r.ok ? ok({ score: r.value, reasoning, extraction: 'lenient' }) : r;
  }
  const json = extractJson(raw);
  if (json.ok && json.value !== null && typeof json.value === 'object' && 'score' in json.value) {
    const score = Number((json.value as { score: unknown }).score);
    const r = inRange(score, range);
    const why = (json.value as { reasoning?: unknown }).reasoning;
    return r.ok ? ok({ score: r.value, reasoning: typeof why === 'string' ? why : reasoning, extraction: 'lenient' }) : r;
  }
  return err('no <answer>...</answer> block with a score was found');
}

export interface WordAnswer {
  /** Index of the level word in the template's list (best first). */
  level: number;
  word: string;
  reasoning: string;
}

/** A sampled comparative answer: the LAST `<answer>` block must hold one of the level words. */
export function parseWordAnswer(raw: string, levels: readonly string[]): Result<WordAnswer, string> {
  const reasoning = (lastTagged(raw, 'think') ?? '').trim();
  const tagged = lastTagged(raw, 'answer');
  if (tagged === undefined) return err('no <answer>...</answer> block was found');
  // The whole answer must be one level word (case and trailing punctuation ignored):
  // "much better" is not on the scale, and guessing which level it meant would be a guess.
  const word = tagged.trim();
  const level = /\s/.test(word) ? -1 : levels.findIndex((l) => l.toLowerCase() === word.toLowerCase().replace(/[.,!:;"']+$/, ''));
  if (level >= 0) return ok({ level, word: levels[level] as string, reasoning });
  return err(`<answer> holds \`${tagged.trim().slice(0, 40)}\`, not one of ${levels.join(', ')}`);
}

// ---- structured reports ---------------------------------------------------------------

export const Severity = lazySchema((z) => z.enum(['minor', 'moderate', 'severe']));

/** The report method's answer (`QualityReport()` is the zod schema, built on first use). */
export const QualityReport = lazySchema((z) =>
  z.object({
    score: z.number().min(1).max(5),
    distortions: z.array(
      z.object({
        type: z.string().min(1),
        severity: Severity(),
        location: z.string(),
      }),
    ),
    reasoning: z.string(),
  }),
);
export type QualityReport = z.infer<ReturnType<typeof QualityReport>>;

/**
 * The same shape as a JSON schema for providers' structured-output modes. Written out
 * rather than generated so it stays within what OpenAI's strict mode and grammar engines
 * accept; the bounds let a local model's grammar keep the score in range, and zod checks
 * everything again after.
 */
export const qualityReportSchema: ResponseSchema = {
  name: 'quality_report',
  description: 'An image quality assessment.',
  schema: {
    type: 'object',
    properties: {
      score: { type: 'number', minimum: 1, maximum: 5, description: 'Overall quality from 1 (bad) to 5 (excellent).' },
      distortions: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            type: { type: 'string', minLength: 1, maxLength: 40 },
            severity: { type: 'string', enum: ['minor', 'moderate', 'severe'] },
            location: { type: 'string', maxLength: 80 },
          },
          required: ['type', 'severity', 'location'],
          additionalProperties: false,
        },
      },
      reasoning: { type: 'string', maxLength: 600 },
    },
    required: ['score', 'distortions', 'reasoning'],
    additionalProperties: false,
  },
};

/** First JSON value in a text: the whole text, a fenced ```json block, or the first balanced `{...}`. */
export function extractJson(text: string): Result<unknown, string> {
  const attempts: string[] = [text.trim()];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  if (fenced?.[1]) attempts.push(fenced[1].trim());
  const start = text.indexOf('{');
  if (start >= 0) {
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) {
        attempts.push(text.slice(start, i + 1));
        break;
      }
    }
  }
  let firstError = 'no JSON object found';
  for (const candidate of attempts) {
    try {
      return ok(JSON.parse(candidate) as unknown);
    } catch (e) {
      if (candidate === attempts[0]) firstError = `invalid JSON: ${(e as Error).message}`;
    }
  }
  return err(firstError);
}

function zodMessage(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : 'answer'}: ${i.message}`)
    .join('; ');
}

/**
 * Structured answers: the provider's structured object (tool input) or the whole text as
 * JSON is strict; a fenced or embedded JSON object is lenient. Validated by `schema` always.
 */
export function parseJsonAnswer<T>(
  choice: Pick<Choice, 'text' | 'structured'>,
  schema: z.ZodType<T>,
): Result<{ value: T; extraction: 'strict' | 'lenient' }, string> {
  if (choice.structured !== undefined) {
    const r = schema.safeParse(choice.structured);
    return r.success ? ok({ value: r.data, extraction: 'strict' }) : err(zodMessage(r.error));
  }
  let strict: unknown;
  let strictOk = false;
  try {
    strict = JSON.parse(choice.text.trim());
    strictOk = true;
  } catch {
    // fall through to lenient extraction
  }
  if (strictOk) {
    const r = schema.safeParse(strict);
    return r.success ? ok({ value: r.data, extraction: 'strict' }) : err(zodMessage(r.error));
  }
  const json = extractJson(choice.text);
  if (!json.ok) return json;
  const r = schema.safeParse(json.value);
  return r.success ? ok({ value: r.data, extraction: 'lenient' }) : err(zodMessage(r.error));
}

// ---- level distributions ----------------------------------------------------------------

export interface LevelDistribution {
  /** Probabilities renormalised over the levels, in the template's order (best first). */
  probabilities: number[];
  /** Probability mass the level words (all case/space variants) had before renormalising. */
  coverage: number;
  /** The token position the levels were read at (generated tokens), or -1 for candidate probabilities. */
  position: number;
}

/** Maps a token to a level index: case and leading space ignored; a unique prefix of 2+ letters counts. */
export function levelOfToken(token: string, levels: readonly string[]): number {
  const t = token.trim().toLowerCase().replace(/[.,!:;"']+$/, '');
  if (!t) return -1;
  const exact = levels.findIndex((l) => l.toLowerCase() === t);
  if (exact >= 0) return exact;
  if (t.length < 2) return -1;
  const prefixed = levels.map((l, i) => (l.toLowerCase().startsWith(t) ? i : -1)).filter((i) => i >= 0);
  return prefixed.length === 1 ? (prefixed[0] as number) : -1;
}

function fromMasses(masses: number[], position: number): Result<LevelDistribution, string> {
  const coverage = masses.reduce((a, b) => a + b, 0);
  if (!(coverage > 0)) return err('none of the level words appeared among the returned log-probabilities');
  return ok({ probabilities: masses.map((m) => m / coverage), coverage, position });
}

/**
 * Reads the level distribution from generated-token log-probabilities. The level token is
 * the first non-empty token when the prefix was prefilled; otherwise the token right after
 * the judge wrote the prefix itself. Variants (`Good`, ` good`) are merged before
 * renormalising; the mass they covered is reported, not hidden.
 */
export function levelsFromLogprobs(
  logprobs: readonly TokenLogprob[],
  template: Pick<PromptTemplate, 'levels' | 'prefix'>,
  prefilled: boolean,
): Result<LevelDistribution, string> {
  const levels = template.levels ?? [];
  let position = -1;
  if (prefilled) {
    position = logprobs.findIndex((t) => t.token.trim() !== '');
  } else {
    const prefix = (template.prefix ?? '').trim().toLowerCase().replace(/\s+/g, ' ');
    let text = '';
    for (let i = 0; i < logprobs.length; i++) {
      text += (logprobs[i] as TokenLogprob).token;
      if (text.toLowerCase().replace(/\s+/g, ' ').trimEnd().endsWith(prefix)) {
        position = i + 1;
        break;
      }
    }
    if (position < 0) return err(`the answer did not contain the prefix "${template.prefix ?? ''}"`);
    while (position < logprobs.length && (logprobs[position] as TokenLogprob).token.trim() === '') position++;
  }
  const at = logprobs[position];
  if (!at) return err('the answer ended before a level word');
  const masses = levels.map(() => 0);
  const seen = new Set<string>();
  const candidates = at.top.length > 0 ? at.top : [{ token: at.token, logprob: at.logprob }];
  for (const { token, logprob } of candidates) {
    if (seen.has(token)) continue;
    seen.add(token);
    const level = levelOfToken(token, levels);
    if (level >= 0) masses[level] = (masses[level] as number) + Math.exp(logprob);
  }
  return fromMasses(masses, position);
}

/** Level distribution from exact candidate probabilities (local engines), variants merged. */
export function levelsFromCandidates(
  candidates: Record<string, number>,
  levels: readonly string[],
): Result<LevelDistribution, string> {
  const masses = levels.map(() => 0);
  for (const [token, p] of Object.entries(candidates)) {
    const level = levelOfToken(token, levels);
    if (level >= 0) masses[level] = (masses[level] as number) + p;
  }
  return fromMasses(masses, -1);
}

/** Variants of each level word a tokeniser may produce as the next token. */
export function levelVariants(levels: readonly string[]): string[] {
  const out = new Set<string>();
  for (const l of levels) {
    const cap = l.charAt(0).toUpperCase() + l.slice(1);
    for (const w of [l, cap]) {
      out.add(w);
      out.add(` ${w}`);
    }
  }
  return [...out];
}
