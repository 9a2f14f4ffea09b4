import Anthropic from '@anthropic-ai/sdk';
import type { ContentBlockParam, MessageCreateParamsNonStreaming, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { ConfigError } from '../../../core/errors.js';
import type { Completion, CompletionRequest, CompleteOptions, Provider, ProviderConfig } from '../../../core/provider.js';
import { connectionError, httpProviderError, providerSource, transportError } from '../../session/retry.js';

const OFFICIAL = 'https://api.anthropic.com';

/**
 * Anthropic messages through the official SDK. No log-probabilities and one answer per
 * request; structured answers use a forced tool call; the forced prefix is a prefill.
 */
export function createAnthropicProvider(config: ProviderConfig): Provider {
  const baseURL = config.baseURL ?? OFFICIAL;
  const official = baseURL.replace(/\/+$/, '') === OFFICIAL;
  if (!config.apiKey) throw new ConfigError('ANTHROPIC_API_KEY is not set: export it to use the anthropic provider');
  const source = providerSource('anthropic', official ? undefined : baseURL);
  const client = new Anthropic({
    apiKey: config.apiKey,
    baseURL,
    timeout: config.timeoutMs ?? 120_000,
    maxRetries: 0,
  });

  return {
    id: 'anthropic',
    model: config.model,
    maxImageSide: config.maxImageSide ?? 1568,
    capabilities: {
      logprobs: false,
      multipleChoices: false,
      structuredOutput: true,
      prefill: true,
      candidateProbabilities: false,
      images: true,
    },
    endpoint: baseURL,
    identity: () => (official ? {} : { baseURL }),
    async complete(request: CompletionRequest, options?: CompleteOptions): Promise<Completion> {
      const system = request.messages
        .filter((m) => m.role === 'system')
        .map((m) => (typeof m.content === 'string' ? m.content : m.content.map((p) => (p.type === 'text' ? p.text : '')).join('\n')))
        .join('\n');
      const messages: MessageParam[] = request.messages
        .filter((m) => m.role !== 'system')
        .map((m) => {
          if (typeof m.content === 'string') return { role: m.role as 'user' | 'assistant', content: m.content };
          const blocks: ContentBlockParam[] = m.content.map((p) =>
            p.type === 'text'
              ? { type: 'text', text: p.text }
              : {
                  type: 'image',
                  source: { type: 'base64', media_type: p.mediaType, data: Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).toString('base64') },
                },
          );
          return { role: m.role as 'user' | 'assistant', content: blocks };
        });
      const tool = request.responseSchema;
      if (request.prefill && !tool) messages.push({ role: 'assistant', content: request.prefill });
      const body: MessageCreateParamsNonStreaming = {
        model: config.model,
        max_tokens: request.maxTokens,
        messages,
        // Temperature 1 is the API's default; this SDK version no longer types the field
        // (newer models fix sampling), so it is sent only when a user asks for another value.
        ...(request.temperature !== 1 ? ({ temperature: request.temperature } as object) : {}),
        ...(system ? { system } : {}),
        ...(tool
          ? {
              tools: [
                {
                  name: tool.name,
                  description: tool.description ?? tool.name,
                  input_schema: tool.schema as { type: 'object'; [k: string]: unknown },
                },
              ],
              tool_choice: { type: 'tool', name: tool.name },
            }
          : {}),
      };
      let response;
      try {
        response = await client.messages.create(body, { signal: options?.signal });
      } catch (error) {
        if (error instanceof Anthropic.APIUserAbortError || options?.signal?.aborted) throw error;
        if (error instanceof Anthropic.APIConnectionTimeoutError) throw connectionError('anthropic', error, true, source);
        if (error instanceof Anthropic.APIConnectionError) throw connectionError('anthropic', error, false, source);
        if (error instanceof Anthropic.APIError && error.status !== undefined) {
          const inner = (error.error as { error?: { message?: string } } | undefined)?.error?.message;
          throw httpProviderError('anthropic', error.status, inner ?? error.message, {
            source,
            requestId: error.requestID ?? undefined,
            headers: error.headers,
            cause: error,
          });
        }
        throw transportError('anthropic', error instanceof Error ? error.message : String(error), source, error);
      }
      if (typeof response !== 'object' || response === null || !Array.isArray(response.content)) {
        throw transportError('anthropic', typeof response === 'string' ? 'HTTP 200 with a body that is not JSON' : 'HTTP 200 without `content`', source);
      }
      let text = '';
      let structured: unknown;
      for (const block of response.content) {
        if (block.type === 'text') text += block.text;
        else if (block.type === 'tool_use') structured = block.input;
      }
      if (structured !== undefined && !text) text = JSON.stringify(structured);
      return {
        choices: [{ text, finishReason: response.stop_reason ?? undefined, ...(structured !== undefined ? { structured } : {}) }],
        usage: { inputTokens: response.usage.input_tokens, outputTokens: response.usage.output_tokens },
        model: response.model,
        requestId: response._request_id ?? undefined,
      };
    },
  };
}
