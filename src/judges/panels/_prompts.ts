/**
 * The prompts a panel's neurons get: the VisualQuality-R1 sample template seen from one
 * angle (layer 1), and the same with the earlier reviews a neuron may see (layers 2+).
 */
import { qualityScore } from '../../prompts/builtin.js';
import { defineBuiltinTemplate, type PromptTemplate } from '../../prompts/template.js';

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
  return defineBuiltinTemplate({
    id: layer === 1 ? 'panel-neuron' : 'panel-neuron-revisit',
    version: 1,
    kind: 'sample',
    description: 'A panel neuron: quality-score from one angle (WideDeep).',
    system: qualityScore.system,
    user: parts.join('\n'),
    range: [1, 5],
  });
}

/**
 * `fusion: meta`: one judge reads every last-layer review of the image (and sees the
 * image) and writes the verdict with its reasons, as the JSON quality report
 * (`quality-report`'s shape, zod-checked: score 1-5, distortions, reasoning).
 */
export function metaTemplate(reviews: readonly ShownReview[], failed: readonly string[]): PromptTemplate {
  return defineBuiltinTemplate({
    id: 'panel-meta',
    version: 1,
    kind: 'report',
    description: 'A panel chair: reads every neuron review of the image and writes the final verdict with reasons.',
    system: 'You are the chair of a panel of image quality judges. You answer in JSON only.',
    user: [
      'A panel of judges reviewed this image, each from one angle, on a scale from 1 (bad) to 5 (excellent).',
      'Their reviews:',
      ...(reviews.length ? reviews.map(line) : ['- (none usable)']),
      ...(failed.length ? ['Members who gave no usable review:', ...failed.map((f) => `- ${f}`)] : []),
      'Weigh the reviews against what you see in the image: a member may be harsh, lenient or wrong.',
      'Write the panel\'s final verdict: an overall score from 1 to 5, the distortions that matter',
      '(type, severity minor|moderate|severe, location) and a short reasoning that says which reviews you followed and why.',
      'Answer with a JSON object: {"score": number, "distortions": [{"type": string, "severity":',
      '"minor"|"moderate"|"severe", "location": string}], "reasoning": string}.',
    ].join('\n'),
    range: [1, 5],
  });
}

/** Roles generated per item: the judge sees the image and proposes `count` angles (JSON). */
export function rolesTemplate(count: number): PromptTemplate {
  return defineBuiltinTemplate({
    id: 'panel-roles',
    version: 1,
    kind: 'report',
    description: 'Proposes the angles from which a panel should judge this image.',
    system: 'You are an expert in image quality assessment. You answer in JSON only.',
    user: [
      `A panel of ${count} judges will assess the quality of this image, each from one angle.`,
      `Propose ${count} distinct angles that matter most for this particular image (for example`,
      '"sharpness of the foreground", "noise in the shadows", "skin tones", "compression artefacts in the sky").',
      'Each angle is a short phrase of at most 8 words.',
      'Answer with a JSON object: {"roles": [string, ...]}.',
    ].join('\n'),
  });
}

/** `template` with a neuron's angle stated first (`ask` says what to judge from it); its own question and answer format unchanged. */
function fromOneAngle(template: PromptTemplate, ask: string, role: string): PromptTemplate {
  const { hash: _h, source: _s, ...spec } = template;
  return defineBuiltinTemplate({
    ...spec,
    id: `${template.id}-panel`,
    description: `A panel neuron: ${template.id} from one angle (WideDeep).`,
    user: `You are one member of a panel of judges. ${ask} from one angle above all: ${role}.\n${template.user}`,
  });
}

/** A pair template seen from one angle: the neuron's role first, the template's own question after (answer format unchanged). */
export function neuronPairTemplate(template: PromptTemplate, role: string): PromptTemplate {
  return fromOneAngle(template, 'Compare the images', role);
}

/** A hallucination template seen from one angle: the neuron looks for invented detail with its role first (answer format unchanged). */
export function neuronHallucinationTemplate(template: PromptTemplate, role: string): PromptTemplate {
  return fromOneAngle(template, 'Look for detail the output invents', role);
}
