import type OpenAI from 'openai';
import { ConfigError } from '../../../core/errors.js';
import type { Completion, CompletionRequest, CompleteOptions, Provider, ProviderConfig } from '../../../core/provider.js';
import { providerSource } from '../../session/retry.js';
import { chatBody, openaiError, openaiSdk, readChatCompletion, type ChatWire } from './_wire.js';
import { openaiBatchClient } from './batch.js';
import { judgeFetch } from '../_fetch.js';
import { lazyClient } from '../_lazy-client.js';

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
  const clientOf = lazyClient(async () => {
    const { default: OpenAI } = await openaiSdk();
    return new OpenAI({
      apiKey: config.apiKey ?? 'not-needed',
      baseURL,
      timeout: config.timeoutMs ?? 120_000,
      maxRetries: 0, // Quorum's retry policy (judges/session/retry.ts) is the only one
      fetch: judgeFetch,
    });
  });
  const prefill = config.options?.['prefill'] !== undefined ? Boolean(config.options['prefill']) : !official;
  const wire: ChatWire = { model: config.model, official, prefill, source: providerSource('openai', official ? undefined : baseURL) };

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
    batch: openaiBatchClient(clientOf, wire),
    async complete(request: CompletionRequest, options?: CompleteOptions): Promise<Completion> {
      let response;
      try {
        response = await (await clientOf()).chat.completions.create(chatBody(wire, request), { signal: options?.signal });
      } catch (error) {
        throw openaiError(wire, error, options?.signal);
      }
      return readChatCompletion(wire, response);
    },
  };
}
