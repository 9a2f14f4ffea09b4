import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  answer,
  COMPARATIVE_LEVELS,
  COMPARATIVE_WEIGHTS,
  decideTask,
  DEFAULT_JUDGE_OPTIONS,
  LEVEL_WEIGHTS,
  LEVELS,
  levelDistribution,
  tokenize,
  type JudgeImage,
  type JudgeOptions,
  type JudgeRequest,
} from '../support/judge-server/index.js';

const image = (quality: number, label?: string, sha256 = `img-${quality}-${label ?? ''}`): JudgeImage => ({
  sha256,
  width: 64,
  height: 64,
  quality,
  label,
});

const request = (overrides: Partial<JudgeRequest>): JudgeRequest => ({
  images: [image(3.5)],
  prompt: 'Rate this image.',
  temperature: 1,
  n: 1,
  ...overrides,
});

const options = (overrides: Partial<JudgeOptions> = {}): JudgeOptions => ({ ...DEFAULT_JUDGE_OPTIONS, ...overrides });
const SAMPLE_PROMPT = 'Think in <think></think>, then give one number from 1 to 5 in <answer></answer>.';
const expectation = (probs: number[], weights: readonly number[]) => probs.reduce((s, p, i) => s + p * weights[i]!, 0);

describe('decideTask', () => {
  it('follows the documented order: structured, <answer>, logprobs, JSON in the prompt, level words, text', () => {
    const kind = (r: Partial<JudgeRequest>) => decideTask(request(r)).kind;
    expect(kind({ structured: { type: 'schema', name: 'quality_report' }, prompt: SAMPLE_PROMPT, logprobs: { top: 5 } })).toBe('structured');
    expect(kind({ structured: { type: 'json_object' } })).toBe('structured');
    expect(kind({ prompt: SAMPLE_PROMPT, logprobs: { top: 5 } })).toBe('sample');
    expect(kind({ logprobs: { top: 5 }, prompt: 'Answer in JSON.' })).toBe('levels');
    expect(kind({ prompt: 'Answer in JSON.' })).toBe('fenced-json');
    expect(kind({ prompt: 'Is it excellent, good, fair, poor or bad?' })).toBe('levels');
    expect(kind({ prompt: 'Describe the image.' })).toBe('text');
  });

  it('makes a pair of the two judged images, setting the reference aside, A and B by label', () => {
    const ref = image(5, 'Reference Image:');
    const a = image(2, 'Image A:');
    const b = image(4, 'Image B:');
    const task = decideTask(request({ images: [ref, b, a] }));
    expect(task.subject).toEqual({ kind: 'pair', a, b, reference: ref });
    const unlabelled = decideTask(request({ images: [image(1), image(2)] })).subject;
    expect(unlabelled.kind === 'pair' && [unlabelled.a.quality, unlabelled.b.quality]).toEqual([1, 2]);
    expect(decideTask(request({ images: [] })).subject).toEqual({ kind: 'none' });
  });
});

describe('level distributions', () => {
  it('raise the expected level with the true quality', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 5, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true }), (q, dq) => {
        const at = (x: number) => expectation(levelDistribution({ kind: 'single', image: image(x) }, options()).probs, LEVEL_WEIGHTS);
        return at(Math.min(5, q + dq)) >= at(q) - 1e-12;
      }),
    );
    const mid = levelDistribution({ kind: 'single', image: image(3) }, options()).probs;
    expect(expectation(mid, LEVEL_WEIGHTS)).toBeCloseTo(3, 6);
    expect(mid[2]).toBeGreaterThan(0.5);
  });

  it('put comparative mass on B relative to A, shifted by the first-slot bias', () => {
    const pair = (qa: number, qb: number) => ({ kind: 'pair' as const, a: image(qa, 'Image A'), b: image(qb, 'Image B') });
    const pref = (qa: number, qb: number, bias = 0) =>
      expectation(levelDistribution(pair(qa, qb), options({ firstSlotBias: bias })).probs, COMPARATIVE_WEIGHTS);
    expect(pref(3, 3)).toBeCloseTo(0.5, 6);
    expect(pref(2, 4)).toBeGreaterThan(0.85);
    expect(pref(4, 2)).toBeLessThan(0.15);
    expect(pref(3, 3, 0.3)).toBeLessThan(0.35);
  });
});

describe('answer', () => {
  it('gives level logprobs with the configured coverage, variants merged to the level distribution', () => {
    const r = request({ logprobs: { top: 20 }, prefill: 'The quality of the image is', temperature: 0 });
    const { choices } = answer(r, options({ levelCoverage: 0.9, levelJitter: 0 }), { occurrence: 0 });
    const [slot] = choices[0]!.tokens;
    expect(choices[0]!.text).toBe(' good');
    expect(slot!.top).toHaveLength(20);
    const merged = LEVELS.map((w) => slot!.top.filter((t) => t.token.trim().toLowerCase() === w).reduce((s, t) => s + Math.exp(t.logprob), 0));
    expect(merged.reduce((s, p) => s + p, 0)).toBeCloseTo(0.9, 6);
    const expected = levelDistribution({ kind: 'single', image: image(3.5) }, options()).probs;
    merged.forEach((p, i) => expect(p / 0.9).toBeCloseTo(expected[i]!, 6));
    expect(slot!.top[0]!.token).toBe(' good');
    expect(slot!.top.some((t) => t.token === 'good') && slot!.top.some((t) => t.token === ' Good')).toBe(true);
  });

  it('drops the leading space of level tokens after a prefill that ends in a space', () => {
    const r = request({ logprobs: { top: 5 }, prefill: 'The quality of the image is ', temperature: 0, images: [image(3.8)] });
    expect(answer(r, options(), { occurrence: 0 }).choices[0]!.text).toBe('good');
  });

  it('writes the whole sentence without a prefill, the level token right after " is"', () => {
    const single = answer(request({ logprobs: { top: 5 }, temperature: 0, images: [image(3.8)] }), options(), { occurrence: 0 }).choices[0]!;
    expect(single.text).toBe('The quality of the image is good.');
    expect(single.tokens.map((t) => t.token)).toEqual(['The', ' quality', ' of', ' the', ' image', ' is', ' good', '.']);
    const pair = answer(
      request({ images: [image(2, 'Image A'), image(4.5, 'Image B')], logprobs: { top: 5 }, temperature: 0 }),
      options(),
      { occurrence: 0 },
    ).choices[0]!;
    expect(pair.text).toBe('Compared with Image A, Image B is superior.');
  });

  it('samples scores around the true quality with sd noiseSd, deterministically per occurrence', () => {
    const r = request({ prompt: SAMPLE_PROMPT, n: 400, images: [image(2.2)] });
    const scores = answer(r, options(), { occurrence: 0 }).choices.map((c) => Number(/<answer>([\d.]+)<\/answer>/.exec(c.text)![1]));
    const mean = scores.reduce((s, x) => s + x, 0) / scores.length;
    const sd = Math.sqrt(scores.reduce((s, x) => s + (x - mean) ** 2, 0) / (scores.length - 1));
    expect(mean).toBeCloseTo(2.2, 1);
    expect(sd).toBeGreaterThan(0.2);
    expect(sd).toBeLessThan(0.3);
    const texts = (occurrence: number) => answer(r, options(), { occurrence }).choices.map((c) => c.text);
    expect(texts(0)).toEqual(texts(0));
    expect(answer(r, options(), { occurrence: 1 }).choices[0]!.text).not.toBe(answer(r, options(), { occurrence: 0 }).choices[0]!.text);
    expect(answer(r, options({ seed: 1 }), { occurrence: 0 }).choices[0]!.text).not.toBe(answer(r, options(), { occurrence: 0 }).choices[0]!.text);
    const greedy = answer({ ...r, n: 3, temperature: 0 }, options(), { occurrence: 0 }).choices.map((c) => c.text);
    expect(new Set(greedy).size).toBe(1);
    expect(answer({ ...r, n: 3, temperature: 0 }, options(), { occurrence: 5 }).choices[0]!.text).toBe(greedy[0]);
  });

  it('prefers the first slot by firstSlotBias in sampled comparisons', () => {
    const pairOf = (bias: number) => {
      const r = request({ prompt: SAMPLE_PROMPT, n: 400, images: [image(3, 'Image A'), image(3, 'Image B')] });
      const words = answer(r, options({ firstSlotBias: bias }), { occurrence: 0 }).choices.map((c) => /<answer>(\w+)<\/answer>/.exec(c.text)![1]!);
      expect(words.every((w) => (COMPARATIVE_LEVELS as readonly string[]).includes(w))).toBe(true);
      return words.filter((w) => w === 'better' || w === 'superior').length / words.length;
    };
    expect(pairOf(0)).toBeGreaterThan(0.15);
    expect(pairOf(0.5)).toBeLessThan(0.05);
  });

  it('answers structured tasks with a report or a verdict object', () => {
    const report = answer(request({ structured: { type: 'schema', name: 'quality_report' }, images: [image(2.5)] }), options(), { occurrence: 0 }).choices[0]!;
    expect(report.structured).toMatchObject({ score: expect.any(Number), reasoning: expect.any(String) });
    expect(JSON.parse(report.text)).toEqual(report.structured);
    const distortions = (report.structured as { distortions: Array<{ type: string; severity: string }> }).distortions;
    expect(distortions[0]).toMatchObject({ type: 'noise', severity: expect.stringMatching(/^(minor|moderate|severe)$/) });
    const verdict = answer(
      request({ structured: { type: 'schema', name: 'comparison' }, images: [image(1.5, 'Image A'), image(4.5, 'Image B')] }),
      options(),
      { occurrence: 0 },
    ).choices[0]!;
    expect(verdict.structured).toMatchObject({ verdict: 'superior' });
  });

  it('misbehaves on request with each content fault', () => {
    const run = (r: Partial<JudgeRequest>, fault: 'invalid-json' | 'missing-tags' | 'out-of-range' | 'text') =>
      answer(request(r), options(), { occurrence: 0, fault }).choices[0]!;
    const structured = { structured: { type: 'schema', name: 'quality_report' } } as const;
    expect(() => JSON.parse(run(structured, 'invalid-json').text)).toThrow();
    expect(run(structured, 'invalid-json').structured).toBeUndefined();
    expect(run({ prompt: SAMPLE_PROMPT }, 'missing-tags').text).toBe('I think the image is decent.');
    expect(run({ prompt: SAMPLE_PROMPT }, 'out-of-range').text).toMatch(/<answer>7.5<\/answer>$/);
    expect(run(structured, 'out-of-range').structured).toMatchObject({ score: 7.5 });
    const off = run({ logprobs: { top: 20 }, prefill: 'The quality of the image is' }, 'text').tokens[0]!;
    const coverage = off.top.filter((t) => (LEVELS as readonly string[]).includes(t.token.trim().toLowerCase())).reduce((s, t) => s + Math.exp(t.logprob), 0);
    expect(coverage).toBeLessThan(0.06);
    expect(run({ prompt: SAMPLE_PROMPT }, 'text').text).not.toContain('<answer>');
  });

  it('continues a prefill rather than repeating it', () => {
    const choice = answer(request({ prompt: SAMPLE_PROMPT, prefill: '<think>' }), options(), { occurrence: 0 }).choices[0]!;
    expect(`<think>${choice.text}`).toMatch(/^<think>[^<]+<\/think>\n<answer>\d\.\d{2}<\/answer>$/);
  });

  it('cuts answers at maxTokens and says so', () => {
    const choice = answer(request({ prompt: SAMPLE_PROMPT, maxTokens: 5 }), options(), { occurrence: 0 }).choices[0]!;
    expect(choice.finish).toBe('length');
    expect(choice.tokens).toHaveLength(5);
  });
});

describe('tokenize', () => {
  it('splits words with their leading space, digits and punctuation, losing nothing', () => {
    expect(tokenize('<answer>3.42</answer>')).toEqual(['<', 'answer', '>', '3', '.', '4', '2', '<', '/', 'answer', '>']);
    fc.assert(fc.property(fc.string(), (s) => tokenize(s).join('') === s));
  });
});
