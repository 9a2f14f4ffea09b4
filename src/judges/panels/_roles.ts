/**
 * Roles generated per item: one call to a named judge that sees the image and answers
 * `{"roles": [...]}` (provider structured output where available, zod always). The call
 * is stored and cached like any review; it is asked once, without a re-ask, and when it
 * fails or does not parse the panel's fixed list stands in (said in the item's errors).
 */
import type { CompletionRequest, ImagePart, ResponseSchema } from '../../core/provider.js';
import { err, ok } from '../../core/result.js';
import { lazySchema } from '../../core/zod.js';
import { parseJsonAnswer } from '../../prompts/answers.js';
import { renderMessages, type PromptTemplate } from '../../prompts/template.js';
import type { CallGroup } from '../session/session.js';

/** The answer: short distinct phrases; more than asked are cut, fewer are an error. */
export const GeneratedRoles = lazySchema((z) => z.object({ roles: z.array(z.string().trim().min(1).max(80)).min(1) }));

const rolesSchema: ResponseSchema = {
  name: 'panel_roles',
  description: 'Angles from which a panel judges the image.',
  schema: {
    type: 'object',
    properties: { roles: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 80 }, minItems: 1 } },
    required: ['roles'],
    additionalProperties: false,
  },
};

/** Stored parameters of a roles call (part of its cache key). */
export const rolesParams = (count: number): Record<string, unknown> => ({ method: 'roles', count, temperature: 0, maxTokens: 512 });

/** The request and parser of one roles call; `count` distinct roles are needed. */
export function rolesSpec(template: PromptTemplate, count: number, image: ImagePart): Pick<CallGroup, 'request' | 'parse' | 'reask'> {
  const request: CompletionRequest = { messages: renderMessages(template, [{ part: image }]), temperature: 0, maxTokens: 512, responseSchema: rolesSchema };
  return {
    request,
    reask: false,
    parse: (choice) => {
      const r = parseJsonAnswer(choice, GeneratedRoles());
      if (!r.ok) return r;
      const distinct = [...new Set(r.value.value.roles.map((s) => s.replace(/\s+/g, ' ')))];
      if (distinct.length < count) return err(`Expected ${count} distinct roles, got ${distinct.length}`);
      return ok({ roles: distinct.slice(0, count), extraction: r.value.extraction });
    },
  };
}
