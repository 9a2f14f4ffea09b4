import type OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionContentPart,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import type { Completion, CompletionRequest } from '../../../core/provider.js';
import { connectionError, httpProviderError, transportError } from '../../session/retry.js';

/**
 * The OpenAI chat-completions wire format, written once for live calls (`complete`) and
 * batch lines (`batch.ts`): the same body goes out and the same reading comes back.
 */

export interface ChatWire {
  model: string;
  /** The hosted API (max_completion_tokens, no prefill) rather than a compatible server. */
  official: boolean;
  /** Whether the forced prefix is sent as a final assistant message. */
  prefill: boolean;
  /** Names the server in messages (`openai at 127.0.0.1:8080`). */
  source: string;
}

/** The chat-completions body for one request. */
export function chatBody(wire: ChatWire, request: CompletionRequest): ChatCompletionCreateParamsNonStreaming {
  const messages: ChatCompletionMessageParam[] = request.messages.map((m) => {
    if (typeof m.content === 'string') return { role: m.role, content: m.content } as ChatCompletionMessageParam;
    const parts: ChatCompletionContentPart[] = m.content.map((p) =>
      p.type === 'text'
        ? { type: 'text', text: p.text }
        : { type: 'image_url', image_url: { url: `data:${p.mediaType};base64,${Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).toString('base64')}` } },
    );
    return { role: 'user', content: parts };
  });
  if (request.prefill && wire.prefill) messages.push({ role: 'assistant', content: request.prefill });
  return {
    model: wire.model,
    messages,
    temperature: request.temperature,
    ...(wire.official ? { max_completion_tokens: request.maxTokens } : { max_tokens: request.maxTokens }),
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
}

/** Reads a chat completion (a live answer, or a batch line's `response.body`). */
export function readChatCompletion(wire: ChatWire, response: unknown, requestId?: string): Completion {
  // The SDK hands back a non-JSON body as a string.
  const r = response as ChatCompletion | string | null;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.choices) || r.choices.length === 0) {
    throw transportError(
      'openai',
      typeof r === 'string' ? `HTTP 200 with a body that is not JSON (${JSON.stringify(r.slice(0, 60))})` : 'HTTP 200 without `choices` (missing or empty)',
      wire.source,
    );
  }
  return {
    choices: r.choices.map((c) => ({
      text: c.message.content ?? '',
      finishReason: c.finish_reason,
      logprobs: c.logprobs?.content?.map((t) => ({
        token: t.token,
        logprob: t.logprob,
        top: (t.top_logprobs ?? []).map((x) => ({ token: x.token, logprob: x.logprob })),
      })),
    })),
    usage: {
      inputTokens: r.usage?.prompt_tokens ?? 0,
      outputTokens: r.usage?.completion_tokens ?? 0,
    },
    model: r.model,
    requestId: requestId ?? (r as { _request_id?: string | null })._request_id ?? undefined,
  };
}

let sdk: typeof import('openai') | undefined;

/**
 * The openai SDK (about 150 modules), loaded when the first request or batch goes out:
 * a cached rerun sends nothing and never pays for it.
 */
export async function openaiSdk(): Promise<typeof import('openai')> {
  return (sdk ??= await import('openai'));
}

/** An SDK failure as Quorum's provider error (aborts are rethrown as they are). */
export function openaiError(wire: ChatWire, error: unknown, signal?: AbortSignal): unknown {
  // Before the SDK is loaded, nothing can have thrown one of its errors.
  const SDK = sdk?.default;
  if ((SDK && error instanceof SDK.APIUserAbortError) || signal?.aborted) return error;
  if (SDK && error instanceof SDK.APIConnectionTimeoutError) return connectionError('openai', error, true, wire.source);
  if (SDK && error instanceof SDK.APIConnectionError) return connectionError('openai', error, false, wire.source);
  if (SDK && error instanceof SDK.APIError && error.status !== undefined) {
    const message = (error.error as { message?: string } | undefined)?.message ?? error.message;
    return httpProviderError('openai', error.status, message, {
      source: wire.source,
      requestId: error.requestID ?? undefined,
      headers: error.headers,
      cause: error,
    });
  }
  // Anything else happened while reading the answer: a body cut off mid-way
  // (`terminated`), or JSON that does not parse.
  return transportError('openai', error instanceof Error ? error.message : String(error), wire.source, error);
}
