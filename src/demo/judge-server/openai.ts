/**
 * OpenAI chat-completions wire format (also what llama-server and vLLM speak):
 * `POST /v1/chat/completions` (and `/chat/completions`), `GET /v1/models`.
 * Usage: prompt_tokens = ceil(text characters / 4) + per image 85 + 170 per 512x512 tile
 * (85 alone with `detail: 'low'`); completion_tokens = simulated tokens over all choices.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { JudgeAnswer, StructuredMode } from './simulated-judge.js';
import {
  HttpError,
  randomId,
  startJudgeServer,
  type JudgeServer,
  type JudgeServerOptions,
  type ParsedRequest,
  type RawImage,
  type ResolvedOptions,
  type Usage,
  type WireProtocol,
} from './server.js';
import { openaiBatchWire } from './batches.js';

const DATA_URL = /^data:(image\/[a-z0-9.+-]+);base64,(.*)$/is;

const invalid = (message: string, param?: string, code?: string) =>
  new HttpError(400, message, { type: 'invalid_request_error', ...(param ? { param } : {}), ...(code ? { code } : {}) });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalInteger(body: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`Invalid '${key}': expected an integer in [${min}, ${max}], got ${JSON.stringify(value)}.`, key, 'invalid_value');
  }
  return value;
}

/** Text of a message's content, and its parts. */
function contentParts(content: unknown, where: string): Array<Record<string, unknown>> {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (content === null || content === undefined) return [];
  if (!Array.isArray(content)) throw invalid(`Invalid type for '${where}.content': expected a string or an array of parts.`, `${where}.content`);
  return content.map((part, i) => {
    if (!isRecord(part) || typeof part['type'] !== 'string') throw invalid(`Invalid '${where}.content[${i}]': expected an object with a type.`, `${where}.content[${i}]`);
    return part;
  });
}

function parse(body: unknown, _headers: IncomingHttpHeaders, options: ResolvedOptions): ParsedRequest {
  if (!isRecord(body)) throw invalid('The request body must be a JSON object.');
  const model = body['model'];
  if (typeof model !== 'string' || model === '') throw invalid("Missing required parameter: 'model'.", 'model', 'missing_required_parameter');
  if (body['stream'] === true) throw invalid('Streaming is not supported by the Quorum test server.', 'stream');
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalid("Invalid 'messages': expected a non-empty array.", 'messages', messages === undefined ? 'missing_required_parameter' : 'empty_array');
  }

  let textChars = 0;
  const system: string[] = [];
  let lastUser = -1;
  const parsed = messages.map((message, i) => {
    const where = `messages[${i}]`;
    if (!isRecord(message)) throw invalid(`Invalid '${where}': expected an object.`, where);
    const role = message['role'];
    if (role !== 'system' && role !== 'developer' && role !== 'user' && role !== 'assistant' && role !== 'tool') {
      throw invalid(`Invalid value for '${where}.role': ${JSON.stringify(role)}.`, `${where}.role`, 'invalid_value');
    }
    const parts = contentParts(message['content'], where);
    for (const part of parts) {
      if (part['type'] === 'text') {
        if (typeof part['text'] !== 'string') throw invalid(`Invalid '${where}.content': text parts need a string 'text'.`, `${where}.content`);
        textChars += part['text'].length;
        if (role === 'system' || role === 'developer') system.push(part['text']);
      } else if (part['type'] !== 'image_url' || role !== 'user') {
        throw invalid(`Invalid '${where}.content': part type '${String(part['type'])}' is not supported for role '${role}'.`, `${where}.content`);
      }
    }
    if (role === 'user') lastUser = i;
    return { role, parts };
  });

  const images: RawImage[] = [];
  const texts: string[] = [];
  const userParts = lastUser >= 0 ? parsed[lastUser]!.parts : [];
  userParts.forEach((part, i) => {
    if (part['type'] === 'text') {
      texts.push(part['text'] as string);
      return;
    }
    const imageUrl = part['image_url'];
    const url = isRecord(imageUrl) ? imageUrl['url'] : undefined;
    const match = typeof url === 'string' ? DATA_URL.exec(url) : null;
    if (!match) {
      throw invalid('Invalid image URL: this test server accepts only base64 data URLs (data:image/png;base64,...).', `messages[${lastUser}].content[${i}].image_url.url`, 'invalid_image_url');
    }
    const previous = userParts[i - 1];
    images.push({
      bytes: Buffer.from(match[2]!, 'base64'),
      mediaType: match[1]!.toLowerCase(),
      detail: isRecord(imageUrl) && typeof imageUrl['detail'] === 'string' ? imageUrl['detail'] : undefined,
      label: previous?.['type'] === 'text' ? (previous['text'] as string) : undefined,
    });
  });

  const last = parsed[parsed.length - 1]!;
  const prefill = last.role === 'assistant' ? last.parts.map((p) => p['text'] as string).join('') : undefined;

  const temperature = body['temperature'] ?? 1;
  if (typeof temperature !== 'number' || temperature < 0 || temperature > 2) {
    throw invalid(`Invalid 'temperature': expected a number in [0, 2], got ${JSON.stringify(temperature)}.`, 'temperature', 'invalid_value');
  }
  const asked = optionalInteger(body, 'n', 1, options.maxChoices) ?? 1;
  if (asked > 1 && options.choicesMode === 'reject-n') {
    // llama-server's answer to n > 1 (HTTP 500, not 400).
    throw new HttpError(500, 'Only one completion choice is allowed', { type: 'server_error' });
  }
  const n = options.choicesMode === 'ignore-n' ? 1 : asked;
  const logprobs = body['logprobs'];
  if (logprobs !== undefined && logprobs !== null && typeof logprobs !== 'boolean') throw invalid("Invalid 'logprobs': expected a boolean.", 'logprobs');
  const top = optionalInteger(body, 'top_logprobs', 0, 20);
  if (top !== undefined && logprobs !== true) {
    throw invalid("Invalid 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.", 'top_logprobs', 'invalid_value');
  }
  const maxTokens = optionalInteger(body, 'max_completion_tokens', 1, 1_000_000) ?? optionalInteger(body, 'max_tokens', 1, 1_000_000);
  const seed = optionalInteger(body, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);

  return {
    model,
    images,
    prompt: [...system, ...texts].join('\n'),
    prefill,
    structured: responseFormat(body['response_format']),
    // A server without log-probabilities accepts the fields and returns none.
    logprobs: logprobs === true && options.logprobs ? { top: top ?? 0 } : undefined,
    temperature,
    n,
    seed,
    maxTokens,
    textChars,
    wire: {},
  };
}

function responseFormat(format: unknown): StructuredMode | undefined {
  if (format === undefined || format === null) return undefined;
  if (!isRecord(format)) throw invalid("Invalid 'response_format': expected an object.", 'response_format');
  switch (format['type']) {
    case 'text':
      return undefined;
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      const spec = format['json_schema'];
      const name = isRecord(spec) ? spec['name'] : undefined;
      if (typeof name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(name)) {
        throw invalid("Invalid 'response_format.json_schema.name': expected 1-64 letters, digits, '_' or '-'.", 'response_format.json_schema.name', 'invalid_value');
      }
      return { type: 'schema', name };
    }
    default:
      throw invalid(`Invalid value for 'response_format.type': ${JSON.stringify(format['type'])}.`, 'response_format.type', 'invalid_value');
  }
}

function respond(parsed: ParsedRequest, result: JudgeAnswer, usage: Usage): unknown {
  return {
    id: `chatcmpl-${randomId()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: parsed.model,
    system_fingerprint: 'fp_quorum_sim',
    choices: result.choices.map((choice, index) => ({
      index,
      message: {
        role: 'assistant',
        content: choice.text,
        refusal: null,
        annotations: [],
      },
      logprobs: parsed.logprobs
        ? {
            content: choice.tokens.map((t) => ({
              token: t.token,
              logprob: t.logprob,
              bytes: [...Buffer.from(t.token, 'utf8')],
              top_logprobs: t.top.slice(0, parsed.logprobs!.top).map((alt) => ({
                token: alt.token,
                logprob: alt.logprob,
                bytes: [...Buffer.from(alt.token, 'utf8')],
              })),
            })),
            refusal: null,
          }
        : null,
      finish_reason: choice.finish,
    })),
    usage: {
      prompt_tokens: usage.inputTokens,
      completion_tokens: usage.outputTokens,
      total_tokens: usage.inputTokens + usage.outputTokens,
    },
  };
}

const OPENAI_TYPES: Record<string, string> = { api_error: 'server_error', not_found_error: 'invalid_request_error' };

function statusError(status: number, message?: string): HttpError {
  switch (status) {
    case 429:
      return new HttpError(429, message ?? 'Rate limit reached for requests. Please try again later.', { type: 'requests', code: 'rate_limit_exceeded' });
    case 408:
      return new HttpError(408, message ?? 'Request timed out.', { type: 'timeout' });
    case 503:
      return new HttpError(503, message ?? 'The engine is currently overloaded, please try again later.', { type: 'server_error' });
    default:
      return status >= 500
        ? new HttpError(status, message ?? 'The server had an error while processing your request. Sorry about that!', { type: 'server_error' })
        : new HttpError(status, message ?? `Request failed with status ${status}.`, { type: 'invalid_request_error' });
  }
}

export const openaiProtocol: WireProtocol = {
  batchWire: (book) => openaiBatchWire(book),
  name: 'openai',
  basePath: '/v1',
  requestIdHeader: 'x-request-id',
  newRequestId: () => `req_${randomId(16)}`,
  route(method, path) {
    if (method === 'POST' && (path === '/v1/chat/completions' || path === '/chat/completions')) return 'complete';
    if (method === 'GET' && (path === '/v1/models' || path === '/models')) return 'models';
    return undefined;
  },
  authorized: (headers, apiKey) => headers['authorization'] === `Bearer ${apiKey}`,
  authError(headers) {
    const given = headers['authorization']?.replace(/^Bearer\s+/i, '');
    return given
      ? new HttpError(401, `Incorrect API key provided: ${given.slice(0, 3)}***${given.slice(-4)}.`, { type: 'invalid_request_error', code: 'invalid_api_key' })
      : new HttpError(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.", {
          type: 'invalid_request_error',
        });
  },
  parse,
  imageTokens: ({ width, height, detail }) => (detail === 'low' ? 85 : 85 + 170 * Math.ceil(width / 512) * Math.ceil(height / 512)),
  respond: (parsed, result, usage) => respond(parsed, result, usage),
  errorBody: (error) => ({
    error: {
      message: error.message,
      type: OPENAI_TYPES[error.type ?? ''] ?? error.type ?? 'server_error',
      param: error.param ?? null,
      code: error.code ?? null,
    },
  }),
  statusError,
  withoutAnswer: (body, empty) => {
    const { choices: _choices, ...rest } = body as Record<string, unknown>;
    return empty ? { ...rest, choices: [] } : rest;
  },
  modelsBody: (models) => ({
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'quorum-test' })),
  }),
};

/**
 * Start an OpenAI-compatible judge server on 127.0.0.1. Give `server.url` to the SDK as
 * `baseURL`.
 * @example
 * const server = await startOpenAIServer({ apiKey: 'sk-test', seed: 1 });
 * const client = new OpenAI({ baseURL: server.url, apiKey: 'sk-test' });
 */
export function startOpenAIServer(options: JudgeServerOptions = {}): Promise<JudgeServer> {
  return startJudgeServer(openaiProtocol, options);
}
