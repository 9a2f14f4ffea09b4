import OpenAI from 'openai';
import type {
  ChatCompletionContentPart,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { ConfigError } from '../../../core/errors.js';
import type { Completion, CompletionRequest, CompleteOptions, Provider, ProviderConfig } from '../../../core/provider.js';
import { connectionError, httpProviderError, providerSource, transportError } from '../../session/retry.js';

const OFFICIAL = 'https://api.openai.com/v1';

/**
 * OpenAI chat completions through the official SDK. With `baseURL` it talks to any
 * OpenAI-compatible server (llama-server, vLLM, Ollama, LM Studio); those continue a
 * final assistant message, so the forced prefix is sent as a prefill there. The hosted
 * API cannot prefill: the prompt asks the model to write the prefix itself.
 */
export function createOpenAIProvider(config: ProviderConfig): Provider {
  const baseURL = config.baseURL ?? OFFICIAL;
  const official = baseURL.replace(/\/+$/, '') === OFFICIAL;
  if (official && !config.apiKey) {
    throw new ConfigError('OPENAI_API_KEY is not set: export it, or pass --base-url for a local server');
  }
  const client = new OpenAI({
    apiKey: config.apiKey ?? 'not-needed',
    baseURL,
    timeout: config.timeoutMs ?? 120_000,
    maxRetries: 0, // Quorum's retry policy (judges/session/retry.ts) is the only one
  });
  const source = providerSource('openai', official ? undefined : baseURL);
  const prefill = config.options?.['prefill'] !== undefined ? Boolean(config.options['prefill']) : !official;

  return {
    id: 'openai',
    model: config.model,
    maxImageSide: config.maxImageSide ?? 1536,
    capabilities: {
      logprobs: true,
      multipleChoices: true,
      structuredOutput: true,
      prefill,
      candidateProbabilities: false,
      images: true,
    },
    endpoint: baseURL,
    identity: () => (official ? {} : { baseURL }),
    async complete(request: CompletionRequest, options?: CompleteOptions): Promise<Completion> {
      const messages: ChatCompletionMessageParam[] = request.messages.map((m) => {
        if (typeof m.content === 'string') return { role: m.role, content: m.content } as ChatCompletionMessageParam;
        const parts: ChatCompletionContentPart[] = m.content.map((p) =>
          p.type === 'text'
            ? { type: 'text', text: p.text }
            : { type: 'image_url', image_url: { url: `data:${p.mediaType};base64,${Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).toString('base64')}` } },
        );
        return { role: 'user', content: parts };
      });
      if (request.prefill && prefill) messages.push({ role: 'assistant', content: request.prefill });
      const body: ChatCompletionCreateParamsNonStreaming = {
        model: config.model,
        messages,
        temperature: request.temperature,
        ...(official ? { max_completion_tokens: request.maxTokens } : { max_tokens: request.maxTokens }),
        ...(request.n && request.n > 1 ? { n: request.n } : {}),
        ...(request.seed !== undefined ? { seed: request.seed } : {}),
        ...(request.logprobs ? { logprobs: true, top_logprobs: request.logprobs.top } : {}),
        ...(request.responseSchema
          ? {
              response_format: {
                type: 'json_schema',
                json_schema: { name: request.responseSchema.name, schema: request.responseSchema.schema, strict: true },
              },
            }
          : {}),
      };
      let response;
      try {
        response = await client.chat.completions.create(body, { signal: options?.signal });
      } catch (error) {
        if (error instanceof OpenAI.APIUserAbortError || options?.signal?.aborted) throw error;
        if (error instanceof OpenAI.APIConnectionTimeoutError) throw connectionError('openai', error, true, source);
        if (error instanceof OpenAI.APIConnectionError) throw connectionError('openai', error, false, source);
        if (error instanceof OpenAI.APIError && error.status !== undefined) {
          const message = (error.error as { message?: string } | undefined)?.message ?? error.message;
          throw httpProviderError('openai', error.status, message, {
            source,
            requestId: error.requestID ?? undefined,
            headers: error.headers,
            cause: error,
          });
        }
        // Anything else happened while reading the answer: a body cut off mid-way
        // (`terminated`), or JSON that does not parse.
        throw transportError('openai', error instanceof Error ? error.message : String(error), source, error);
      }
      // The SDK hands back a non-JSON body as a string.
      if (typeof response !== 'object' || response === null || !Array.isArray(response.choices) || response.choices.length === 0) {
        throw transportError('openai', typeof response === 'string' ? `HTTP 200 with a body that is not JSON (${JSON.stringify((response as string).slice(0, 60))})` : 'HTTP 200 without `choices` (missing or empty)', source);
      }
      return {
        choices: response.choices.map((c) => ({
          text: c.message.content ?? '',
          finishReason: c.finish_reason,
          logprobs: c.logprobs?.content?.map((t) => ({
            token: t.token,
            logprob: t.logprob,
            top: (t.top_logprobs ?? []).map((x) => ({ token: x.token, logprob: x.logprob })),
          })),
        })),
        usage: {
          inputTokens: response.usage?.prompt_tokens ?? 0,
          outputTokens: response.usage?.completion_tokens ?? 0,
        },
        model: response.model,
        requestId: response._request_id ?? undefined,
      };
    },
  };
}
