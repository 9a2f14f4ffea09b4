import type * as z from 'zod';
import { sha256, stableStringify } from '../core/hash.js';
import type { ContentPart, ImagePart, Message } from '../core/provider.js';
import { lazySchema } from '../core/zod.js';

/**
 * What a template's answer looks like, which decides how it is requested and parsed:
 * - `sample`: reasoning in `<think>`, one score in `<answer>` (VisualQuality-R1).
 * - `levels`: the next word after a forced prefix, read from log-probabilities (Q-Align).
 * - `report`: a JSON object validated by a zod schema (DepictQA-style description).
 */
export const TEMPLATE_KINDS = ['sample', 'levels', 'report'] as const;
export const TemplateKind = lazySchema((z) => z.enum(TEMPLATE_KINDS));
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

/** The defaults of the optional fields, shared by the schema and `defineBuiltinTemplate`. */
const DEFAULTS = { task: 'single', description: '', system: '', range: [1, 5] } as const;

/** The template fields a user file can set (see docs/prompts.md). */
export const TemplateSpec = lazySchema((z) =>
  z.object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'ids are lowercase letters, digits, ".", "_" and "-"'),
    version: z.number().int().min(1),
    kind: TemplateKind(),
    /**
     * `single`: one image is judged; `pair`: Image B is compared with Image A (levels describe B);
     * `hallucination`: a super-resolved output against its input (`quorum hallucination`, a report template).
     */
    task: z.enum(['single', 'pair', 'hallucination']).default(DEFAULTS.task),
    description: z.string().default(DEFAULTS.description),
    system: z.string().default(DEFAULTS.system),
    /** The user text; images are placed before it. */
    user: z.string().min(1),
    /** Forced start of the answer (levels). */
    prefix: z.string().optional(),
    /** Level words best first, with their weights (levels). */
    levels: z.array(z.string().min(1)).min(2).optional(),
    weights: z.array(z.number()).optional(),
    /** Score range of a sampled answer. @default [1, 5] */
    range: z.tuple([z.number(), z.number()]).default([...DEFAULTS.range]),
  }),
);
export type TemplateSpec = z.input<ReturnType<typeof TemplateSpec>>;
type ParsedSpec = z.infer<ReturnType<typeof TemplateSpec>>;

export interface PromptTemplate extends ParsedSpec {
  /** sha256 of the template's canonical form: recorded with every call and in the cache key. */
  hash: string;
  /** Where it came from: `builtin` or a file path. */
  source: string;
}

/** Validates a template (zod, then the rules across fields) and hashes it. */
export function defineTemplate(spec: TemplateSpec, source = 'builtin'): PromptTemplate {
  return finish(TemplateSpec().parse(spec), source);
}

/**
 * Quorum's own templates (built-in, panel prompts): the schema's defaults applied without
 * zod, so that a run served from the database never loads it. The result is the one
 * `defineTemplate` gives, key order included (test/scoring/templates.test.ts checks every
 * built-in against it); the rules across fields still apply.
 */
export function defineBuiltinTemplate(spec: TemplateSpec): PromptTemplate {
  const parsed: ParsedSpec = {
    id: spec.id,
    version: spec.version,
    kind: spec.kind,
    task: spec.task ?? DEFAULTS.task,
    description: spec.description ?? DEFAULTS.description,
    system: spec.system ?? DEFAULTS.system,
    user: spec.user,
    ...(spec.prefix !== undefined && { prefix: spec.prefix }),
    ...(spec.levels !== undefined && { levels: [...spec.levels] }),
    ...(spec.weights !== undefined && { weights: [...spec.weights] }),
    range: spec.range ? [spec.range[0], spec.range[1]] : [...DEFAULTS.range],
  };
  return finish(parsed, 'builtin');
}

function finish(parsed: ParsedSpec, source: string): PromptTemplate {
  if (parsed.kind === 'levels') {
    if (!parsed.levels || !parsed.prefix) {
      throw new Error(`Template ${parsed.id}: a levels template needs \`prefix\` and \`levels\``);
    }
  }
  if (parsed.task === 'pair' && (!parsed.levels || parsed.kind === 'report')) {
    throw new Error(`Template ${parsed.id}: a pair template is a sample or levels template with \`levels\``);
  }
  if (parsed.task === 'hallucination' && parsed.kind !== 'report') {
    throw new Error(`Template ${parsed.id}: a hallucination template is a report template`);
  }
  if (parsed.levels) {
    if (parsed.weights && parsed.weights.length !== parsed.levels.length) {
      throw new Error(`Template ${parsed.id}: \`weights\` must have one number per level`);
    }
  }
  const { description: _d, ...canonical } = parsed;
  return { ...parsed, hash: sha256(stableStringify(canonical)), source };
}

/** Level weights, best first: given ones, or n..1. */
export function levelWeights(template: PromptTemplate): number[] {
  const levels = template.levels ?? [];
  return template.weights ?? levels.map((_, i) => levels.length - i);
}

/** The text stored for a template in the prompts table (everything that shapes the request). */
export function templateText(template: PromptTemplate): string {
  const { hash: _h, source: _s, ...rest } = template;
  return stableStringify(rest);
}

/**
 * Builds the messages for one image (or several, each labelled): system text, then the
 * image(s), then the user text.
 */
export function renderMessages(
  template: PromptTemplate,
  images: readonly { part: ImagePart; label?: string }[],
): Message[] {
  const content: ContentPart[] = [];
  for (const { part, label } of images) {
    if (label) content.push({ type: 'text', text: `${label}:` });
    content.push(part);
  }
  content.push({ type: 'text', text: template.user });
  const messages: Message[] = [];
  if (template.system) messages.push({ role: 'system', content: template.system });
  messages.push({ role: 'user', content });
  return messages;
}
