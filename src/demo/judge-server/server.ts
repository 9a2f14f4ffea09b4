/**
 * The HTTP core of the simulated judge servers (`quorum demo` and the tests' OpenAI and
 * Anthropic servers): listening, auth, fault injection, latency, image decoding, the
 * request log and the counters. A `WireProtocol` (openai.ts here; the tests add an
 * Anthropic one) turns bodies into a `JudgeRequest` and answers into bodies.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { BatchBook, type BatchServerOptions, type BatchWire } from './batches.js';
import { decodeImage, type DecodedImage } from './quality.js';
import { createRng } from './random.js';
import {
  answer,
  contentKey,
  DEFAULT_JUDGE_OPTIONS,
  type ContentFault,
  type JudgeAnswer,
  type JudgeImage,
  type JudgeOptions,
  type JudgeRequest,
  type TaskKind,
  tokenize,
} from './simulated-judge.js';

/**
 * A misbehaviour for one request. Queued with `failNext` (one per completion request, in
 * arrival order) or drawn with `faultRate`.
 * - `status`: answer with this HTTP status and the protocol's error body; `retryAfter` sets
 *   the `retry-after` header (seconds, or an HTTP date), `retryAfterMs` sets `retry-after-ms`.
 * - `drop`: destroy the socket without answering (the SDK sees a connection error).
 * - `slow`: wait `ms` more before answering normally.
 * - `invalid-json`: HTTP 200, the answer is truncated JSON text (Anthropic: a text block, no tool_use).
 * - `missing-tags`: HTTP 200, the answer is `I think the image is decent.` (no tags, no JSON).
 * - `out-of-range`: HTTP 200, score 7.5 / verdict `much better` / level slot on ` 7`.
 * - `text`: HTTP 200, prose that ignores the asked format (levels: level coverage 0.05).
 * - `say`: HTTP 200 whose answer text is exactly `text` (every choice; OpenAI `content`,
 *   Anthropic a text block; log-probabilities, if asked, are its own tokens only): puts
 *   any words in the judge's mouth, e.g. markup a report must show as text. Where the
 *   request forces a tool (Anthropic) and `text` is a JSON object, the tool call carries
 *   that object instead.
 * Transport faults (the answer is broken in transit, not by the model):
 * - `cut-body`: HTTP 200 with the full `content-length`, then the connection drops halfway
 *   through the body (undici reports `terminated`).
 * - `not-json`: HTTP 200 whose body is not JSON: an HTML error page, as a proxy sends,
 *   served as `contentType` (default `text/html`; `application/json` makes the SDK's JSON
 *   parse fail instead).
 * - `no-choices`: HTTP 200, JSON without the answer: no `choices` (OpenAI), no `content`
 *   (Anthropic); with `empty`, OpenAI's `choices` is there but `[]`.
 */
export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; retryAfterMs?: number; message?: string }
  | { kind: 'drop' }
  | { kind: 'slow'; ms: number }
  | { kind: 'cut-body' }
  | { kind: 'not-json'; contentType?: string }
  | { kind: 'no-choices'; empty?: boolean }
  | { kind: 'say'; text: string }
  | { kind: ContentFault };

/** Faults decided by the server, not by the simulated judge's answer. */
const TRANSPORT_FAULTS = new Set<Fault['kind']>(['slow', 'drop', 'status', 'cut-body', 'not-json', 'no-choices', 'say']);
/** Faults that break a 200 answer in transit: not counted in `calls`. */
const BROKEN_ANSWERS = new Set<Fault['kind']>(['cut-body', 'not-json', 'no-choices']);

export interface JudgeServerOptions extends Partial<JudgeOptions> {
  /** When set, requests must carry this key (OpenAI `Authorization: Bearer`, Anthropic `x-api-key`); else 401. */
  apiKey?: string | undefined;
  /** Port on 127.0.0.1. @default 0 (any free port) */
  port?: number;
  /** Delay before every completion answer, in milliseconds. @default 0 */
  latencyMs?: number;
  /** Plants the true quality of an image; the result is clamped to [1, 5]. @default measured quality */
  qualityOf?: ((image: DecodedImage) => number) | undefined;
  /** Largest `n` accepted (OpenAI); more is a 400. @default 16 */
  maxChoices?: number;
  /** Model names the server knows; others get 404. @default any model is accepted */
  models?: string[] | undefined;
  /** Probability that a completion request gets a fault drawn from `faultKinds` (seeded by request index). @default 0 */
  faultRate?: number;
  /** @default [{ kind: 'status', status: 500 }] */
  faultKinds?: Fault[];
  /**
   * How the server treats `n` (OpenAI): `honour` answers n choices; `ignore-n` always
   * answers one (as several OpenAI-compatible servers do); `reject-n` answers n > 1 with
   * HTTP 500 `Only one completion choice is allowed` (as llama-server does).
   * @default 'honour'
   */
  choicesMode?: 'honour' | 'ignore-n' | 'reject-n';
  /**
   * Whether answers carry the log-probabilities asked for (OpenAI). `false` ignores
   * `logprobs`/`top_logprobs` as servers without that feature do: no error, none returned.
   * @default true
   */
  logprobs?: boolean;
  /** How batches behave (protocols with a batch API: OpenAI Files/Batches, Anthropic Message Batches). */
  batch?: BatchServerOptions | undefined;
}

export interface RecordedImage {
  sha256: string;
  width: number;
  height: number;
  label?: string | undefined;
  /** The true quality the judge used. */
  quality: number;
}

/** One HTTP request the server received, filled in as it is handled. */
export interface RecordedRequest {
  /** Arrival order, from 0 (reset by `resetCounts`). */
  index: number;
  method: string;
  path: string;
  endpoint: 'complete' | 'models' | 'batch' | 'unknown';
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, `undefined` when there was none or it was not JSON. */
  body: unknown;
  /** The fault consumed by this request, if any. */
  fault?: Fault | undefined;
  task?: TaskKind | undefined;
  subject?: 'single' | 'pair' | 'none' | undefined;
  images?: RecordedImage[] | undefined;
  /** HTTP status sent; `undefined` while pending, for dropped requests and for clients that went away. */
  status?: number | undefined;
  /** The request id header sent back. */
  requestId: string;
  startedAt: number;
  durationMs?: number | undefined;
}

/** A handle on a running test server. */
export interface JudgeServer {
  readonly protocol: 'openai' | 'anthropic';
  /** Base URL for the SDK: `http://127.0.0.1:PORT/v1` (OpenAI) or `http://127.0.0.1:PORT` (Anthropic). */
  readonly url: string;
  readonly port: number;
  readonly apiKey: string | undefined;
  /** Completion requests answered with a 2xx status and a whole answer (content faults and `slow` included; `cut-body`, `not-json` and `no-choices` not). */
  readonly calls: number;
  /** Batches created through the batch API (submissions), and batch requests the judge answered (not in `calls`). */
  readonly batches: { readonly created: number; readonly answered: number };
  /** Completion requests that took a fault (any kind), whether or not they were answered. */
  readonly faults: number;
  /** Every request received, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Faults queued by `failNext` and not consumed yet. */
  readonly queuedFaults: number;
  /** Zero `calls` and `faults`, empty `requests`, forget occurrences (answers repeat as from a fresh server). */
  resetCounts(): void;
  /** Queue faults for the next completion requests, one each, in order. */
  failNext(...faults: Fault[]): void;
  /** Drop queued faults. */
  clearFaults(): void;
  /** Change options on the running server (port excepted). */
  setOptions(options: Omit<JudgeServerOptions, 'port'>): void;
  /** Stop listening, end open connections and pending waits. */
  close(): Promise<void>;
}

/** An error answered over HTTP in the protocol's error format. */
export class HttpError extends Error {
  readonly status: number;
  readonly type: string | undefined;
  readonly code: string | undefined;
  readonly param: string | undefined;
  constructor(status: number, message: string, fields: { type?: string; code?: string; param?: string } = {}) {
    super(message);
    this.status = status;
    this.type = fields.type;
    this.code = fields.code;
    this.param = fields.param;
  }
}

/** An image as found in a request, before decoding. */
export interface RawImage {
  bytes: Uint8Array;
  label?: string | undefined;
  /** Declared media type; checked against the bytes when `checkMediaType`. */
  mediaType?: string | undefined;
  checkMediaType?: boolean;
  /** OpenAI `detail`. */
  detail?: string | undefined;
}

/** What a protocol extracts from a request body. */
export interface ParsedRequest extends Omit<JudgeRequest, 'images'> {
  model: string;
  images: RawImage[];
  /** Characters of text in the request (system, every message, prefill), for usage. */
  textChars: number;
  /** Protocol details the answer needs (e.g. the tool to call). */
  wire: Record<string, unknown>;
}

export interface Usage {
  inputTokens: number;
  /** Summed over choices. */
  outputTokens: number;
}

export interface WireProtocol {
  readonly name: 'openai' | 'anthropic';
  /** Appended to the origin to make the SDK base URL. */
  readonly basePath: string;
  readonly requestIdHeader: string;
  newRequestId(): string;
  route(method: string, path: string): 'complete' | 'models' | undefined;
  authorized(headers: IncomingHttpHeaders, apiKey: string): boolean;
  /** The request's key problem, as a 401 message. */
  authError(headers: IncomingHttpHeaders): HttpError;
  parse(body: unknown, headers: IncomingHttpHeaders, options: ResolvedOptions): ParsedRequest;
  imageTokens(image: { width: number; height: number; detail?: string | undefined }): number;
  respond(parsed: ParsedRequest, answer: JudgeAnswer, usage: Usage, requestId: string): unknown;
  errorBody(error: HttpError): unknown;
  /** Default error type/code for a bare status (fault answers). */
  statusError(status: number, message?: string): HttpError;
  modelsBody(models: string[]): unknown;
  /** The protocol's batch API, when the server offers one. */
  batchWire?(book: BatchBook, origin: () => string): BatchWire;
  /** An answer body with the answer taken out (`no-choices` fault): OpenAI without `choices`, Anthropic without `content`. */
  withoutAnswer(body: unknown, empty: boolean): unknown;
}

export type ResolvedOptions = JudgeOptions &
  Required<Pick<JudgeServerOptions, 'latencyMs' | 'maxChoices' | 'faultRate' | 'faultKinds' | 'choicesMode' | 'logprobs'>> &
  Pick<JudgeServerOptions, 'apiKey' | 'qualityOf' | 'models' | 'batch'>;

/** Usage estimate for text: ceil(characters / 4). */
export const textTokens = (chars: number): number => Math.ceil(chars / 4);

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const CACHE_LIMIT = 4096;

/**
 * Start a judge server for a wire protocol on 127.0.0.1 (`startOpenAIServer` and
 * `startAnthropicServer` are this with their protocol). Resolves once listening.
 */
export async function startJudgeServer(protocol: WireProtocol, options: JudgeServerOptions = {}): Promise<JudgeServer> {
  let settings = resolve(options);
  let requests: RecordedRequest[] = [];
  let calls = 0;
  let faultCount = 0;
  let arrivals = 0;
  let occurrences = new Map<string, number>();
  const queue: Fault[] = [];
  const decoded = new Map<string, Promise<DecodedImage>>();
  const sockets = new Set<Socket>();
  const waits = new Set<{ timer: NodeJS.Timeout; done: () => void }>();
  let closed = false;
  const book = new BatchBook();
  let origin = '';
  const batchWire = protocol.batchWire?.(book, () => origin);

  const sleep = (ms: number) =>
    ms <= 0
      ? Promise.resolve()
      : new Promise<void>((resolveWait) => {
          const wait = {
            timer: setTimeout(() => {
              waits.delete(wait);
              resolveWait();
            }, ms),
            done: resolveWait,
          };
          waits.add(wait);
        });

  const decode = (bytes: Uint8Array): Promise<DecodedImage> => {
    const hash = createHash('sha256').update(bytes).digest('hex');
    let pending = decoded.get(hash);
    if (!pending) {
      if (decoded.size >= CACHE_LIMIT) decoded.delete(decoded.keys().next().value!);
      pending = decodeImage(bytes, hash);
      pending.catch(() => decoded.delete(hash));
      decoded.set(hash, pending);
    }
    return pending;
  };

  const drawFault = (key: string): Fault | undefined => {
    if (settings.faultRate > 0 && settings.faultKinds.length > 0) {
      const rng = createRng(`${settings.seed}|fault|${key}`);
      if (rng.next() < settings.faultRate) return settings.faultKinds[Math.floor(rng.next() * settings.faultKinds.length)];
    }
    return undefined;
  };
  const takeFault = (index: number): Fault | undefined => queue.shift() ?? drawFault(String(index));
  /** A batch line's fault: only what the model says (`say`, content faults); a batch has no transport to break. */
  let batchLines = 0;
  const batchFault = (): Fault | undefined => {
    const fault = drawFault(`batch|${batchLines++}`);
    return fault && (fault.kind === 'say' || !TRANSPORT_FAULTS.has(fault.kind)) ? fault : undefined;
  };

  const send = (res: ServerResponse, record: RecordedRequest, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed || res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      [protocol.requestIdHeader]: record.requestId,
      ...headers,
    });
    res.end(text);
    record.status = status;
    record.durationMs = Date.now() - record.startedAt;
    if (record.endpoint === 'complete' && status >= 200 && status < 300 && !(record.fault && BROKEN_ANSWERS.has(record.fault.kind))) calls++;
  };

  /** Headers promise the whole body; half of it is written, then the connection drops. */
  const cutBody = (res: ServerResponse, record: RecordedRequest, body: unknown) => {
    if (res.destroyed || res.headersSent) return;
    const bytes = Buffer.from(JSON.stringify(body));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length, [protocol.requestIdHeader]: record.requestId });
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy());
    record.status = 200;
    record.durationMs = Date.now() - record.startedAt;
  };

  /** HTTP 200 with a page that is not JSON, as a proxy in front of the server sends. */
  const sendText = (res: ServerResponse, record: RecordedRequest, contentType: string) => {
    if (res.destroyed || res.headersSent) return;
    const text = '<html><head><title>Gateway</title></head><body><h1>The upstream server is restarting</h1></body></html>\n';
    res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), [protocol.requestIdHeader]: record.requestId });
    res.end(text);
    record.status = 200;
    record.durationMs = Date.now() - record.startedAt;
  };

  const sendError = (res: ServerResponse, record: RecordedRequest, error: HttpError, headers: Record<string, string> = {}) =>
    send(res, record, error.status, protocol.errorBody(error), headers);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = protocol.route(req.method ?? 'GET', path);
    const batchRoute = !route && batchWire?.handles(req.method ?? 'GET', path) === true;
    const record: RecordedRequest = {
      index: arrivals++,
      method: req.method ?? 'GET',
      path,
      endpoint: route ?? (batchRoute ? 'batch' : 'unknown'),
      headers: req.headers,
      body: undefined,
      requestId: protocol.newRequestId(),
      startedAt: Date.now(),
    };
    requests.push(record);
    const raw = await readBody(req);
    if (raw === undefined) return sendError(res, record, new HttpError(413, 'Request body too large', { type: 'invalid_request_error' }));
    if (batchRoute && batchWire) {
      if (settings.apiKey !== undefined && !protocol.authorized(req.headers, settings.apiKey)) {
        return sendError(res, record, protocol.authError(req.headers));
      }
      return replyBatch(res, record, await batchWire.handle(record.method, path, raw, req.headers, batchContext));
    }
    if (raw.length > 0) {
      try {
        record.body = JSON.parse(raw.toString('utf8'));
      } catch {
        record.body = undefined;
      }
    }
    if (!route) return sendError(res, record, new HttpError(404, `Unknown request URL: ${record.method} ${path}`, { type: 'not_found_error', code: 'unknown_url' }));
    if (settings.apiKey !== undefined && !protocol.authorized(req.headers, settings.apiKey)) {
      return sendError(res, record, protocol.authError(req.headers));
    }
    if (route === 'models') return send(res, record, 200, protocol.modelsBody(settings.models ?? ['sim-judge']));
    if (raw.length > 0 && record.body === undefined) {
      return sendError(res, record, new HttpError(400, 'We could not parse the JSON body of your request.', { type: 'invalid_request_error' }));
    }

    const fault = takeFault(record.index);
    record.fault = fault;
    if (fault) faultCount++;
    await sleep(settings.latencyMs + (fault?.kind === 'slow' ? fault.ms : 0));
    if (closed || res.destroyed) return;
    if (fault?.kind === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
      return sendError(res, record, protocol.statusError(fault.status, fault.message), headers);
    }

    try {
      const body = await complete(record.body, req.headers, record, fault);
      if (closed || res.destroyed) return;
      if (fault?.kind === 'cut-body') return cutBody(res, record, body);
      if (fault?.kind === 'not-json') return sendText(res, record, fault.contentType ?? 'text/html');
      send(res, record, 200, fault?.kind === 'no-choices' ? protocol.withoutAnswer(body, fault.empty === true) : body);
    } catch (error) {
      if (error instanceof HttpError) return sendError(res, record, error);
      const message = error instanceof Error ? error.message : String(error);
      sendError(res, record, new HttpError(500, `Test server failure: ${message}`, { type: 'api_error' }));
    }
  }

  /**
   * Answers one completion body as the simulated judge: parse, decode the images, answer,
   * and the protocol's answer body. Shared by live requests and batch requests. Throws
   * `HttpError` for a request the API would refuse.
   */
  async function complete(body: unknown, headers: IncomingHttpHeaders, record: RecordedRequest, fault?: Fault): Promise<unknown> {
    const parsed = protocol.parse(body, headers, settings);
    if (settings.models && !settings.models.includes(parsed.model)) {
      throw new HttpError(404, `The model \`${parsed.model}\` does not exist or you do not have access to it.`, {
        type: 'not_found_error',
        code: 'model_not_found',
      });
    }
    const images = await Promise.all(parsed.images.map((image) => resolveImage(image)));
    const request: JudgeRequest = { ...parsed, images: images.map((i) => i.judged) };
    const key = contentKey(request);
    const occurrence = occurrences.get(key) ?? 0;
    occurrences.set(key, occurrence + 1);
    const contentFault = fault && !TRANSPORT_FAULTS.has(fault.kind) ? (fault.kind as ContentFault) : undefined;
    const result = fault?.kind === 'say' ? saying(answer(request, settings, { occurrence }), fault.text) : answer(request, settings, { occurrence, fault: contentFault });
    record.task = result.task.kind;
    record.subject = result.task.subject.kind;
    record.images = request.images.map(({ sha256, width, height, label, quality }) => ({ sha256, width, height, label, quality }));
    const usage: Usage = {
      inputTokens: textTokens(parsed.textChars) + images.reduce((s, i) => s + protocol.imageTokens(i.tokenShape), 0),
      outputTokens: result.choices.reduce((s, c) => s + c.tokens.length, 0),
    };
    return protocol.respond(parsed, result, usage, record.requestId);
  }

  /** Batch requests are answered by `complete`, each with a request id of its own. */
  const batchContext = {
    options: () => settings.batch ?? {},
    async complete(body: unknown, headers: IncomingHttpHeaders) {
      const requestId = protocol.newRequestId();
      const line: RecordedRequest = { index: -1, method: 'POST', path: '(batch)', endpoint: 'complete', headers, body, requestId, startedAt: Date.now() };
      try {
        return { status: 200, body: await complete(body, headers, line, batchFault()), requestId };
      } catch (error) {
        const e = error instanceof HttpError ? error : new HttpError(500, String(error), { type: 'api_error' });
        return { status: e.status, body: { message: e.message, type: e.type ?? 'api_error' }, requestId };
      }
    },
  };

  const replyBatch = (res: ServerResponse, record: RecordedRequest, reply: { status: number; body: unknown; contentType?: string }) => {
    if (!Buffer.isBuffer(reply.body)) return send(res, record, reply.status, reply.body);
    if (res.destroyed || res.headersSent) return;
    res.writeHead(reply.status, {
      'content-type': reply.contentType ?? 'application/octet-stream',
      'content-length': reply.body.length,
      [protocol.requestIdHeader]: record.requestId,
    });
    res.end(reply.body);
    record.status = reply.status;
    record.durationMs = Date.now() - record.startedAt;
  };

  async function resolveImage(image: RawImage): Promise<{ judged: JudgeImage; tokenShape: { width: number; height: number; detail?: string | undefined } }> {
    let pixels: DecodedImage;
    try {
      pixels = await decode(image.bytes);
    } catch {
      throw new HttpError(400, 'Could not process image: the data is not a valid image.', { type: 'invalid_request_error', code: 'invalid_image_format' });
    }
    if (image.checkMediaType && image.mediaType && sniffMediaType(image.bytes) !== image.mediaType) {
      throw new HttpError(400, `Image does not match the provided media type ${image.mediaType}`, { type: 'invalid_request_error' });
    }
    const planted = settings.qualityOf ? settings.qualityOf(pixels) : pixels.measured;
    if (!Number.isFinite(planted)) throw new Error(`qualityOf returned ${planted} for image ${pixels.sha256}`);
    return {
      judged: { sha256: pixels.sha256, width: pixels.width, height: pixels.height, quality: Math.min(5, Math.max(1, planted)), label: image.label, pixels: pixels.pixels },
      tokenShape: { width: pixels.width, height: pixels.height, detail: image.detail },
    };
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that times out and goes away must not crash the test run.
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  return {
    protocol: protocol.name,
    url: `http://127.0.0.1:${port}${protocol.basePath}`,
    port,
    get apiKey() {
      return settings.apiKey;
    },
    get calls() {
      return calls;
    },
    get faults() {
      return faultCount;
    },
    get batches() {
      return { created: book.created, answered: book.answered };
    },
    get requests() {
      return requests;
    },
    get queuedFaults() {
      return queue.length;
    },
    resetCounts() {
      calls = 0;
      faultCount = 0;
      arrivals = 0;
      requests = [];
      occurrences = new Map();
    },
    failNext(...faults: Fault[]) {
      queue.push(...faults);
    },
    clearFaults() {
      queue.length = 0;
    },
    setOptions(next) {
      settings = resolve({ ...settings, ...next });
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const wait of waits) {
        clearTimeout(wait.timer);
        wait.done();
      }
      waits.clear();
      const done = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      for (const socket of sockets) socket.destroy();
      await done;
    },
  };
}

function resolve(options: JudgeServerOptions): ResolvedOptions {
  const pick = <K extends keyof JudgeOptions>(key: K): JudgeOptions[K] => options[key] ?? DEFAULT_JUDGE_OPTIONS[key];
  return {
    seed: pick('seed'),
    noiseSd: pick('noiseSd'),
    firstSlotBias: pick('firstSlotBias'),
    levelCoverage: pick('levelCoverage'),
    levelSpread: pick('levelSpread'),
    levelJitter: pick('levelJitter'),
    scoreOffset: pick('scoreOffset'),
    scoreStretch: pick('scoreStretch'),
    apiKey: options.apiKey,
    qualityOf: options.qualityOf,
    models: options.models,
    latencyMs: options.latencyMs ?? 0,
    maxChoices: options.maxChoices ?? 16,
    faultRate: options.faultRate ?? 0,
    faultKinds: options.faultKinds ?? [{ kind: 'status', status: 500 }],
    choicesMode: options.choicesMode ?? 'honour',
    logprobs: options.logprobs ?? true,
    batch: options.batch,
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The answer with every choice's text replaced by `text` (the `say` fault). */
function saying(result: JudgeAnswer, text: string): JudgeAnswer {
  let structured: Record<string, unknown> | undefined;
  if (result.task.kind === 'structured') {
    try {
      const value: unknown = JSON.parse(text);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) structured = value as Record<string, unknown>;
    } catch {
      structured = undefined;
    }
  }
  const tokens = tokenize(text).map((token) => ({ token, logprob: Math.log(0.999), top: [] }));
  return { task: result.task, choices: result.choices.map(() => ({ text, structured, tokens, finish: 'stop' as const })) };
}

/** A random hex id suffix. */
export const randomId = (bytes = 12): string => randomBytes(bytes).toString('hex');

/** Media type from the first bytes: PNG, JPEG, GIF or WebP; `undefined` for anything else. */
export function sniffMediaType(bytes: Uint8Array): string | undefined {
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes[0] === 0x89 && ascii(1, 4) === 'PNG') return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (ascii(0, 4) === 'GIF8') return 'image/gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  return undefined;
}
