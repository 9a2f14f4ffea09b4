import type { Agent, IncomingMessage, RequestOptions } from 'node:http';
import { createRequire } from 'node:module';

/**
 * The `fetch` the judges' SDK clients are given (their documented `fetch` option): plain
 * node:http and node:https requests over keep-alive agents, each answer read whole and
 * handed back as a standard `Response`.
 *
 * Why not Node's own fetch: its WHATWG machinery (web streams, per-request abort
 * signals, header guards) costs 0.1-0.5 ms of CPU per request more than this (median
 * 0.26 ms, bench/README.md), about what everything else Quorum does for a call on a small
 * image costs. That CPU is taken from whatever shares the machine, often the local model
 * server itself.
 *
 * What it does as fetch does: `signal` aborts (rejecting with the signal's reason), a
 * connection failure rejects with `TypeError('fetch failed')` whose `cause` is the system
 * error (`ECONNREFUSED`, `ENOTFOUND`, ...), a body cut off after the headers fails when it
 * is read (`TypeError('terminated')`), redirects are followed (`redirect: 'follow'`, at
 * most 20; credentials are not sent to another origin), gzip, deflate and brotli answers
 * are decoded, server-sent events are streamed rather than read whole, and idle
 * connections are closed after 4 s. Anything else (a multipart or streamed request body,
 * a `Request` object, another protocol) goes to Node's fetch unchanged. Unlike fetch, it
 * connects to the ports browsers block (6000, 6665-6669, ...): they are ordinary ports.
 */
export function judgeFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const body = init.body;
  const simpleBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
  if (!simpleBody || (typeof input === 'object' && !(input instanceof URL))) return fetch(input, init);
  const url = input instanceof URL ? input : new URL(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fetch(input, init);
  return send(url, (init.method ?? 'GET').toUpperCase(), headersOf(init.headers), body ?? undefined, init, 0);
}

type Body = string | Uint8Array | undefined;

const MAX_REDIRECTS = 20;
/** Headers that carry credentials: dropped when a redirect leaves the origin. */
const CREDENTIALS = ['authorization', 'proxy-authorization', 'cookie', 'x-api-key'];
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

const require = createRequire(import.meta.url);
let httpModule: typeof import('node:http') | undefined;
let httpsModule: typeof import('node:https') | undefined;
const agents: { http?: Agent; https?: Agent } = {};

/**
 * Kept-alive connections idle for this long are closed, as undici's are (4 s): servers
 * close theirs after about 5 s (llama-server, uvicorn), and a request sent down a socket
 * the server is closing fails.
 */
const IDLE_MS = 4_000;

/** node:https (and so node:tls) is loaded by the first https request only. */
function transport(url: URL): { request: typeof import('node:http').request; agent: Agent } {
  if (url.protocol === 'https:') {
    httpsModule ??= require('node:https') as typeof import('node:https');
    return { request: httpsModule.request, agent: (agents.https ??= new httpsModule.Agent({ keepAlive: true, timeout: IDLE_MS })) };
  }
  httpModule ??= require('node:http') as typeof import('node:http');
  return { request: httpModule.request, agent: (agents.http ??= new httpModule.Agent({ keepAlive: true, timeout: IDLE_MS })) };
}

function headersOf(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  if (headers instanceof Headers) {
    headers.forEach((value, name) => (out[name] = value));
  } else if (Array.isArray(headers)) {
    for (const [name, value] of headers) if (name !== undefined && value !== undefined) out[name.toLowerCase()] = value;
  } else {
    for (const name of Object.keys(headers)) out[name.toLowerCase()] = (headers as Record<string, string>)[name] as string;
  }
  return out;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

const fetchFailed = (cause: unknown) => new TypeError('fetch failed', { cause });

function send(url: URL, method: string, headers: Record<string, string>, body: Body, init: RequestInit, redirects: number): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const { request, agent } = transport(url);
  // The whole body goes to `end()`, so node:http sends its length (never a chunked body, which some servers refuse).
  const options: RequestOptions = { method, headers, agent };

  return new Promise<Response>((resolve, reject) => {
    // Until the answer's headers: a failure rejects the fetch. After them, as with fetch, the
    // Response is out and a failure (a cut connection, an abort) is the body's to report.
    let answered = false;
    let done = false;
    const finish = () => {
      done = true;
      signal?.removeEventListener('abort', onAbort);
    };
    const fail = (error: unknown) => {
      if (done) return;
      finish();
      reject(error);
    };
    const answer = (response: Response | Promise<Response>, bodyDone?: Promise<unknown>) => {
      answered = true;
      if (bodyDone) void bodyDone.then(finish, finish);
      else finish();
      resolve(response);
    };
    const req = request(url, options, (res) => {
      if (done) return void res.resume();
      const status = res.statusCode ?? 0;
      const location = res.headers.location;
      if (location !== undefined && [301, 302, 303, 307, 308].includes(status) && (init.redirect ?? 'follow') !== 'manual') {
        res.resume();
        if (init.redirect === 'error') return fail(fetchFailed(new Error(`unexpected redirect to ${location}`)));
        if (redirects >= MAX_REDIRECTS) return fail(fetchFailed(new Error('redirect count exceeded')));
        const next = new URL(location, url);
        // As fetch: 303, and 301/302 after a POST, become a GET without a body.
        const toGet = status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST';
        const nextHeaders = { ...headers };
        if (toGet) for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) delete nextHeaders[name];
        if (next.origin !== url.origin) for (const name of CREDENTIALS) delete nextHeaders[name];
        return answer(send(next, toGet ? 'GET' : method, nextHeaders, toGet ? undefined : body, init, redirects + 1));
      }
      const responseHeaders = new Headers();
      const raw = res.rawHeaders;
      for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i] as string, raw[i + 1] as string);
      const head = { status, statusText: res.statusMessage ?? '', headers: responseHeaders };
      if (NULL_BODY_STATUS.has(status) || method === 'HEAD') {
        res.resume();
        return answer(new Response(null, head));
      }
      if (/^text\/event-stream/i.test(res.headers['content-type'] ?? '')) {
        // Server-sent events arrive as they are sent; the stream carries any later error.
        const closed = new Promise((r) => res.once('close', r));
        return answer(new Response(streamOf(res), head), closed);
      }
      // As fetch's: a body cut off, or aborted, fails when it is read (undici: `terminated`).
      const data = readWhole(res).catch((error: unknown) => {
        throw signal?.aborted ? abortReason(signal) : new TypeError('terminated', { cause: error });
      });
      answer(new WholeResponse(data, head), data);
    });
    const onAbort = () => {
      req.destroy();
      if (!answered) fail(abortReason(signal as AbortSignal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error) => {
      if (!answered) fail(fetchFailed(error));
    });
    req.end(body);
  });
}

/** The answer's bytes, decoded when the server compressed them. */
function readWhole(res: IncomingMessage): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) return reject(new Error('the connection closed before the answer was complete'));
      const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      try {
        resolve(decoded(data, (res.headers['content-encoding'] ?? '').trim().toLowerCase()));
      } catch (error) {
        reject(error);
      }
    });
  });
}

function decoded(data: Buffer, encoding: string): Buffer {
  if (encoding === '' || encoding === 'identity' || data.length === 0) return data;
  const zlib = require('node:zlib') as typeof import('node:zlib');
  if (encoding === 'gzip' || encoding === 'x-gzip') return zlib.gunzipSync(data);
  // "deflate" is zlib-wrapped by the standard; some servers send it raw.
  if (encoding === 'deflate') return ((data[0] as number) & 0x0f) === 8 ? zlib.inflateSync(data) : zlib.inflateRawSync(data);
  if (encoding === 'br') return zlib.brotliDecompressSync(data);
  throw new Error(`the answer is encoded as \`${encoding}\`, which this client cannot decode`);
}

/**
 * A `Response` whose body is read whole into memory. Reading it (`json()`, `text()`, ...)
 * takes the bytes as they are instead of pumping them through a web stream, which costs
 * more CPU than the rest of the request's handling; `body` still gives a stream for code
 * that asks. A body that fails (cut off, aborted) rejects the read, as fetch's does.
 */
class WholeResponse extends Response {
  readonly #data: Promise<Buffer>;
  #used = false;
  #stream: ReadableStream<Uint8Array> | undefined;

  constructor(data: Promise<Buffer>, init: ResponseInit) {
    super(null, init);
    this.#data = data;
    // A body nobody reads may fail unobserved: that is not an unhandled rejection.
    data.catch(() => undefined);
  }

  static {
    // Defined here rather than as class members: TypeScript's Response declares them as
    // plain properties, which a subclass may not redeclare as methods or accessors.
    const take = (self: WholeResponse): Promise<Buffer> => {
      if (self.#used) return Promise.reject(new TypeError('Body is unusable: Body has already been read'));
      self.#used = true;
      return self.#data;
    };
    const text = (self: WholeResponse) => take(self).then((data) => data.toString('utf8'));
    Object.defineProperties(WholeResponse.prototype, {
      text: { value: function (this: WholeResponse) { return text(this); } },
      json: { value: function (this: WholeResponse) { return text(this).then((t) => JSON.parse(t) as unknown); } },
      arrayBuffer: {
        value: function (this: WholeResponse) {
          return take(this).then((data) => data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
        },
      },
      bytes: { value: function (this: WholeResponse) { return take(this).then((data) => new Uint8Array(data)); } },
      blob: { value: function (this: WholeResponse) { return take(this).then((data) => new Blob([data], { type: this.headers.get('content-type') ?? '' })); } },
      formData: { value: function (this: WholeResponse) { return take(this).then((data) => new Response(data, { headers: this.headers }).formData()); } },
      clone: {
        value: function (this: WholeResponse) {
          if (this.#used) throw new TypeError('Response.clone: Body has already been consumed.');
          return new WholeResponse(this.#data, { status: this.status, statusText: this.statusText, headers: new Headers(this.headers) });
        },
      },
      body: {
        get: function (this: WholeResponse) {
          const data = this.#data;
          return (this.#stream ??= new ReadableStream<Uint8Array>({
            pull: (controller) =>
              data.then(
                (bytes) => {
                  if (bytes.length > 0) controller.enqueue(new Uint8Array(bytes));
                  controller.close();
                },
                (error: unknown) => controller.error(error),
              ),
          }));
        },
      },
      bodyUsed: { get: function (this: WholeResponse) { return this.#used; } },
    });
  }
}

function streamOf(res: IncomingMessage): ReadableStream<Uint8Array> {
  const { Readable } = require('node:stream') as typeof import('node:stream');
  return Readable.toWeb(res) as ReadableStream<Uint8Array>;
}
