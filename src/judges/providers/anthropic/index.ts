import { ConfigError } from '../../../core/errors.js';
import type { Completion, CompletionRequest, CompleteOptions, Provider, ProviderConfig } from '../../../core/provider.js';
import { providerSource } from '../../session/retry.js';
import { anthropicError, anthropicSdk, messagesBody, readMessage, type MessagesWire } from './_wire.js';
import { anthropicBatchClient } from './batch.js';
import { judgeFetch } from '../_fetch.js';
import { lazyClient } from '../_lazy-client.js';

const OFFICIAL = 'https://api.anthropic.com';

/**
 * Anthropic messages through the official SDK. No log-probabilities and one answer per
 * request; structured answers use a forced tool call; the forced prefix is a prefill.
 */
export function createAnthropicProvider(config: ProviderConfig): Provider {
  const baseURL = config.baseURL ?? OFFICIAL;
  const official = baseURL.replace(/\/+$/, '') === OFFICIAL;
  if (!config.apiKey) throw new ConfigError('ANTHROPIC_API_KEY is not set: export it to use the anthropic provider');
  const wire: MessagesWire = { model: config.model, source: providerSource('anthropic', official ? undefined : baseURL) };
  const apiKey = config.apiKey;
  const clientOf = lazyClient(async () => {
    const { default: Anthropic } = await anthropicSdk();
    return new Anthropic({ apiKey, baseURL, timeout: config.timeoutMs ?? 120_000, maxRetries: 0, fetch: judgeFetch });
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
    batch: anthropicBatchClient(clientOf, wire),
    async complete(request: CompletionRequest, options?: CompleteOptions): Promise<Completion> {
      let response;
      try {
        response = await (await clientOf()).messages.create(messagesBody(wire, request), { signal: options?.signal });
      } catch (error) {
        throw anthropicError(wire, error, options?.signal);
      }
      return readMessage(wire, response);
    },
  };
}
