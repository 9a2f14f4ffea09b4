/**
 * The prompts a panel's neurons get: the VisualQuality-R1 sample template seen from one
 * angle (layer 1), and the same with the earlier reviews a neuron may see (layers 2+).
 */
import { qualityScore } from '../../prompts/builtin.js';
import { defineTemplate, type PromptTemplate } from '../../prompts/template.js';

/** One earlier review as a later layer reads it. */
export interface ShownReview {
  neuron: number;
  role: string;
  score: number;
  reasoning: string | null;
}

const line = (r: ShownReview): string =>
  `- neuron ${r.neuron + 1} (${r.role}): ${r.score.toFixed(2)}${r.reasoning ? ` (${r.reasoning.replace(/\s+/g, ' ').trim()})` : ''}`;

/**
 * Layer 1: the quality-score prompt with the neuron's angle first. Layers 2+: also the
 * neuron's own earlier review and its neighbours', each on one line.
 */
export function neuronTemplate(role: string, layer = 1, own?: ShownReview, neighbours: readonly ShownReview[] = []): PromptTemplate {
  const parts = [`You are one member of a panel of judges. Judge this image from one angle above all: ${role}.`, qualityScore.user];
  if (layer > 1) {
    parts.push(
      '',
      `This is round ${layer}. Your earlier review:`,
      own ? line(own) : '- (you gave no usable review)',
      'Reviews by other panel members:',
      ...(neighbours.length ? neighbours.map(line) : ['- (none usable)']),
      'Reconsider your score in their light; keep your own angle.',
    );
  }
  return defineTemplate({
    id: layer === 1 ? 'panel-neuron' : 'panel-neuron-revisit',
    version: 1,
    kind: 'sample',
    description: 'A panel neuron: quality-score from one angle (WideDeep).',
    system: qualityScore.system,
    user: parts.join('\n'),
    range: [1, 5],
  });
}
