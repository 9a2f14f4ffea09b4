import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import type { ChatCompletionContentPart, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LEVEL_WEIGHTS, LEVELS, startOpenAIServer, type JudgeServer } from '../support/judge-server/index.js';
import { makeTestImage } from '../support/test-images.js';

const KEY = 'sk-test-openai';
let server: JudgeServer;
let client: OpenAI;
const images = new Map<number, string>();

/** A data URL of a test image of known quality (memoised). */
async function imageUrl(quality: number): Promise<string> {
  let url = images.get(quality);
  if (!url) {
    url = `data:image/png;base64,${(await makeTestImage({ quality, seed: Math.round(quality * 100) })).toString('base64')}`;
    images.set(quality, url);
  }
  return url;
}

const image = async (quality: number): Promise<ChatCompletionContentPart> => ({ type: 'image_url', image_url: { url: await imageUrl(quality) } });
const text = (t: string): ChatCompletionContentPart => ({ type: 'text', text: t });
const SAMPLE_PROMPT = 'Rate the quality of the image. Think in <think></think>, then give one number from 1 to 5 in <answer></answer>.';

async function levelsParams(quality: number, extra: Partial<ChatCompletionCreateParamsNonStreaming> = {}): Promise<ChatCompletionCreateParamsNonStreaming> {
  return {
    model: 'sim-judge',
    temperature: 0,
    logprobs: true,
    top_logprobs: 10,
    max_tokens: 8,
    messages: [
      { role: 'user', content: [text('Rate the quality of this image.'), await image(quality)] },
      { role: 'assistant', content: 'The quality of the image is' },
    ],
    ...extra,
  };
}

async function levelsRequest(quality: number, extra: Partial<ChatCompletionCreateParamsNonStreaming> = {}) {
  return client.chat.completions.create(await levelsParams(quality, extra));
}

beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: KEY, seed: 7 });
  client = new OpenAI({ baseURL: server.url, apiKey: KEY, maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.resetCounts();
  server.clearFaults();
  server.setOptions({ latencyMs: 0, noiseSd: 0.25, firstSlotBias: 0, qualityOf: undefined, faultRate: 0 });
});

describe('OpenAI server: answers the SDK parses', () => {
  it('level tokens after a prefill: top_logprobs hold the level distribution, usage and request id set', async () => {
    const res = await client.chat.completions.create(await levelsParams(4)).withResponse();
    const completion = res.data;
    expect(res.response.headers.get('x-request-id')).toMatch(/^req_/);
    expect(res.request_id).toBe(res.response.headers.get('x-request-id'));
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('sim-judge');
    const choice = completion.choices[0]!;
    expect(choice.message).toMatchObject({ role: 'assistant', content: ' good', refusal: null });
    expect(choice.finish_reason).toBe('stop');
    const [slot] = choice.logprobs!.content!;
    expect(slot!.token).toBe(' good');
    expect(slot!.bytes).toEqual([...Buffer.from(' good')]);
    expect(slot!.top_logprobs).toHaveLength(10);
    expect(slot!.top_logprobs[0]!.token).toBe(' good');
    const probs = slot!.top_logprobs.map((t) => Math.exp(t.logprob));
    expect(probs).toEqual([...probs].sort((a, b) => b - a));
    expect(completion.usage).toEqual({ prompt_tokens: 255 + Math.ceil(('Rate the quality of this image.'.length + 'The quality of the image is'.length) / 4), completion_tokens: 1, total_tokens: 255 + 15 + 1 });
  });

  it('expected level rises with true quality, coverage close to levelCoverage', async () => {
    const expected: number[] = [];
    for (const q of [1.5, 2.5, 3.5, 4.5]) {
      const top = (await levelsRequest(q, { top_logprobs: 20 })).choices[0]!.logprobs!.content![0]!.top_logprobs;
      const mass = LEVELS.map((w) => top.filter((t) => t.token.trim().toLowerCase() === w).reduce((s, t) => s + Math.exp(t.logprob), 0));
      const coverage = mass.reduce((s, p) => s + p, 0);
      expect(coverage).toBeGreaterThan(0.96);
      expect(coverage).toBeLessThan(0.98);
      const mu = mass.reduce((s, p, i) => s + p * LEVEL_WEIGHTS[i]!, 0) / coverage;
      expect(Math.abs(mu - q)).toBeLessThan(0.3);
      expected.push(mu);
    }
    expect(expected).toEqual([...expected].sort((a, b) => a - b));
  });

  it('without a prefill writes "The quality of the image is <level>." with the distribution on the token after " is"', async () => {
    const completion = await client.chat.completions.create({
      model: 'sim-judge',
      temperature: 0,
      logprobs: true,
      top_logprobs: 5,
      messages: [{ role: 'user', content: [text('How is the quality of this image?'), await image(2)] }],
    });
    const tokens = completion.choices[0]!.logprobs!.content!;
    expect(completion.choices[0]!.message.content).toBe('The quality of the image is poor.');
    const after = tokens[tokens.findIndex((t) => t.token === ' is') + 1]!;
    expect(after.token).toBe(' poor');
    expect(after.top_logprobs.map((t) => t.token)).toContain(' fair');
  });

  it('n sampled scores in <answer> tags, seeded by the request seed', async () => {
    const params = {
      model: 'sim-judge',
      n: 6,
      temperature: 1,
      seed: 42,
      messages: [{ role: 'user' as const, content: [text(SAMPLE_PROMPT), await image(3)] }],
    };
    const completion = await client.chat.completions.create(params);
    expect(completion.choices).toHaveLength(6);
    const scores = completion.choices.map((c) => {
      expect(c.message.content).toMatch(/^<think>.+<\/think>\n<answer>\d\.\d{2}<\/answer>$/s);
      return Number(/<answer>(.*)<\/answer>/.exec(c.message.content!)![1]);
    });
    expect(new Set(scores).size).toBeGreaterThan(1);
    expect(scores.every((s) => s >= 2 && s <= 4)).toBe(true);
    const again = await client.chat.completions.create(params);
    expect(again.choices.map((c) => c.message.content)).toEqual(completion.choices.map((c) => c.message.content));
    expect(server.requests.map((r) => r.task)).toEqual(['sample', 'sample']);
  });

  it('structured quality_report through json_schema, parsed by the SDK with zod', async () => {
    const Report = z.object({
      score: z.number(),
      distortions: z.array(z.object({ type: z.string(), severity: z.enum(['minor', 'moderate', 'severe']), location: z.string() })),
      reasoning: z.string(),
    });
    const completion = await client.chat.completions.parse({
      model: 'sim-judge',
      messages: [{ role: 'user', content: [text('Report on the quality of this image.'), await image(2)] }],
      response_format: zodResponseFormat(Report, 'quality_report'),
    });
    const report = completion.choices[0]!.message.parsed!;
    expect(report.score).toBeGreaterThanOrEqual(1.4);
    expect(report.score).toBeLessThanOrEqual(2.6);
    expect(report.distortions[0]).toMatchObject({ type: 'noise' });
  });

  it('json_object and "answer in JSON" prompts get a fenced ```json block', async () => {
    for (const extra of [{ response_format: { type: 'json_object' as const } }, {}]) {
      const completion = await client.chat.completions.create({
        model: 'sim-judge',
        messages: [{ role: 'user', content: [text('Describe the quality of this image as JSON.'), await image(4.5)] }],
        ...extra,
      });
      const content = completion.choices[0]!.message.content!;
      const body = /^```json\n([\s\S]*)\n```$/.exec(content)![1]!;
      expect(JSON.parse(body)).toMatchObject({ score: expect.any(Number), distortions: expect.any(Array) });
    }
  });

  it('pairwise comparison with a reference: verdict object, comparative logprobs, first-slot bias', async () => {
    const pair = async (qa: number, qb: number): Promise<ChatCompletionContentPart[]> => [
      text('Reference Image:'),
      await image(5),
      text('Image A:'),
      await image(qa),
      text('Image B:'),
      await image(qb),
      text('How does Image B compare with Image A?'),
    ];
    const verdict = await client.chat.completions.create({
      model: 'sim-judge',
      temperature: 0,
      messages: [{ role: 'user', content: await pair(1.5, 4.5) }],
      response_format: { type: 'json_schema', json_schema: { name: 'comparison', strict: true, schema: { type: 'object' } } },
    });
    expect(JSON.parse(verdict.choices[0]!.message.content!)).toMatchObject({ verdict: 'superior', reasoning: expect.any(String) });
    expect(server.requests[0]!.subject).toBe('pair');
    expect(server.requests[0]!.images!.map((i) => i.label)).toEqual(['Reference Image:', 'Image A:', 'Image B:']);

    const preference = async () => {
      const completion = await client.chat.completions.create({
        model: 'sim-judge',
        temperature: 0,
        logprobs: true,
        top_logprobs: 20,
        messages: [{ role: 'user', content: await pair(3, 3) }],
      });
      expect(completion.choices[0]!.message.content).toMatch(/^Compared with Image A, Image B is \w+\.$/);
      const slot = completion.choices[0]!.logprobs!.content!.find((t) => t.token.startsWith(' ') && ['inferior', 'worse', 'similar', 'better', 'superior'].includes(t.token.trim()))!;
      const weights: Record<string, number> = { inferior: 0, worse: 0.25, similar: 0.5, better: 0.75, superior: 1 };
      let mass = 0;
      let sum = 0;
      for (const t of slot.top_logprobs) {
        const w = weights[t.token.trim().toLowerCase()];
        if (w === undefined) continue;
        mass += Math.exp(t.logprob);
        sum += Math.exp(t.logprob) * w;
      }
      return sum / mass;
    };
    const unbiased = await preference();
    expect(unbiased).toBeGreaterThan(0.4);
    expect(unbiased).toBeLessThan(0.6);
    server.setOptions({ firstSlotBias: 0.3 });
    expect(await preference()).toBeLessThan(unbiased - 0.15);
  });

  it('qualityOf plants the true quality, and the log records it', async () => {
    server.setOptions({ qualityOf: (img) => (img.width === 64 ? 1 : 3) });
    const completion = await client.chat.completions.create({
      model: 'sim-judge',
      temperature: 0,
      messages: [{ role: 'user', content: [text(SAMPLE_PROMPT), await image(5)] }],
    });
    expect(Number(/<answer>(.*)<\/answer>/.exec(completion.choices[0]!.message.content!)![1])).toBeLessThan(1.8);
    expect(server.requests[0]!.images![0]!.quality).toBe(1);
  });

  it('lists models and handles many simultaneous requests', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['sim-judge']);
    server.setOptions({ latencyMs: 20 });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => levelsRequest([1, 2, 3, 4, 5][i % 5]!)));
    expect(results.map((r) => r.choices[0]!.message.content)).toEqual(Array.from({ length: 40 }, (_, i) => ` ${['bad', 'poor', 'fair', 'good', 'excellent'][i % 5]}`));
    expect(server.calls).toBe(40);
  });
});

describe('OpenAI server: errors and misbehaviour through the SDK', () => {
  it('401 AuthenticationError on a wrong key', async () => {
    const wrong = new OpenAI({ baseURL: server.url, apiKey: 'sk-wrong', maxRetries: 0 });
    const error = await wrong.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
    expect(server.calls).toBe(0);
  });

  it('429 with retry-after surfaces as RateLimitError with the header and request id; the SDK retries it', async () => {
    server.failNext({ kind: 'status', status: 429, retryAfter: '3' });
    const error = await levelsRequest(3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rate = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rate.status).toBe(429);
    expect(rate.headers.get('retry-after')).toBe('3');
    expect(rate.requestID).toMatch(/^req_/);
    expect(rate.code).toBe('rate_limit_exceeded');

    server.failNext({ kind: 'status', status: 429, retryAfterMs: 1 }, { kind: 'status', status: 503, retryAfter: '0' });
    const retrying = new OpenAI({ baseURL: server.url, apiKey: KEY, maxRetries: 2 });
    const completion = await retrying.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: [text(SAMPLE_PROMPT), await image(3)] }] });
    expect(completion.choices[0]!.message.content).toContain('<answer>');
    expect(server.faults).toBe(3);
    expect(server.calls).toBe(1);
    expect(server.requests.map((r) => [r.status, r.fault?.kind])).toEqual([
      [429, 'status'],
      [429, 'status'],
      [503, 'status'],
      [200, undefined],
    ]);
  });

  it('500 is an InternalServerError; drop is an APIConnectionError; slow trips the SDK timeout', async () => {
    server.failNext({ kind: 'status', status: 500 }, { kind: 'drop' }, { kind: 'slow', ms: 200 });
    await expect(levelsRequest(3)).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(levelsRequest(3)).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    await expect(levelsRequest(3, {}).then(() => 'answered')).resolves.toBe('answered');
    server.failNext({ kind: 'slow', ms: 1000 });
    const impatient = new OpenAI({ baseURL: server.url, apiKey: KEY, maxRetries: 0, timeout: 100 });
    await expect(impatient.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(
      OpenAI.APIConnectionTimeoutError,
    );
    expect(server.faults).toBe(4);
    expect(server.calls).toBe(1);
    expect(server.requests.map((r) => r.status)).toEqual([500, undefined, 200, undefined]);
  });

  it('content faults answer 200 with broken JSON, missing tags, out-of-range scores, prose', async () => {
    const ask = async (format?: ChatCompletionCreateParamsNonStreaming['response_format']) =>
      (
        await client.chat.completions.create({
          model: 'm',
          messages: [{ role: 'user', content: [text(SAMPLE_PROMPT), await image(3)] }],
          ...(format ? { response_format: format } : {}),
        })
      ).choices[0]!.message.content!;
    const schema = { type: 'json_schema' as const, json_schema: { name: 'quality_report', schema: { type: 'object' } } };
    server.failNext({ kind: 'invalid-json' }, { kind: 'missing-tags' }, { kind: 'out-of-range' }, { kind: 'text' });
    const broken = await ask(schema);
    expect(() => JSON.parse(broken)).toThrow(SyntaxError);
    expect(await ask()).toBe('I think the image is decent.');
    expect(await ask()).toMatch(/<answer>7\.5<\/answer>$/);
    expect(await ask()).not.toMatch(/<answer>/);
    expect(server.calls).toBe(4);
    expect(server.faults).toBe(4);
  });

  it('say answers exactly the given text in every choice, markup included', async () => {
    const said = '<img src=x onerror=alert(1)> </script><script>alert(2)</script>';
    server.failNext({ kind: 'say', text: said });
    const res = await client.chat.completions.create({ model: 'm', n: 3, messages: [{ role: 'user', content: [text(SAMPLE_PROMPT), await image(3)] }] });
    expect(res.choices.map((c) => c.message.content)).toEqual([said, said, said]);
    expect(server.faults).toBe(1);
  });

  it('faultRate draws faults deterministically from the seed', async () => {
    const run = async () => {
      server.resetCounts();
      server.setOptions({ faultRate: 0.5, faultKinds: [{ kind: 'status', status: 500 }] });
      const outcomes: string[] = [];
      for (let i = 0; i < 12; i++) outcomes.push(await levelsRequest(3).then(() => 'ok', () => 'fail'));
      return outcomes;
    };
    const first = await run();
    expect(first).toContain('ok');
    expect(first).toContain('fail');
    expect(await run()).toEqual(first);
  });

  it('rejects bad requests with 400s the SDK reports as BadRequestError', async () => {
    const bad = [
      { model: 'm', messages: [{ role: 'user', content: 'hi' }], top_logprobs: 3 },
      { model: 'm', messages: [{ role: 'user', content: 'hi' }], n: 17 },
      { model: 'm', messages: [] },
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] },
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] },
    ] as unknown as ChatCompletionCreateParamsNonStreaming[];
    for (const params of bad) {
      const error = await client.chat.completions.create(params).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    }
  });
});
