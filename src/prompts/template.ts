import * as z from 'zod';
import { sha256, stableStringify } from '../core/hash.js';
import type { ContentPart, ImagePart, Message } from '../core/provider.js';

/**
 * What a template's answer looks like, which decides how it is requested and parsed:
 * - `sample`: reasoning in `<think>`, one score in `<answer>` (VisualQuality-R1).
 * - `levels`: the next word after a forced prefix, read from log-probabilities (Q-Align).
 * - `report`: a JSON object validated by a zod schema (DepictQA-style description).
 */
export const TemplateKind = z.enum(['sample', 'levels', 'report']);
export type TemplateKind = z.infer<typeof TemplateKind>;

/** The template fields a user file can set (see docs/prompts.md). */
export const TemplateSpec = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'ids are lowercase letters, digits, ".", "_" and "-"'),
  version: z.number().int().min(1),
  kind: TemplateKind,
  /**
   * `single`: one image is judged; `pair`: Image B is compared with Image A (levels describe B);
   * `hallucination`: a super-resolved output against its input (`quorum hallucination`, a report template).
   */
  task: z.enum(['single', 'pair', 'hallucination']).default('single'),
  description: z.string().default(''),
  system: z.string().default(''),
  /** The user text; images are placed before it. */
  user: z.string().min(1),
  /** Forced start of the answer (levels). */
  prefix: z.string().optional(),
  /** Level words best first, with their weights (levels). */
  levels: z.array(z.string().min(1)).min(2).optional(),
  weights: z.array(z.number()).optional(),
  /** Score range of a sampled answer. @default [1, 5] */
  range: z.tuple([z.number(), z.number()]).default([1, 5]),
});
export type TemplateSpec = z.input<typeof TemplateSpec>;

export interface PromptTemplate extends z.infer<typeof TemplateSpec> {
  /** sha256 of the template's canonical form: recorded with every call and in the cache key. */
  hash: string;
  /** Where it came from: `builtin` or a file path. */
  source: string;
}

export function defineTemplate(spec: TemplateSpec, source = 'builtin'): PromptTemplate {
  const parsed = TemplateSpec.parse(spec);
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
