import { defineTemplate, type PromptTemplate } from './template.js';

/** VisualQuality-R1: reason, then one score with two decimals. For `--method sample`. */
export const qualityScore = defineTemplate({
  id: 'quality-score',
  version: 1,
  kind: 'sample',
  description: 'Reasoning in <think>, one score from 1 to 5 (two decimals) in <answer> (VisualQuality-R1).',
  system: 'You are an expert in image quality assessment.',
  user: [
    'Rate the overall visual quality of this image on a scale from 1 (bad) to 5 (excellent).',
    'Consider sharpness, noise, exposure, colour, compression artefacts and structural plausibility.',
    'First think about the quality inside <think> </think> tags, then give one number with two decimals',
    'between 1.00 and 5.00 inside <answer> </answer> tags, for example <answer>3.25</answer>.',
  ].join('\n'),
  range: [1, 5],
});

/**
 * Q-Align: the answer starts with a forced prefix and its next word is read as a
 * distribution over five levels. The prefix has NO trailing space: the level token
 * carries its own leading space (" good"), as tokenisers write it.
 */
export const qualityLevels = defineTemplate({
  id: 'quality-levels',
  version: 1,
  kind: 'levels',
  description: 'Forced prefix "The quality of the image is", answer one of five levels (Q-Align).',
  system: 'You are an expert in image quality assessment.',
  user: [
    'Can you evaluate the quality of the image?',
    'Answer with exactly one sentence of the form "The quality of the image is <level>."',
    'where <level> is one of: excellent, good, fair, poor, bad.',
  ].join('\n'),
  prefix: 'The quality of the image is',
  levels: ['excellent', 'good', 'fair', 'poor', 'bad'],
  weights: [5, 4, 3, 2, 1],
});

/** DepictQA-style description: distortions with severity and location, a score, reasoning. */
export const qualityReport = defineTemplate({
  id: 'quality-report',
  version: 1,
  kind: 'report',
  description: 'A JSON assessment: overall score, distortions (severity, location), short reasoning (DepictQA).',
  system: 'You are an expert in image quality assessment. You answer in JSON only.',
  user: [
    'Assess the quality of this image. Identify each visible distortion (for example blur, noise,',
    'compression artefacts, over- or under-exposure, colour cast, aliasing, unnatural texture), how',
    'severe it is (minor, moderate or severe) and where it shows. Then give an overall score from',
    '1 (bad) to 5 (excellent) and a short reasoning.',
    'Answer with a JSON object: {"score": number, "distortions": [{"type": string, "severity":',
    '"minor"|"moderate"|"severe", "location": string}], "reasoning": string}.',
  ].join('\n'),
  range: [1, 5],
});

export const builtinTemplates: readonly PromptTemplate[] = [qualityScore, qualityLevels, qualityReport];
