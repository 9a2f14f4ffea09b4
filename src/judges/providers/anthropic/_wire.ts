import type Anthropic from '@anthropic-ai/sdk';
import type { ContentBlockParam, Message as AnthropicMessage, MessageCreateParamsNonStreaming, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import type { Completion, CompletionRequest } from '../../../core/provider.js';
import { connectionError, httpProviderError, transportError } from '../../session/retry.js';

/**
 * The Anthropic messages wire format, written once for live calls (`complete`) and
 * Message Batches (`batch.ts`): the same `params` go out and the same reading comes back.
 */

export interface MessagesWire {
  model: string;
  /** Names the server in messages. */
  source: string;
}

/** The messages body for one request. */
export function messagesBody(wire: MessagesWire, request: CompletionRequest): MessageCreateParamsNonStreaming {
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
  return {
    model: wire.model,
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
}

/** Reads a message (a live answer, or a batch result's `result.message`). */
export function readMessage(wire: MessagesWire, response: unknown, requestId?: string): Completion {
  const r = response as AnthropicMessage | string | null;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.content)) {
    throw transportError('anthropic', typeof r === 'string' ? 'HTTP 200 with a body that is not JSON' : 'HTTP 200 without `content`', wire.source);
  }
  let text = '';
  let structured: unknown;
  for (const block of r.content) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'tool_use') structured = block.input;
  }
  if (structured !== undefined && !text) text = JSON.stringify(structured);
  return {
    choices: [{ text, finishReason: r.stop_reason ?? undefined, ...(structured !== undefined ? { structured } : {}) }],
    usage: { inputTokens: r.usage.input_tokens, outputTokens: r.usage.output_tokens },
    model: r.model,
    requestId: requestId ?? (r as { _request_id?: string | null })._request_id ?? undefined,
  };
}

let sdk: typeof import('@anthropic-ai/sdk') | undefined;

/** The Anthropic SDK, loaded when the first request or batch goes out (see `lazyClient`). */
export async function anthropicSdk(): Promise<typeof import('@anthropic-ai/sdk')> {
  return (sdk ??= await import('@anthropic-ai/sdk'));
}

/** An SDK failure as Quorum's provider error (aborts are rethrown as they are). */
export function anthropicError(wire: MessagesWire, error: unknown, signal?: AbortSignal): unknown {
  // Before the SDK is loaded, nothing can have thrown one of its errors.
  const SDK = sdk?.default;
  if ((SDK && error instanceof SDK.APIUserAbortError) || signal?.aborted) return error;
  if (SDK && error instanceof SDK.APIConnectionTimeoutError) return connectionError('anthropic', error, true, wire.source);
  if (SDK && error instanceof SDK.APIConnectionError) return connectionError('anthropic', error, false, wire.source);
  if (SDK && error instanceof SDK.APIError && error.status !== undefined) {
    const inner = (error.error as { error?: { message?: string } } | undefined)?.error?.message;
    return httpProviderError('anthropic', error.status, inner ?? error.message, {
      source: wire.source,
      requestId: error.requestID ?? undefined,
      headers: error.headers,
      cause: error,
    });
  }
  return transportError('anthropic', error instanceof Error ? error.message : String(error), wire.source, error);
}
