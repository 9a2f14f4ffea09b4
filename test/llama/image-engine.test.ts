/**
 * The `llama` provider on image requests: @fugood/llama.node in a child process with
 * the tiny projector, and the child's crash, hang and restart handling.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError, ProviderError, TimeoutError } from '../../src/core/errors.js';
import type { ImagePart } from '../../src/core/provider.js';
import { ChildEngine } from '../../src/judges/providers/llama/child/child-engine.js';
import { createLlamaProvider, type LlamaProvider } from '../../src/judges/providers/llama/index.js';
import type { EngineJob } from '../../src/judges/providers/llama/job.js';
import { badModels } from '../support/gguf/index.js';
import { LEVEL_CANDIDATES, parseAnswer, pngImage, PREFIX, QualityReport, qualityReportJsonSchema, tinyModels, userMessage, type TinyModels } from './fixtures.js';

let m: TinyModels;
let judge: LlamaProvider;
let image: ImagePart;
let other: ImagePart;

beforeAll(async () => {
  m = tinyModels();
  image = await pngImage();
  other = await pngImage({ r: 10, g: 200, b: 30 });
  judge = createLlamaProvider({ model: m.model, options: { mmproj: m.mmproj, threads: 1 } });
  await judge.open();
});
afterAll(async () => {
  await judge.close();
  m.cleanup();
});

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('llama provider, image engine (@fugood/llama.node in a child process)', () => {
  it('loads model and projector in a child process and records their fingerprints', () => {
    const status = judge.status();
    expect(status.image?.pid).toBeGreaterThan(0);
    expect(status.image?.pid).not.toBe(process.pid);
    expect(status.image?.lastLoad?.vision).toBe(true);
    expect(judge.capabilities.images).toBe(true);
    expect(judge.identity()).toEqual({
      modelSha256: sha(m.model),
      mmprojSha256: sha(m.mmproj),
      engine: '@fugood/llama.node@1.7.15',
      textEngine: 'node-llama-cpp@3.21.1',
      contextSize: 4096,
    });
  });

  it('reads level probabilities for an image from one evaluation, over the whole vocabulary', async () => {
    const c = await judge.complete({ messages: userMessage(image, 'Rate the quality of this image.'), prefill: PREFIX, temperature: 0, maxTokens: 16, candidates: LEVEL_CANDIDATES });
    const probs = c.choices[0]!.candidateProbabilities!;
    expect(Object.keys(probs)).toEqual(LEVEL_CANDIDATES);
    for (const p of Object.values(probs)) {
      expect(Number.isFinite(p)).toBe(true);
      expect(p).toBeGreaterThan(0);
    }
    expect(c.meta).toMatchObject({ engine: '@fugood/llama.node@1.7.15', promptEvaluations: 1, modelSha256: sha(m.model), mmprojSha256: sha(m.mmproj) });
    expect(c.meta!.distributionSum as number).toBeCloseTo(1, 5);
    // 16 image tokens and the text: the prompt is longer than the text alone.
    expect(c.meta!.promptTokens as number).toBeGreaterThan(16);
  });

  it('draws K samples of one image from one prompt evaluation', async () => {
    const c = await judge.complete({
      messages: userMessage(other, 'Think, then score this image from 1 to 5.'),
      temperature: 1,
      maxTokens: 64,
      n: 4,
      seed: 21,
      answerShape: { kind: 'think-answer', maxThinkChars: 30 },
    });
    expect(c.choices).toHaveLength(4);
    expect(c.meta).toMatchObject({ samples: 4, promptEvaluations: 1 });
    expect(c.meta!.promptTokensEvaluated).toBeLessThanOrEqual((c.meta!.promptTokens as number) + 3);
    for (const choice of c.choices) {
      const score = parseAnswer(choice.text)!;
      expect(score).toBeGreaterThanOrEqual(1);
      expect(score).toBeLessThanOrEqual(5);
    }
  });

  it('always writes schema-valid JSON about an image', async () => {
    const c = await judge.complete({ messages: userMessage(image, 'Report on this image.'), temperature: 1, maxTokens: 200, n: 6, seed: 8, responseSchema: { name: 'quality_report', schema: qualityReportJsonSchema } });
    for (const choice of c.choices) expect(QualityReport.safeParse(JSON.parse(choice.text)).success).toBe(true);
  });

  it('draws the same samples for the same seed, whether the prompt is cached or not', async () => {
    const request = { messages: userMessage(image, 'Once more.'), temperature: 1, maxTokens: 48, n: 3, seed: 77, answerShape: { kind: 'think-answer' as const, maxThinkChars: 20 } };
    const first = await judge.complete(request);
    const cached = await judge.complete(request);
    expect(cached.meta!.promptEvaluations).toBe(0);
    expect(cached.choices.map((c) => c.text)).toEqual(first.choices.map((c) => c.text));
  });

  it('turns a killed engine into a retryable failure and restarts it for the next call', async () => {
    // Free text: the tiny model never ends it, so this call runs 8 x 3000 tokens.
    const long = { messages: userMessage(image, 'Talk at length.'), temperature: 1, maxTokens: 3000, n: 8, seed: 1 };
    const before = judge.status().image!;
    const pid = before.pid!;
    const starts = before.starts;
    const call = judge.complete(long);
    await new Promise((r) => setTimeout(r, 150));
    process.kill(pid, 'SIGKILL');
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ retryable: true, provider: 'llama' });
    expect((error as Error).message).toMatch(/crashed \(SIGKILL\) during the call/);
    const next = await judge.complete({ messages: userMessage(image, 'Rate.'), temperature: 1, maxTokens: 24, seed: 2, answerShape: { kind: 'think-answer', maxThinkChars: 5 } });
    expect(parseAnswer(next.choices[0]!.text)).toBeDefined();
    expect(judge.status().image!.starts).toBe(starts + 1);
    expect(judge.status().image!.pid).not.toBe(pid);
  });

  it('stops a call that outlives the per-call timeout, then serves the next one', async () => {
    const quick = createLlamaProvider({ model: m.model, options: { mmproj: m.mmproj, threads: 1, callTimeoutMs: 100 } });
    try {
      await quick.open();
      const error = await quick
        .complete({ messages: userMessage(image, 'Talk at length.'), temperature: 1, maxTokens: 3000, n: 8, seed: 1 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TimeoutError);
      expect(error).toMatchObject({ retryable: true });
      const ok = await quick.complete({ messages: userMessage(image, 'Rate.'), temperature: 1, maxTokens: 8, seed: 2, prefill: PREFIX, candidates: [' good'] });
      expect(ok.choices[0]!.candidateProbabilities![' good']).toBeGreaterThan(0);
      expect(quick.status().image).toMatchObject({ timeouts: 1, starts: 2 });
    } finally {
      await quick.close();
    }
  });

  it('reports a projector that crashes the engine as a model file error, and the main process lives on', async () => {
    const bad = badModels.malformedProjector(join(m.dir, 'mmproj-broken.gguf'));
    const broken = createLlamaProvider({ model: m.model, options: { mmproj: bad, threads: 1 } });
    const error = await broken.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect(error).toMatchObject({ path: bad });
    expect((error as Error).message).toMatch(/crashed \(SIGSEGV\) while loading it/);
    // The same error again, without another crash.
    await expect(broken.complete({ messages: userMessage(image, 'x'), temperature: 1, maxTokens: 4 })).rejects.toBe(error);
    expect(broken.status().image?.starts).toBe(1);
    await broken.close();
  });
});

describe('engine child restarts (protocol, with a scripted child)', () => {
  const script = { path: fileURLToPath(new URL('./fake-engine-child.mjs', import.meta.url)), execArgv: [] };
  const engine = (scenario: string): ChildEngine =>
    new ChildEngine({ model: scenario, mmproj: undefined, contextSize: 64, batchSize: 64, threads: 1, gpuLayers: 0, loadTimeoutMs: 10_000, engineName: 'fake', script });
  const job = (samples: number): EngineJob => ({ messages: [], prefill: '', candidates: undefined, samples, firstSample: 0, temperature: 1, maxTokens: 8, seed: 0, grammar: undefined, vocabSize: 10 });

  it('replaces a stuck engine and resumes at the next sample: nothing lost, nothing drawn twice', async () => {
    const e = engine('stuck-once-at-2');
    try {
      const out = await e.run(job(5), { timeoutMs: 10_000 });
      expect(out.kind).toBe('samples');
      const samples = out.kind === 'samples' ? out.samples : [];
      expect(samples.map((s) => s.index)).toEqual([0, 1, 2, 3, 4]);
      const pids = new Set(samples.map((s) => s.text.split(' from ')[1]));
      expect(pids.size).toBe(2);
      expect(e.stats).toMatchObject({ starts: 2, stuckRestarts: 1 });
    } finally {
      await e.close();
    }
  });

  it('gives up with a retryable error when the engine keeps getting stuck', async () => {
    const e = engine('always-stuck');
    try {
      await expect(e.run(job(2), { timeoutMs: 10_000 })).rejects.toMatchObject({ retryable: true, message: expect.stringMatching(/kept getting stuck/) });
    } finally {
      await e.close();
    }
  });

  it('names the model file when the engine crashes loading it', async () => {
    const e = engine('crash-on-load');
    const error = await e.start().catch((x: unknown) => x);
    // The crash happened at the model stage, so the model file is named.
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as Error).message).toMatch(/crashed \(SIGSEGV\) while loading it/);
  });
});
