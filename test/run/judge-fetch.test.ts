/**
 * The HTTP client the SDK clients are given (src/judges/providers/_fetch.ts), against real
 * node:http servers on 127.0.0.1: what fetch would do (lengths, redirects, compressed
 * answers, aborts, connection errors, streamed events, body rules), one kept-alive
 * connection for many requests, and the official SDKs working through it.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { judgeFetch } from '../../src/judges/providers/_fetch.js';
import { startAnthropicServer, startOpenAIServer } from '../support/judge-server/index.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A server that records every request and answers with `handler`; counts connections. */
async function serve(handler: Handler) {
  const seen: Seen[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, connections: () => connections };
}

let echo: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  echo = await serve((req, res, body) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ method: req.method, body }));
  });
});

it('sends the body with its length (never chunked) and the caller\'s headers, and reads the JSON answer', async () => {
  const body = JSON.stringify({ hello: 'wörld', image: 'x'.repeat(70_000) });
  const res = await judgeFetch(`${echo.url}/v1/chat`, { method: 'post', headers: { Authorization: 'Bearer k', 'Content-Type': 'application/json' }, body });
  expect(res.status).toBe(200);
  expect(res.ok).toBe(true);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(await res.json()).toEqual({ method: 'POST', body });
  const seen = echo.seen.at(-1)!;
  expect(seen.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  expect(seen.headers['transfer-encoding']).toBeUndefined();
  expect(seen.headers.authorization).toBe('Bearer k');
  expect(seen.headers['content-type']).toBe('application/json');
  // A POST without a body says so with a length of 0 too.
  await (await judgeFetch(`${echo.url}/v1/empty`, { method: 'POST' })).text();
  expect(echo.seen.at(-1)!.headers).toMatchObject({ 'content-length': '0' });
  expect(echo.seen.at(-1)!.headers['transfer-encoding']).toBeUndefined();
});

it('keeps one connection alive for many requests in a row', async () => {
  const server = await serve((_req, res) => res.end('{}'));
  for (let i = 0; i < 25; i++) await (await judgeFetch(`${server.url}/x`, { method: 'POST', body: String(i) })).text();
  expect(server.seen).toHaveLength(25);
  expect(server.connections()).toBe(1);
});

it('an answer slower than the idle timeout of kept-alive connections (4 s) still arrives', async () => {
  // A judge may think for a minute: only idle connections are closed, never a request's.
  const slow = await serve((_req, res) => setTimeout(() => res.end('late'), 4_500));
  expect(await (await judgeFetch(`${slow.url}/v1`, { method: 'POST', body: 'x' })).text()).toBe('late');
}, 15_000);

it('a body is read once: json() then text() is refused, clone() and body work as fetch\'s do', async () => {
  const res = await judgeFetch(`${echo.url}/once`, { method: 'POST', body: 'b' });
  const copy = res.clone();
  expect(res.bodyUsed).toBe(false);
  expect(await res.json()).toEqual({ method: 'POST', body: 'b' });
  expect(res.bodyUsed).toBe(true);
  await expect(res.text()).rejects.toThrow(TypeError);
  expect(() => res.clone()).toThrow(TypeError);
  expect(await new Response(copy.body).text()).toBe('{"method":"POST","body":"b"}');
  const bytes = await (await judgeFetch(`${echo.url}/bytes`)).arrayBuffer();
  expect(Buffer.from(bytes).toString()).toBe('{"method":"GET","body":""}');
});

it.each([
  ['gzip', gzipSync],
  ['deflate', deflateSync],
  ['br', brotliCompressSync],
] as const)('decodes a %s answer', async (encoding, compress) => {
  const text = JSON.stringify({ reasoning: 'grain '.repeat(500) });
  const server = await serve((_req, res) => {
    res.setHeader('content-encoding', encoding);
    res.end(compress(Buffer.from(text)));
  });
  expect(await (await judgeFetch(`${server.url}/z`)).text()).toBe(text);
});

it('follows redirects as fetch does: 307 keeps the POST and its body, 303 turns into a GET', async () => {
  const server = await serve((req, res) => {
    if (req.url === '/307') res.writeHead(307, { location: '/final' }).end();
    else if (req.url === '/303') res.writeHead(303, { location: '/final' }).end();
    else res.end(`${req.method} ${req.url}`);
  });
  expect(await (await judgeFetch(`${server.url}/307`, { method: 'POST', body: 'payload' })).text()).toBe('POST /final');
  expect(server.seen.at(-1)).toMatchObject({ method: 'POST', body: 'payload' });
  expect(await (await judgeFetch(`${server.url}/303`, { method: 'POST', body: 'payload' })).text()).toBe('GET /final');
  expect(server.seen.at(-1)).toMatchObject({ method: 'GET', body: '' });
  const manual = await judgeFetch(`${server.url}/307`, { method: 'POST', body: 'x', redirect: 'manual' });
  expect(manual.status).toBe(307);
});

it('credentials do not follow a redirect to another origin', async () => {
  const other = await serve((_req, res) => res.end('there'));
  const first = await serve((_req, res) => res.writeHead(308, { location: `${other.url}/landing` }).end());
  const res = await judgeFetch(`${first.url}/start`, { method: 'POST', body: 'b', headers: { authorization: 'Bearer secret', 'x-api-key': 'secret', 'x-keep': 'yes' } });
  expect(await res.text()).toBe('there');
  expect(first.seen[0]!.headers.authorization).toBe('Bearer secret');
  const landed = other.seen[0]!;
  expect(landed.headers.authorization).toBeUndefined();
  expect(landed.headers['x-api-key']).toBeUndefined();
  expect(landed.headers['x-keep']).toBe('yes');
});

it('an abort rejects at once with the signal\'s reason, even while the server has not answered', async () => {
  const silent = await serve(() => undefined); // never answers
  const controller = new AbortController();
  const started = performance.now();
  setTimeout(() => controller.abort(), 50);
  const error = await judgeFetch(`${silent.url}/slow`, { method: 'POST', body: 'x', signal: controller.signal }).catch((e: unknown) => e);
  expect((error as Error).name).toBe('AbortError');
  expect(performance.now() - started).toBeLessThan(2_000);
  const already = await judgeFetch(`${echo.url}/`, { signal: AbortSignal.abort(new Error('mine')) }).catch((e: unknown) => e);
  expect((already as Error).message).toBe('mine');
});

it('a refused connection rejects as fetch does: TypeError "fetch failed" whose cause is the system error', async () => {
  const closed = await serve(() => undefined);
  const port = new URL(closed.url).port;
  await new Promise((r) => servers.at(-1)!.close(r));
  const error = (await judgeFetch(`http://127.0.0.1:${port}/v1`).catch((e: unknown) => e)) as TypeError & { cause: { code: string } };
  expect(error).toBeInstanceOf(TypeError);
  expect(error.message).toBe('fetch failed');
  expect(error.cause.code).toBe('ECONNREFUSED');
});

it('an answer cut off mid-body: the response comes, and reading its body fails with `terminated`, as with fetch', async () => {
  const cut = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"choices": [');
    setTimeout(() => res.destroy(), 20);
  });
  const res = await judgeFetch(`${cut.url}/v1`);
  expect(res.status).toBe(200);
  const error = (await res.json().catch((e: unknown) => e)) as TypeError;
  expect(error).toBeInstanceOf(TypeError);
  expect(error.message).toBe('terminated');
  // Unread, the failed body is no unhandled rejection (vitest would report one).
  await judgeFetch(`${cut.url}/v1`);
  await new Promise((r) => setTimeout(r, 50));
});

it('an abort after the headers fails the body\'s read with the abort', async () => {
  const stalled = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"partial":');
  });
  const controller = new AbortController();
  const res = await judgeFetch(`${stalled.url}/v1`, { signal: controller.signal });
  setTimeout(() => controller.abort(), 30);
  const error = (await res.text().catch((e: unknown) => e)) as Error;
  expect(error.name).toBe('AbortError');
});

it('server-sent events are streamed as they come, not held until the end', async () => {
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const sse = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n');
    void finished.then(() => res.end('data: two\n\n'));
  });
  const res = await judgeFetch(`${sse.url}/events`);
  const reader = res.body!.getReader();
  const first = await reader.read();
  expect(Buffer.from(first.value!).toString()).toBe('data: one\n\n');
  finish();
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
  expect(rest).toBe('data: two\n\n');
});

it('a 204 has no body; a multipart body goes through Node\'s fetch', async () => {
  const server = await serve((req, res, body) => {
    if (req.url === '/empty') res.writeHead(204).end();
    else res.end(`${req.headers['content-type']?.split(';')[0]} ${body.includes('name="file"') ? 'with file' : 'without'}`);
  });
  const empty = await judgeFetch(`${server.url}/empty`, { method: 'DELETE' });
  expect(empty.status).toBe(204);
  expect(empty.body).toBeNull();
  const form = new FormData();
  form.append('file', new Blob(['{"a":1}\n']), 'batch.jsonl');
  expect(await (await judgeFetch(`${server.url}/upload`, { method: 'POST', body: form })).text()).toBe('multipart/form-data with file');
});

it('the official SDKs work through it, timeouts included', async () => {
  const openaiServer = await startOpenAIServer({ apiKey: 'sk-o' });
  const anthropicServer = await startAnthropicServer({ apiKey: 'sk-a' });
  try {
    const openai = new OpenAI({ apiKey: 'sk-o', baseURL: openaiServer.url, fetch: judgeFetch, maxRetries: 0 });
    const chat = await openai.chat.completions.create({ model: 'sim-judge', messages: [{ role: 'user', content: 'Rate: <score>' }] });
    expect(chat.choices).toHaveLength(1);
    const models = await openai.models.list();
    expect(models.data.length).toBeGreaterThan(0);
    const anthropic = new Anthropic({ apiKey: 'sk-a', baseURL: anthropicServer.url, fetch: judgeFetch, maxRetries: 0 });
    const message = await anthropic.messages.create({ model: 'sim-judge', max_tokens: 100, messages: [{ role: 'user', content: 'Rate' }] });
    expect(message.content.length).toBeGreaterThan(0);
    const wrongKey = new OpenAI({ apiKey: 'nope', baseURL: openaiServer.url, fetch: judgeFetch, maxRetries: 0 });
    await expect(wrongKey.chat.completions.create({ model: 'sim-judge', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const silent = await serve(() => undefined);
    const slow = new OpenAI({ apiKey: 'k', baseURL: `${silent.url}/v1`, fetch: judgeFetch, maxRetries: 0, timeout: 200 });
    await expect(slow.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  } finally {
    await openaiServer.close();
    await anthropicServer.close();
  }
});

it('https: an untrusted certificate is refused with the TLS reason; once trusted, answers come over one kept-alive connection', async () => {
  // A self-signed certificate for 127.0.0.1 made for this test (test/fixtures/tls, valid to 2126).
  const tls = (name: string) => readFileSync(fileURLToPath(new URL(`../fixtures/tls/${name}`, import.meta.url)));
  let connections = 0;
  const server = createHttpsServer({ key: tls('key.pem'), cert: tls('cert.pem') }, (req, res) => {
    req.resume();
    req.on('end', () => res.end(`secure ${req.method}`));
  });
  server.on('secureConnection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push(server as unknown as Server);
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

  const refused = (await judgeFetch(url).catch((e: unknown) => e)) as TypeError & { cause: { code: string } };
  expect(refused.message).toBe('fetch failed');
  expect(refused.cause.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);

  // Trusted the way a user trusts a private CA, in a process of its own, through the built module.
  const built = fileURLToPath(new URL('../../dist/judges/providers/_fetch.js', import.meta.url));
  const script = `const { judgeFetch } = await import(${JSON.stringify(built)});
    for (let i = 0; i < 3; i++) console.log(await (await judgeFetch(${JSON.stringify(url)}, { method: 'POST', body: 'x' })).text());`;
  connections = 0;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: fileURLToPath(new URL('../fixtures/tls/cert.pem', import.meta.url)) },
  });
  expect(stdout.trim().split('\n')).toEqual(['secure POST', 'secure POST', 'secure POST']);
  expect(connections).toBe(1);
});
