/**
 * The hallucination judge's answer: zod at the edge, and the same shape as a JSON schema
 * for providers' structured-output modes (OpenAI strict json_schema, Anthropic forced
 * tool, llama grammar). Written out rather than generated, as `qualityReportSchema` is,
 * so it stays inside what strict modes and grammars accept.
 */
import type * as z from 'zod';
import type { ResponseSchema } from '../core/provider.js';
import { lazySchema } from '../core/zod.js';

export const ELEMENT_KINDS = ['texture', 'text', 'face', 'object', 'structure', 'colour'] as const;
export const ElementKind = lazySchema((z) => z.enum(ELEMENT_KINDS));
export type ElementKind = (typeof ELEMENT_KINDS)[number];

export const SEVERITIES = ['minor', 'moderate', 'severe'] as const;
export const ElementSeverity = lazySchema((z) => z.enum(SEVERITIES));
export type ElementSeverity = (typeof SEVERITIES)[number];

/** A box in pixels, corners as given (normalised later: ordered, clipped to the image). */
export const Box = lazySchema((z) => z.object({ x0: z.number(), y0: z.number(), x1: z.number(), y1: z.number() }));
export type Box = z.infer<ReturnType<typeof Box>>;

/** The answer's schema (built on first use). */
export const HallucinationAnswer = lazySchema((z) =>
  z.object({
    /** 0 none, 1 slight, 2 moderate, 3 strong, 4 severe (anchors in the prompt and docs/hallucination.md). */
    score: z.number().int().min(0).max(4),
    elements: z.array(z.object({ kind: ElementKind(), severity: ElementSeverity(), box: Box() })),
    reasoning: z.string(),
  }),
);
export type HallucinationAnswer = z.infer<ReturnType<typeof HallucinationAnswer>>;

const coordinate = { type: 'number', minimum: 0 };

export const hallucinationSchema: ResponseSchema = {
  name: 'hallucination_report',
  description: 'Hallucinated elements of a super-resolution output and a 0-4 hallucination score.',
  schema: {
    type: 'object',
    properties: {
      score: { type: 'integer', minimum: 0, maximum: 4, description: '0 none, 1 slight, 2 moderate, 3 strong, 4 severe.' },
      elements: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            kind: { type: 'string', enum: [...ELEMENT_KINDS] },
            severity: { type: 'string', enum: [...SEVERITIES] },
            box: {
              type: 'object',
              properties: { x0: coordinate, y0: coordinate, x1: coordinate, y1: coordinate },
              required: ['x0', 'y0', 'x1', 'y1'],
              additionalProperties: false,
            },
          },
          required: ['kind', 'severity', 'box'],
          additionalProperties: false,
        },
      },
      reasoning: { type: 'string', maxLength: 600 },
    },
    required: ['score', 'elements', 'reasoning'],
    additionalProperties: false,
  },
};
