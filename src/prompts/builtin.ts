import { defineBuiltinTemplate, type PromptTemplate } from './template.js';

/** VisualQuality-R1: reason, then one score with two decimals. For `--method sample`. */
export const qualityScore = defineBuiltinTemplate({
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
export const qualityLevels = defineBuiltinTemplate({
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
export const qualityReport = defineBuiltinTemplate({
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

const COMPARATIVE = ['superior', 'better', 'similar', 'worse', 'inferior'];
/** P(Image B is better than Image A) for each comparative level (Compare2Score's weights). */
const COMPARATIVE_WEIGHTS = [1, 0.75, 0.5, 0.25, 0];
const COMPARE_SCALE = [
  'superior: Image B is much better than Image A;',
  'better: Image B is better than Image A;',
  'similar: they are about equally good;',
  'worse: Image B is worse than Image A;',
  'inferior: Image B is much worse than Image A.',
].join('\n');

/**
 * Pairwise comparison, one call: the word after "Compared with Image A, Image B is" is read
 * as a distribution over five comparative levels; its expectation is P(B better than A).
 */
export const compareLevels = defineBuiltinTemplate({
  id: 'compare-levels',
  version: 1,
  kind: 'levels',
  task: 'pair',
  description: 'Image B relative to Image A in five levels, read from log-probabilities (Compare2Score / Q-Align).',
  system: 'You are an expert in image quality assessment.',
  user: [
    'Compare the visual quality of Image B with that of Image A (sharpness, noise, artefacts, colour, plausibility).',
    'When a Reference Image is shown, judge which of A and B is the more faithful, higher-quality version of it.',
    'Answer with exactly one sentence of the form "Compared with Image A, Image B is <level>." where <level> is one of:',
    COMPARE_SCALE,
  ].join('\n'),
  prefix: 'Compared with Image A, Image B is',
  levels: COMPARATIVE,
  weights: COMPARATIVE_WEIGHTS,
});

/** Pairwise comparison by sampled, reasoned verdicts (one comparative word each). */
export const compareSample = defineBuiltinTemplate({
  id: 'compare-sample',
  version: 1,
  kind: 'sample',
  task: 'pair',
  description: 'Image B relative to Image A: reasoning in <think>, one comparative word in <answer>.',
  system: 'You are an expert in image quality assessment.',
  user: [
    'Compare the visual quality of Image B with that of Image A (sharpness, noise, artefacts, colour, plausibility).',
    'When a Reference Image is shown, judge which of A and B is the more faithful, higher-quality version of it.',
    'First think inside <think> </think> tags, with a short reason, then give one word inside <answer> </answer> tags:',
    COMPARE_SCALE,
  ].join('\n'),
  levels: COMPARATIVE,
  weights: COMPARATIVE_WEIGHTS,
});

/**
 * Hallucination in super-resolution (`quorum hallucination`): the judge sees the LR input
 * upscaled with plain bicubic, the SR output and, when given, the ground truth; it lists
 * invented elements with boxes and rates the output 0-4 (anchors in docs/hallucination.md).
 * The answer schema is `HallucinationAnswer` in src/hallucination/answer.ts.
 */
export const hallucinationReport = defineBuiltinTemplate({
  id: 'hallucination-report',
  version: 1,
  kind: 'report',
  task: 'hallucination',
  description: 'Super-resolution hallucinations: invented elements with kind, severity and box; a 0-4 score (JSON).',
  system: 'You are an expert in image restoration who checks super-resolution outputs for hallucinated detail. You answer in JSON only.',
  user: [
    'The first image is the low-resolution input of a super-resolution model, upscaled to the output size with a plain',
    'bicubic filter: it is blurry by construction, and blur is not a hallucination. The second image is the model output.',
    'When a third image is shown, it is the ground truth.',
    'Find hallucinations: details in the output that the input does not support (and, when shown, that the ground truth',
    'contradicts): invented or altered texture, text or characters, faces or identity, objects, structure (edges, lines,',
    'shapes) or colour. Sharper edges and finer detail that agree with the input are NOT hallucinations.',
    'For each hallucinated element give its kind (texture, text, face, object, structure or colour), its severity (minor,',
    'moderate or severe) and its bounding box {x0, y0, x1, y1} in pixels of the output image as shown (origin at the top',
    'left, x to the right, y down).',
    'Then rate the output as a whole:',
    '0 none: every detail is supported by the input;',
    '1 slight: a small, subtle invented detail, seen only on close inspection;',
    '2 moderate: clearly invented detail in a limited region (a different texture, a few wrong characters);',
    '3 strong: invented content that changes what part of the image shows (legible wrong text, an added or altered object or face);',
    '4 severe: invented content dominates the image or changes its main subject or identity.',
    'Answer with a JSON object: {"score": integer 0-4, "elements": [{"kind": string, "severity": string, "box": {"x0":',
    'number, "y0": number, "x1": number, "y1": number}}], "reasoning": string}.',
  ].join('\n'),
  range: [0, 4],
});

export const builtinTemplates: readonly PromptTemplate[] = [
  qualityScore,
  qualityLevels,
  qualityReport,
  compareLevels,
  compareSample,
  hallucinationReport,
];
