/**
 * The `llama` provider on text-only requests: node-llama-cpp in process, on the tiny
 * random model. Answers are noise; what is checked is everything around them.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, ModelFileError } from '../../src/core/errors.js';
import { createLlamaProvider, resolveLlamaOptions, type LlamaProvider } from '../../src/judges/providers/llama/index.js';
import { LEVEL_CANDIDATES, parseAnswer, PREFIX, QualityReport, qualityReportJsonSchema, tinyModels, userMessage, type TinyModels } from './fixtures.js';

let m: TinyModels;
let judge: LlamaProvider;
beforeAll(async () => {
  m = tinyModels();
  judge = createLlamaProvider({ model: m.model, options: { threads: 1, contextSize: 2048 } });
  await judge.open();
});
afterAll(async () => {
  await judge.close();
  m.cleanup();
});

describe('llama provider, text engine (node-llama-cpp)', () => {
  it('reads exact level probabilities after the prefix, from one evaluation', async () => {
    const c = await judge.complete({ messages: userMessage(undefined, 'Rate the quality.'), prefill: PREFIX, temperature: 0, maxTokens: 16, candidates: LEVEL_CANDIDATES });
    const probs = c.choices[0]!.candidateProbabilities!;
    expect(Object.keys(probs)).toEqual(LEVEL_CANDIDATES);
    for (const p of Object.values(probs)) expect(p).toBeGreaterThan(0);
    expect(c.meta).toMatchObject({ engine: 'node-llama-cpp@3.21.1', promptEvaluations: 1 });
    // The full next-token distribution covers the whole vocabulary and sums to 1.
    expect(c.meta!.distributionSum as number).toBeCloseTo(1, 5);
    const vocab = (await import('../../src/local/index.js')).inspectModelFile(m.model);
    expect(c.meta!.distributionSize).toBe((await vocab).vocabSize);
    expect(c.meta!.candidateFirstTokens).toMatchObject({ ' good': ' good' });
  });

  it('draws K samples from one prompt evaluation', async () => {
    const c = await judge.complete({
      messages: userMessage(undefined, 'Judge this description of a photo: a sharp, well exposed portrait.'),
      temperature: 1,
      maxTokens: 48,
      n: 4,
      seed: 11,
      answerShape: { kind: 'think-answer', maxThinkChars: 30 },
    });
    expect(c.choices).toHaveLength(4);
    expect(c.meta).toMatchObject({ samples: 4, promptEvaluations: 1 });
    // The prompt was read at most once (its start may come from the cache); each later
    // sample re-read only the last prompt token. Without reuse: 4 x promptTokens.
    expect(c.meta!.promptTokensEvaluated).toBeLessThanOrEqual((c.meta!.promptTokens as number) + 3);
    expect(c.meta!.promptTokensEvaluated).toBeGreaterThan(4);
  });

  it('always writes a parseable <think>/<answer> score in range', async () => {
    const c = await judge.complete({ messages: userMessage(undefined, 'Score it.'), temperature: 1, maxTokens: 64, n: 8, seed: 3, answerShape: { kind: 'think-answer', maxThinkChars: 40 } });
    for (const choice of c.choices) {
      expect(choice.text).toMatch(/^<think>[^<]*<\/think>[ \n]?<answer>[^<]+<\/answer>$/);
      const score = parseAnswer(choice.text)!;
      expect(score).toBeGreaterThanOrEqual(1);
      expect(score).toBeLessThanOrEqual(5);
    }
  });

  it('keeps long thinking within what llama.cpp grammars accept', async () => {
    const c = await judge.complete({ messages: userMessage(undefined, 'Think long.'), temperature: 1, maxTokens: 5000, seed: 4, answerShape: { kind: 'think-answer', maxThinkChars: 5000 } });
    expect(c.meta!.grammar).toMatchObject({ thinkChars: 1999 });
    expect(parseAnswer(c.choices[0]!.text)).toBeDefined();
  });

  it('always writes schema-valid JSON', async () => {
    const c = await judge.complete({ messages: userMessage(undefined, 'Report.'), temperature: 1, maxTokens: 200, n: 6, seed: 5, responseSchema: { name: 'quality_report', schema: qualityReportJsonSchema } });
    for (const choice of c.choices) expect(QualityReport.safeParse(JSON.parse(choice.text)).success).toBe(true);
    expect(c.meta!.grammar).toMatchObject({ arrayItems: expect.any(Number) });
  });

  it('repeats its samples for the same seed', async () => {
    const request = { messages: userMessage(undefined, 'Again.'), temperature: 1, maxTokens: 40, n: 2, seed: 99, answerShape: { kind: 'think-answer' as const, maxThinkChars: 20 } };
    const a = await judge.complete(request);
    const b = await judge.complete(request);
    expect(b.choices.map((x) => x.text)).toEqual(a.choices.map((x) => x.text));
    expect(b.meta!.seed).toBe(99);
  });

  it('identifies itself by file fingerprint and engine', () => {
    const sha = createHash('sha256').update(readFileSync(m.model)).digest('hex');
    expect(judge.identity()).toEqual({ modelSha256: sha, engine: 'node-llama-cpp@3.21.1', contextSize: 2048 });
    expect(judge.capabilities).toMatchObject({ images: false, candidateProbabilities: true, multipleChoices: true, prefill: true });
  });

  it('refuses images without a projector, naming the fix', async () => {
    const image = { type: 'image' as const, data: new Uint8Array([1]), mediaType: 'image/png' as const, sha256: 'x', width: 1, height: 1 };
    const error = await judge.complete({ messages: userMessage(image, 'Rate.'), temperature: 1, maxTokens: 8 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as Error).message).toMatch(/cannot see images: pass one with --mmproj \(found .*mmproj-tiny\.gguf\)/);
  });
});

describe('llama options', () => {
  it('defaults to one thread per physical core and GPU layers "auto"', () => {
    const o = resolveLlamaOptions({ model: 'x.gguf' });
    expect(o.threads).toBe(Math.max(1, Math.floor(availableParallelism() / 2)));
    expect(o.gpuLayers).toBe('auto');
    expect(o.callTimeoutMs).toBe(120_000);
  });

  it('accepts integer strings from the command line', () => {
    expect(resolveLlamaOptions({ model: 'x.gguf', options: { gpuLayers: '20', threads: '4' } })).toMatchObject({ gpuLayers: 20, threads: 4 });
  });

  it.each([
    [{ gpuLayers: -1 }, "Expected `gpuLayers` to be an integer >= 0 or 'auto', got `-1`"],
    [{ threads: 0 }, 'Expected `threads` to be an integer >= 1, got `0`'],
    [{ contextSize: 'big' }, 'Expected `contextSize` to be an integer >= 64, got `big`'],
    [{ mmprog: 'typo.gguf' }, 'Unknown llama option `mmprog`'],
  ])('rejects %j', (options, message) => {
    expect(() => resolveLlamaOptions({ model: 'x.gguf', options })).toThrow(ConfigError);
    expect(() => resolveLlamaOptions({ model: 'x.gguf', options })).toThrow(message);
  });
});
