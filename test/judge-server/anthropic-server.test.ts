import Anthropic from '@anthropic-ai/sdk';
import type { ContentBlockParam, MessageCreateParamsNonStreaming } from '@anthropic-ai/sdk/resources/messages';
import { zodOutputFormat } from '@anthropic-ai/sdk/helpers/zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startAnthropicServer, type JudgeServer } from '../support/judge-server/index.js';
import { makeTestImage } from '../support/test-images.js';

const KEY = 'sk-ant-test';
let server: JudgeServer;
let client: Anthropic;
const cache = new Map<string, string>();

async function image(quality: number, format: 'png' | 'jpeg' = 'png'): Promise<ContentBlockParam> {
  const key = `${quality}/${format}`;
  let data = cache.get(key);
  if (!data) {
    data = (await makeTestImage({ quality, format, seed: 3 })).toString('base64');
    cache.set(key, data);
  }
  return { type: 'image', source: { type: 'base64', media_type: format === 'png' ? 'image/png' : 'image/jpeg', data } };
}

const text = (t: string): ContentBlockParam => ({ type: 'text', text: t });
const SAMPLE_PROMPT = 'Rate the quality of the image. Think in <think></think>, then give one number from 1 to 5 in <answer></answer>.';
const REPORT_TOOL = {
  name: 'quality_report',
  description: 'Report the quality of the image.',
  input_schema: { type: 'object' as const, properties: { score: { type: 'number' } }, required: ['score'] },
};

async function sample(quality: number, extra: Partial<MessageCreateParamsNonStreaming> = {}): Promise<MessageCreateParamsNonStreaming> {
  return { model: 'claude-sim', max_tokens: 400, messages: [{ role: 'user', content: [text(SAMPLE_PROMPT), await image(quality)] }], ...extra };
}

beforeAll(async () => {
  server = await startAnthropicServer({ apiKey: KEY, seed: 11 });
  client = new Anthropic({ baseURL: server.url, apiKey: KEY, maxRetries: 0 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.resetCounts();
  server.clearFaults();
});

describe('Anthropic server: answers the SDK parses', () => {
  it('a sampled score in <answer> tags, with request id and usage', async () => {
    const { data: message, response } = await client.messages.create(await sample(4)).withResponse();
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sim', stop_reason: 'end_turn', stop_sequence: null });
    const block = message.content[0]!;
    expect(block.type).toBe('text');
    const score = Number(/<answer>(\d\.\d{2})<\/answer>$/.exec(block.type === 'text' ? block.text : '')![1]);
    expect(score).toBeGreaterThan(3);
    expect(score).toBeLessThanOrEqual(5);
    expect(message.usage.input_tokens).toBe(Math.ceil(SAMPLE_PROMPT.length / 4) + Math.ceil((64 * 64) / 750));
    expect(message.usage.output_tokens).toBeGreaterThan(10);
  });

  it('a forced quality_report tool answers with tool_use input; a comparison tool with a verdict', async () => {
    const message = await client.messages.create({
      model: 'claude-sim',
      max_tokens: 400,
      system: 'You are an image quality judge.',
      tools: [REPORT_TOOL],
      tool_choice: { type: 'tool', name: 'quality_report' },
      messages: [{ role: 'user', content: [text('Report on this image.'), await image(1.5, 'jpeg')] }],
    });
    expect(message.stop_reason).toBe('tool_use');
    const block = message.content[0]!;
    if (block.type !== 'tool_use') throw new Error(`expected tool_use, got ${block.type}`);
    expect(block.name).toBe('quality_report');
    expect(block.id).toMatch(/^toolu_/);
    expect(block.input).toMatchObject({ score: expect.any(Number), distortions: [{ type: 'noise', severity: 'severe' }], reasoning: expect.any(String) });

    const comparison = await client.messages.create({
      model: 'claude-sim',
      max_tokens: 400,
      tools: [{ ...REPORT_TOOL, name: 'comparison' }],
      tool_choice: { type: 'tool', name: 'comparison' },
      messages: [{ role: 'user', content: [text('Image A:'), await image(4.5), text('Image B:'), await image(1.5), text('Compare B with A.')] }],
    });
    const verdict = comparison.content[0]!;
    expect(verdict.type === 'tool_use' && verdict.input).toMatchObject({ verdict: 'inferior' });
  });

  it('a prefill is continued: one level word with its leading space, greedy when temperature 0 is sent', async () => {
    const params: MessageCreateParamsNonStreaming = {
      model: 'claude-sim',
      max_tokens: 5,
      messages: [
        { role: 'user', content: [text('Is the quality excellent, good, fair, poor or bad?'), await image(2)] },
        { role: 'assistant', content: 'The quality of the image is' },
      ],
    };
    // SDK 1.x no longer types `temperature`; it is sampled at 1 unless a caller still sends it.
    const sampled = await client.messages.create(params);
    const block = sampled.content[0]!;
    expect(block.type === 'text' && block.text).toMatch(/^ (excellent|good|fair|poor|bad|very|of)$/i);
    const greedy = await client.messages.create({ ...params, temperature: 0 } as MessageCreateParamsNonStreaming);
    expect(greedy.content).toEqual([{ type: 'text', text: ' poor', citations: null }]);
  });

  it('output_config.format answers JSON text that messages.parse() validates with zod', async () => {
    const Report = z.object({ score: z.number(), distortions: z.array(z.object({ type: z.string() })), reasoning: z.string() });
    const message = await client.messages.parse({
      model: 'claude-sim',
      max_tokens: 400,
      messages: [
        { role: 'system', content: 'You judge image quality.' },
        { role: 'user', content: [text('Report on this image.'), await image(4.5)] },
      ],
      output_config: { format: zodOutputFormat(Report) },
    });
    expect(message.parsed_output!.score).toBeGreaterThan(4);
    expect(server.requests[0]!.task).toBe('structured');
  });

  it('cuts long answers at max_tokens with stop_reason max_tokens', async () => {
    const message = await client.messages.create(await sample(3, { max_tokens: 4 }));
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.usage.output_tokens).toBe(4);
  });

  it('handles simultaneous requests, counting calls', async () => {
    server.setOptions({ latencyMs: 10 });
    const replies = await Promise.all(Array.from({ length: 30 }, async (_, i) => client.messages.create(await sample(1 + (i % 5)))));
    server.setOptions({ latencyMs: 0 });
    expect(replies.every((m) => m.content[0]!.type === 'text')).toBe(true);
    expect(server.calls).toBe(30);
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['sim-judge']);
  });
});

describe('Anthropic server: errors the SDK surfaces', () => {
  it('401 AuthenticationError on a wrong x-api-key', async () => {
    const wrong = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-wrong', maxRetries: 0 });
    const error = await wrong.messages.create(await sample(3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((error as InstanceType<typeof Anthropic.AuthenticationError>).type).toBe('authentication_error');
  });

  it('429 RateLimitError with retry-after and request id; 529 overloaded; 500; drop', async () => {
    server.failNext(
      { kind: 'status', status: 429, retryAfter: '7' },
      { kind: 'status', status: 529 },
      { kind: 'status', status: 500 },
      { kind: 'drop' },
    );
    const params = await sample(3);
    const rate = (await client.messages.create(params).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rate).toBeInstanceOf(Anthropic.RateLimitError);
    expect(rate.headers.get('retry-after')).toBe('7');
    expect(rate.requestID).toMatch(/^req_/);
    expect(rate.type).toBe('rate_limit_error');
    const overloaded = (await client.messages.create(params).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError);
    expect([overloaded.status, overloaded.type]).toEqual([529, 'overloaded_error']);
    await expect(client.messages.create(params)).rejects.toBeInstanceOf(Anthropic.InternalServerError);
    await expect(client.messages.create(params)).rejects.toBeInstanceOf(Anthropic.APIConnectionError);
    expect(server.faults).toBe(4);
    expect(server.calls).toBe(0);
  });

  it('a forced tool with an invalid-json fault answers text, not tool_use', async () => {
    server.failNext({ kind: 'invalid-json' });
    const message = await client.messages.create({
      model: 'claude-sim',
      max_tokens: 400,
      tools: [REPORT_TOOL],
      tool_choice: { type: 'tool', name: 'quality_report' },
      messages: [{ role: 'user', content: [text('Report.'), await image(3)] }],
    });
    expect(message.stop_reason).toBe('end_turn');
    const block = message.content[0]!;
    if (block.type !== 'text') throw new Error(`expected text, got ${block.type}`);
    expect(() => JSON.parse(block.text)).toThrow(SyntaxError);
  });

  it('say answers the given text as a text block, or as the forced tool call when it is a JSON object', async () => {
    const said = '<img src=x onerror=alert(1)> </script><script>alert(2)</script>';
    const report = { score: 2, distortions: [{ type: '<b>blur</b>', severity: 'minor', location: 'top' }], reasoning: said };
    server.failNext({ kind: 'say', text: said }, { kind: 'say', text: JSON.stringify(report) });
    const plain = await client.messages.create({ model: 'claude-sim', max_tokens: 400, messages: [{ role: 'user', content: [text(SAMPLE_PROMPT), await image(3)] }] });
    expect(plain.content).toEqual([expect.objectContaining({ type: 'text', text: said })]);
    const tool = await client.messages.create({
      model: 'claude-sim',
      max_tokens: 400,
      tools: [REPORT_TOOL],
      tool_choice: { type: 'tool', name: 'quality_report' },
      messages: [{ role: 'user', content: [text('Report.'), await image(3)] }],
    });
    expect(tool.content).toEqual([expect.objectContaining({ type: 'tool_use', name: 'quality_report', input: report })]);
  });

  it('400 for what the real API rejects: n, trailing-space prefill, wrong media type, unknown forced tool', async () => {
    const base = await sample(3);
    const bad: unknown[] = [
      { ...base, n: 2 },
      { ...base, messages: [...base.messages, { role: 'assistant', content: 'The quality of the image is ' }] },
      { ...base, messages: [{ role: 'user', content: [{ ...(await image(3)), source: { type: 'base64', media_type: 'image/jpeg', data: cache.get('3/png') } }] }] },
      { ...base, tools: [REPORT_TOOL], tool_choice: { type: 'tool', name: 'nope' } },
    ];
    for (const params of bad) {
      const error = await client.messages.create(params as MessageCreateParamsNonStreaming).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      expect((error as InstanceType<typeof Anthropic.BadRequestError>).type).toBe('invalid_request_error');
    }
  });
});
