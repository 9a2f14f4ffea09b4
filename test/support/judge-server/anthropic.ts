/**
 * Anthropic messages wire format: `POST /v1/messages`, `GET /v1/models`. No logprobs and
 * no `n` (both are a 400, as on the real API). Structured answers come through a tool
 * (`tool_use` block) or through `output_config.format` (a text block holding the JSON, as
 * `messages.parse()` expects). `temperature` (0-1) is honoured when sent, though SDK 1.x no
 * longer types it; without it the judge samples as at temperature 1. Role `system`
 * messages count as system text. Checks the real API's gotchas: the `anthropic-version`
 * header is required, a final assistant (prefill) message may not end in whitespace, an
 * image's bytes must match its declared media type.
 * Usage: input_tokens = ceil(text characters / 4) + per image ceil(width * height / 750);
 * output_tokens = simulated tokens of the answer.
 */
import { anthropicBatchWire } from '../../../src/demo/judge-server/batches.js';
import type { IncomingHttpHeaders } from 'node:http';
import type { JudgeAnswer, StructuredMode } from '../../../src/demo/judge-server/simulated-judge.js';
import {
  HttpError,
  randomId,
  startJudgeServer,
  type JudgeServer,
  type JudgeServerOptions,
  type ParsedRequest,
  type RawImage,
  type Usage,
  type WireProtocol,
} from '../../../src/demo/judge-server/server.js';

const MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
/** Tool names the simulated judge answers through unless tool_choice says otherwise. */
const KNOWN_TOOLS = new Set(['quality_report', 'comparison']);

const invalid = (message: string) => new HttpError(400, message, { type: 'invalid_request_error' });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function blocks(content: unknown, where: string): Array<Record<string, unknown>> {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid(`${where}.content: Input should be a valid string or list of content blocks`);
  return content.map((block, i) => {
    if (!isRecord(block) || typeof block['type'] !== 'string') throw invalid(`${where}.content.${i}: Input should be a content block with a type`);
    return block;
  });
}

function parse(body: unknown, headers: IncomingHttpHeaders): ParsedRequest {
  if (headers['anthropic-version'] === undefined) throw invalid('anthropic-version: header is required');
  if (!isRecord(body)) throw invalid('The request body must be a JSON object.');
  for (const extra of ['n', 'logprobs', 'top_logprobs']) {
    if (body[extra] !== undefined) throw invalid(`${extra}: Extra inputs are not permitted`);
  }
  const model = body['model'];
  if (typeof model !== 'string' || model === '') throw invalid('model: Field required');
  const maxTokens = body['max_tokens'];
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1) throw invalid('max_tokens: Field required (an integer >= 1)');
  if (body['stream'] === true) throw invalid('stream: streaming is not supported by the Quorum test server');
  const temperature = body['temperature'] ?? 1;
  if (typeof temperature !== 'number' || temperature < 0 || temperature > 1) throw invalid('temperature: Input should be a number in [0, 1]');
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages: at least one message is required');

  let textChars = 0;
  const system: string[] = [];
  const systemField = body['system'];
  if (systemField !== undefined) {
    for (const block of blocks(systemField, 'system')) {
      if (block['type'] !== 'text' || typeof block['text'] !== 'string') throw invalid('system: only text blocks are allowed');
      system.push(block['text']);
      textChars += block['text'].length;
    }
  }

  let lastUser = -1;
  const parsed = messages.map((message, i) => {
    const where = `messages.${i}`;
    if (!isRecord(message)) throw invalid(`${where}: Input should be an object`);
    const role = message['role'];
    if (role !== 'user' && role !== 'assistant' && role !== 'system') throw invalid(`${where}.role: Input should be 'user', 'assistant' or 'system'`);
    const content = blocks(message['content'], where);
    for (const [j, block] of content.entries()) {
      if (block['type'] === 'text') {
        if (typeof block['text'] !== 'string') throw invalid(`${where}.content.${j}.text: Field required`);
        textChars += block['text'].length;
        if (role === 'system') system.push(block['text']);
      } else if (block['type'] === 'image') {
        if (role !== 'user') throw invalid(`${where}.content.${j}: images are only allowed in user messages`);
      } else if (block['type'] !== 'tool_use' && block['type'] !== 'tool_result') {
        throw invalid(`${where}.content.${j}.type: unsupported block type '${String(block['type'])}'`);
      }
    }
    if (role === 'user') lastUser = i;
    return { role, content };
  });

  const images: RawImage[] = [];
  const texts: string[] = [];
  const userBlocks = lastUser >= 0 ? parsed[lastUser]!.content : [];
  userBlocks.forEach((block, j) => {
    if (block['type'] === 'text') texts.push(block['text'] as string);
    if (block['type'] !== 'image') return;
    const where = `messages.${lastUser}.content.${j}.source`;
    const source = block['source'];
    if (!isRecord(source) || source['type'] !== 'base64') throw invalid(`${where}: this test server accepts only base64 image sources`);
    const mediaType = source['media_type'];
    if (typeof mediaType !== 'string' || !MEDIA_TYPES.has(mediaType)) {
      throw invalid(`${where}.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`);
    }
    if (typeof source['data'] !== 'string') throw invalid(`${where}.data: Field required`);
    const previous = userBlocks[j - 1];
    images.push({
      bytes: Buffer.from(source['data'], 'base64'),
      mediaType,
      checkMediaType: true,
      label: previous?.['type'] === 'text' ? (previous['text'] as string) : undefined,
    });
  });

  const last = parsed[parsed.length - 1]!;
  let prefill: string | undefined;
  if (last.role === 'assistant') {
    prefill = last.content.map((b) => (b['type'] === 'text' ? (b['text'] as string) : '')).join('');
    if (/\s$/.test(prefill)) throw invalid('messages: final assistant content cannot end with trailing whitespace');
  }

  const tool = chooseTool(body['tools'], body['tool_choice']);
  const format = outputFormat(body['output_config']);
  const structured: StructuredMode | undefined = tool ? { type: 'schema', name: tool } : format ? { type: 'schema', name: 'output_format' } : undefined;
  return {
    model,
    images,
    prompt: [...system, ...texts].join('\n'),
    prefill,
    structured,
    temperature,
    n: 1,
    maxTokens,
    textChars,
    wire: tool ? { tool } : {},
  };
}

/** Whether `output_config.format` asks for JSON output (structured outputs). */
function outputFormat(config: unknown): boolean {
  if (config === undefined || config === null) return false;
  if (!isRecord(config)) throw invalid('output_config: Input should be an object');
  const format = config['format'];
  if (format === undefined || format === null) return false;
  if (!isRecord(format) || format['type'] !== 'json_schema' || !isRecord(format['schema'])) {
    throw invalid("output_config.format: Input should be { type: 'json_schema', schema: {...} }");
  }
  return true;
}

/** The tool the judge will call: forced by tool_choice, or a known one under `auto`. */
function chooseTool(tools: unknown, choice: unknown): string | undefined {
  if (tools === undefined) {
    if (choice !== undefined) throw invalid('tool_choice: may only be specified while providing tools');
    return undefined;
  }
  if (!Array.isArray(tools)) throw invalid('tools: Input should be a valid list');
  const names = tools.map((tool, i) => {
    if (!isRecord(tool) || typeof tool['name'] !== 'string' || !isRecord(tool['input_schema'])) {
      throw invalid(`tools.${i}: a tool needs a 'name' and an 'input_schema'`);
    }
    return tool['name'];
  });
  const type = isRecord(choice) ? choice['type'] : choice === undefined ? 'auto' : undefined;
  switch (type) {
    case 'tool': {
      const name = (choice as Record<string, unknown>)['name'];
      if (typeof name !== 'string' || !names.includes(name)) throw invalid(`tool_choice.name: tool '${String(name)}' is not in tools`);
      return name;
    }
    case 'any':
      return names[0];
    case 'auto':
      return names.find((name) => KNOWN_TOOLS.has(name));
    case 'none':
      return undefined;
    default:
      throw invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
  }
}

function respond(parsed: ParsedRequest, result: JudgeAnswer, usage: Usage): unknown {
  const choice = result.choices[0]!;
  const tool = parsed.wire['tool'];
  const useTool = typeof tool === 'string' && choice.structured !== undefined;
  return {
    id: `msg_${randomId()}`,
    type: 'message',
    role: 'assistant',
    model: parsed.model,
    content: useTool
      ? [{ type: 'tool_use', id: `toolu_${randomId()}`, name: tool, input: choice.structured, caller: { type: 'direct' } }]
      : [{ type: 'text', text: choice.text, citations: null }],
    stop_reason: choice.finish === 'length' ? 'max_tokens' : useTool ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: {
      input_tokens: usage.inputTokens,
      output_tokens: usage.outputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: null,
      inference_geo: null,
      output_tokens_details: null,
      server_tool_use: null,
      service_tier: 'standard',
      speed: null,
    },
  };
}

const TYPE_BY_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};
const ANTHROPIC_TYPES = new Set(Object.values(TYPE_BY_STATUS));

function typeFor(status: number): string {
  return TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

const MESSAGES: Record<string, string> = {
  rate_limit_error: 'Number of requests has exceeded your rate limit. Please try again later.',
  overloaded_error: 'Overloaded',
  api_error: 'Internal server error',
  timeout_error: 'Request timed out',
};

export const anthropicProtocol: WireProtocol = {
  batchWire: (book, origin) => anthropicBatchWire(book, origin),
  name: 'anthropic',
  basePath: '',
  requestIdHeader: 'request-id',
  newRequestId: () => `req_${randomId(16)}`,
  route(method, path) {
    if (method === 'POST' && path === '/v1/messages') return 'complete';
    if (method === 'GET' && path === '/v1/models') return 'models';
    return undefined;
  },
  authorized: (headers, apiKey) => headers['x-api-key'] === apiKey || headers['authorization'] === `Bearer ${apiKey}`,
  authError: () => new HttpError(401, 'invalid x-api-key', { type: 'authentication_error' }),
  parse: (body, headers) => parse(body, headers),
  imageTokens: ({ width, height }) => Math.ceil((width * height) / 750),
  respond: (parsed, result, usage) => respond(parsed, result, usage),
  errorBody: (error) => ({
    type: 'error',
    error: { type: error.type && ANTHROPIC_TYPES.has(error.type) ? error.type : typeFor(error.status), message: error.message },
  }),
  statusError: (status, message) => {
    const type = typeFor(status);
    return new HttpError(status, message ?? MESSAGES[type] ?? `Request failed with status ${status}`, { type });
  },
  withoutAnswer: (body) => {
    const { content: _content, ...rest } = body as Record<string, unknown>;
    return rest;
  },
  modelsBody: (models) => ({
    data: models.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' })),
    has_more: false,
    first_id: models[0] ?? null,
    last_id: models[models.length - 1] ?? null,
  }),
};

/**
 * Start an Anthropic-compatible judge server on 127.0.0.1. Give `server.url` to the SDK
 * as `baseURL`.
 * @example
 * const server = await startAnthropicServer({ apiKey: 'sk-ant-test' });
 * const client = new Anthropic({ baseURL: server.url, apiKey: 'sk-ant-test' });
 */
export function startAnthropicServer(options: JudgeServerOptions = {}): Promise<JudgeServer> {
  return startJudgeServer(anthropicProtocol, options);
}
