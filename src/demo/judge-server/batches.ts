/**
 * Batch mode of the simulated judge servers: the OpenAI Batch API (`/v1/files` with
 * purpose `batch`, `/v1/batches`, output and error files) and Anthropic Message Batches
 * (`/v1/messages/batches`, `processing_status`, results JSONL). Each request of a batch
 * is answered by the same simulated judge as a live request, through the protocol's own
 * parse and respond (`BatchContext.complete`).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';

/** How the server's batches behave. */
export interface BatchServerOptions {
  /**
   * Status checks a batch answers "in progress" before it ends (answers are computed when it
   * ends). `Infinity` keeps every batch running until the option is changed. @default 0
   */
  pollsBeforeEnd?: number;
  /** The fate of one request (by custom id and position in its batch): answered (default), failed inside the batch, or never run. */
  outcome?: ((customId: string, index: number) => 'succeeded' | 'errored' | 'expired' | 'canceled') | undefined;
}

/** What the HTTP core lends a batch wire: one request answered as a live request would be. */
export interface BatchContext {
  complete(body: unknown, headers: IncomingHttpHeaders): Promise<{ status: number; body: unknown; requestId: string }>;
  options(): BatchServerOptions;
}

export interface BatchReply {
  status: number;
  /** JSON, or a Buffer sent as it is (file contents, JSONL). */
  body: unknown;
  contentType?: string;
}

export interface BatchWire {
  handles(method: string, path: string): boolean;
  handle(method: string, path: string, raw: Buffer, headers: IncomingHttpHeaders, ctx: BatchContext): Promise<BatchReply>;
}

type LineResult =
  | { customId: string; type: 'succeeded' | 'errored'; status: number; body: unknown; requestId: string }
  | { customId: string; type: 'expired' | 'canceled' };

interface Batch {
  id: string;
  items: { customId: string; body: unknown }[];
  createdAt: number;
  polls: number;
  results?: LineResult[];
  endedAt?: number;
  /** Protocol fields kept with the batch (OpenAI's input file, endpoint). */
  extra: Record<string, unknown>;
}

/** Batches and files one server holds, and how many batches it was asked to create. */
export class BatchBook {
  readonly files = new Map<string, { bytes: Buffer; filename: string; purpose: string; createdAt: number }>();
  readonly batches = new Map<string, Batch>();
  created = 0;
  /** Batch requests answered by the judge (not counted as live `calls`). */
  answered = 0;

  create(prefix: string, items: Batch['items'], extra: Record<string, unknown> = {}): Batch {
    const batch: Batch = { id: `${prefix}${randomBytes(12).toString('hex')}`, items, createdAt: Math.floor(Date.now() / 1000), polls: 0, extra };
    this.batches.set(batch.id, batch);
    this.created++;
    return batch;
  }

  /** A status check: the batch ends (and is answered) once it has been checked `pollsBeforeEnd` times. */
  async poll(batch: Batch, ctx: BatchContext, headers: IncomingHttpHeaders): Promise<void> {
    if (batch.results) return;
    const before = ctx.options().pollsBeforeEnd ?? 0;
    if (batch.polls++ < before) return;
    const outcome = ctx.options().outcome;
    const results: LineResult[] = [];
    for (const [index, item] of batch.items.entries()) {
      const fate = outcome?.(item.customId, index) ?? 'succeeded';
      if (fate === 'expired' || fate === 'canceled') {
        results.push({ customId: item.customId, type: fate });
        continue;
      }
      if (fate === 'errored') {
        results.push({ customId: item.customId, type: 'errored', status: 500, body: { message: 'The server had an error processing this request' }, requestId: '' });
        continue;
      }
      const answer = await ctx.complete(item.body, headers);
      if (answer.status === 200) this.answered++;
      results.push({ customId: item.customId, type: answer.status === 200 ? 'succeeded' : 'errored', ...answer });
    }
    batch.results = results;
    batch.endedAt = Math.floor(Date.now() / 1000);
  }
}

const json = (status: number, body: unknown): BatchReply => ({ status, body });
const notFound = (what: string) => json(404, { error: { message: `No such ${what}`, type: 'invalid_request_error' } });
const jsonl = (lines: unknown[]): BatchReply => ({
  status: 200,
  body: Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : '')),
  contentType: 'application/binary',
});

/** OpenAI: `POST /v1/files`, `GET /v1/files/{id}/content`, `POST /v1/batches`, `GET /v1/batches/{id}`. */
export function openaiBatchWire(book: BatchBook): BatchWire {
  const fileObject = (id: string) => {
    const f = book.files.get(id)!;
    return { id, object: 'file', bytes: f.bytes.length, created_at: f.createdAt, filename: f.filename, purpose: f.purpose, status: 'processed' };
  };
  const addFile = (bytes: Buffer, filename: string, purpose: string) => {
    const id = `file-${randomBytes(12).toString('hex')}`;
    book.files.set(id, { bytes, filename, purpose, createdAt: Math.floor(Date.now() / 1000) });
    return id;
  };
  const batchObject = (b: Batch) => {
    const counts = b.results
      ? { total: b.items.length, completed: b.results.filter((r) => r.type === 'succeeded').length, failed: b.results.filter((r) => r.type === 'errored').length }
      : { total: b.items.length, completed: 0, failed: 0 };
    const expired = b.results?.some((r) => r.type === 'expired') ?? false;
    return {
      id: b.id,
      object: 'batch',
      endpoint: b.extra['endpoint'],
      errors: null,
      input_file_id: b.extra['input_file_id'],
      completion_window: '24h',
      status: b.results ? (expired ? 'expired' : 'completed') : 'in_progress',
      output_file_id: b.extra['output_file_id'] ?? null,
      error_file_id: b.extra['error_file_id'] ?? null,
      created_at: b.createdAt,
      in_progress_at: b.createdAt,
      expires_at: b.createdAt + 86_400,
      completed_at: b.results && !expired ? b.endedAt : null,
      expired_at: expired ? b.endedAt : null,
      request_counts: counts,
      metadata: b.extra['metadata'] ?? null,
    };
  };
  return {
    handles: (method, path) => /^\/v1\/(files|batches)(\/|$)/.test(path) && (method === 'GET' || method === 'POST'),
    async handle(method, path, raw, headers, ctx) {
      if (method === 'POST' && path === '/v1/files') {
        const form = await new Response(raw, { headers: { 'content-type': String(headers['content-type'] ?? '') } }).formData();
        const file = form.get('file');
        const purpose = form.get('purpose');
        if (!(file instanceof Blob) || typeof purpose !== 'string') {
          return json(400, { error: { message: "Missing 'file' or 'purpose'", type: 'invalid_request_error' } });
        }
        const id = addFile(Buffer.from(await file.arrayBuffer()), (file as File).name ?? 'upload.jsonl', purpose);
        return json(200, fileObject(id));
      }
      const content = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
      if (method === 'GET' && content) {
        const f = book.files.get(content[1]!);
        return f ? { status: 200, body: f.bytes, contentType: 'application/octet-stream' } : notFound('file');
      }
      if (method === 'POST' && path === '/v1/batches') {
        const body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
        const input = book.files.get(String(body['input_file_id']));
        if (!input || input.purpose !== 'batch') return json(400, { error: { message: 'input_file_id must name a file uploaded with purpose batch', type: 'invalid_request_error' } });
        if (body['endpoint'] !== '/v1/chat/completions' || body['completion_window'] !== '24h') {
          return json(400, { error: { message: 'endpoint must be /v1/chat/completions and completion_window 24h', type: 'invalid_request_error' } });
        }
        const items = input.bytes
          .toString('utf8')
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => {
            const line = JSON.parse(l) as { custom_id: string; method: string; url: string; body: unknown };
            if (line.method !== 'POST' || line.url !== '/v1/chat/completions') throw new Error(`bad batch line ${line.custom_id}`);
            return { customId: line.custom_id, body: line.body };
          });
        const batch = book.create('batch_', items, { input_file_id: body['input_file_id'], endpoint: body['endpoint'], metadata: body['metadata'] });
        return json(200, batchObject(batch));
      }
      const one = /^\/v1\/batches\/([^/]+)$/.exec(path);
      if (method === 'GET' && one) {
        const batch = book.batches.get(one[1]!);
        if (!batch) return notFound('batch');
        const had = batch.results !== undefined;
        await book.poll(batch, ctx, headers);
        if (!had && batch.results) {
          const lines = (type: 'ok' | 'error') =>
            batch.results!.flatMap((r, i): unknown[] => {
              const id = `batch_req_${i}`;
              if (r.type === 'succeeded') return type === 'ok' ? [{ id, custom_id: r.customId, response: { status_code: 200, request_id: r.requestId, body: r.body }, error: null }] : [];
              if (type === 'ok') return [];
              if (r.type === 'errored') return [{ id, custom_id: r.customId, response: { status_code: r.status, request_id: r.requestId, body: { error: r.body } }, error: null }];
              const code = r.type === 'expired' ? 'batch_expired' : 'batch_cancelled';
              return [{ id, custom_id: r.customId, response: null, error: { code, message: `This request was not run (${code}).` } }];
            });
          const ok = lines('ok');
          const bad = lines('error');
          if (ok.length) batch.extra['output_file_id'] = addFile(jsonl(ok).body as Buffer, 'batch_output.jsonl', 'batch_output');
          if (bad.length) batch.extra['error_file_id'] = addFile(jsonl(bad).body as Buffer, 'batch_errors.jsonl', 'batch_output');
        }
        return json(200, batchObject(batch));
      }
      return notFound(`route ${method} ${path}`);
    },
  };
}

/** Anthropic: `POST /v1/messages/batches`, `GET /v1/messages/batches/{id}`, `GET /v1/messages/batches/{id}/results`. */
export function anthropicBatchWire(book: BatchBook, origin: () => string): BatchWire {
  const iso = (s: number | undefined) => (s === undefined ? null : new Date(s * 1000).toISOString());
  const batchObject = (b: Batch) => {
    const count = (t: LineResult['type']) => b.results?.filter((r) => r.type === t).length ?? 0;
    return {
      id: b.id,
      type: 'message_batch',
      processing_status: b.results ? 'ended' : 'in_progress',
      request_counts: {
        processing: b.results ? 0 : b.items.length,
        succeeded: count('succeeded'),
        errored: count('errored'),
        canceled: count('canceled'),
        expired: count('expired'),
      },
      ended_at: iso(b.endedAt),
      created_at: iso(b.createdAt),
      expires_at: iso(b.createdAt + 86_400),
      archived_at: null,
      cancel_initiated_at: null,
      results_url: b.results ? `${origin()}/v1/messages/batches/${b.id}/results` : null,
    };
  };
  return {
    handles: (method, path) => path.startsWith('/v1/messages/batches') && (method === 'GET' || method === 'POST'),
    async handle(method, path, raw, headers, ctx) {
      if (method === 'POST' && path === '/v1/messages/batches') {
        const body = JSON.parse(raw.toString('utf8')) as { requests?: { custom_id: string; params: unknown }[] };
        const requests = body.requests ?? [];
        const bad = requests.find((r) => !/^[a-zA-Z0-9_-]{1,64}$/.test(r.custom_id));
        if (requests.length === 0 || bad) {
          return json(400, { type: 'error', error: { type: 'invalid_request_error', message: bad ? `requests: custom_id ${JSON.stringify(bad.custom_id)} is invalid` : 'requests: empty' } });
        }
        const batch = book.create('msgbatch_', requests.map((r) => ({ customId: r.custom_id, body: r.params })));
        return json(200, batchObject(batch));
      }
      const m = /^\/v1\/messages\/batches\/([^/]+)(\/results)?$/.exec(path);
      const batch = m ? book.batches.get(m[1]!) : undefined;
      if (method === 'GET' && batch && !m![2]) {
        await book.poll(batch, ctx, headers);
        return json(200, batchObject(batch));
      }
      if (method === 'GET' && batch && batch.results) {
        return jsonl(
          batch.results.map((r) => ({
            custom_id: r.customId,
            result:
              r.type === 'succeeded'
                ? { type: 'succeeded', message: r.body }
                : r.type === 'errored'
                  ? { type: 'errored', error: { type: 'error', error: errorOf(r.body) } }
                  : { type: r.type },
          })),
        );
      }
      return json(404, { type: 'error', error: { type: 'not_found_error', message: `No such batch route ${method} ${path}` } });
    },
  };
}

/** A failed batch request's `{type, message}`. */
function errorOf(body: unknown): { type: string; message: string } {
  const b = (body ?? {}) as { type?: string; message?: string };
  return { type: b.type ?? 'api_error', message: b.message ?? 'request failed' };
}
