import type OpenAI from 'openai';
import { rethrowing } from '../../session/retry.js';
import type { BatchClient, BatchOutcome, BatchState } from '../../../core/provider.js';
import { chatBody, openaiError, openaiSdk, readChatCompletion, type ChatWire } from './_wire.js';

const ENDPOINT = '/v1/chat/completions';

/**
 * The OpenAI Batch API: the lines are uploaded through `/v1/files` (purpose `batch`), a
 * batch is created on `/v1/chat/completions` with the 24 h window, and its output and
 * error files are read once it has ended. Each line's body is `chatBody`, the live body.
 */
export function openaiBatchClient(clientOf: () => Promise<OpenAI>, wire: ChatWire): BatchClient {
  const call = <T>(fn: (client: OpenAI) => Promise<T>): Promise<T> => rethrowing(async () => fn(await clientOf()), (error) => openaiError(wire, error));
  const fileLines = async (fileId: string | null | undefined): Promise<string[]> => {
    if (!fileId) return [];
    const text = await call(async (client) => (await client.files.content(fileId)).text());
    return text.split('\n').filter((l) => l.trim() !== '');
  };
  return {
    line: ({ customId, request }) =>
      JSON.stringify({ custom_id: customId, method: 'POST', url: ENDPOINT, body: chatBody(wire, request) }),
    async submit(lines) {
      const upload = await (await openaiSdk()).toFile(Buffer.from(`${lines.join('\n')}\n`), 'quorum-batch.jsonl');
      const file = await call((client) => client.files.create({ file: upload, purpose: 'batch' }));
      const batch = await call((client) =>
        client.batches.create({ input_file_id: file.id, endpoint: ENDPOINT, completion_window: '24h', metadata: { source: 'quorum' } }),
      );
      return batch.id;
    },
    async state(remoteId): Promise<BatchState> {
      const b = await call((client) => client.batches.retrieve(remoteId));
      const counts = { total: b.request_counts?.total, done: b.request_counts?.completed, failed: b.request_counts?.failed };
      if (b.status === 'failed') {
        const why = b.errors?.data?.map((e) => e.message ?? e.code).filter(Boolean).join('; ');
        return { status: 'failed', counts, error: why || 'the provider failed the batch' };
      }
      const ended = b.status === 'completed' || b.status === 'expired' || b.status === 'cancelled';
      return { status: ended ? 'ended' : 'in_progress', counts };
    },
    async results(remoteId) {
      const b = await call((client) => client.batches.retrieve(remoteId));
      const lines = [...(await fileLines(b.output_file_id)), ...(await fileLines(b.error_file_id))];
      return lines.map((text) => outcomeOf(wire, text));
    },
  };
}

interface OutputLine {
  custom_id: string;
  response?: { status_code: number; request_id?: string; body?: unknown } | null;
  error?: { code?: string | null; message?: string | null } | null;
}

/** One line of an output or error file: an answer, an HTTP error inside the batch, or a request never run. */
function outcomeOf(wire: ChatWire, text: string): BatchOutcome {
  const line = JSON.parse(text) as OutputLine;
  const customId = line.custom_id;
  const code = line.error?.code ?? '';
  if (code === 'batch_expired') return { customId, type: 'expired' };
  if (code === 'batch_cancelled') return { customId, type: 'canceled' };
  const response = line.response;
  if (response && response.status_code >= 200 && response.status_code < 300) {
    try {
      return { customId, type: 'succeeded', completion: readChatCompletion(wire, response.body, response.request_id) };
    } catch (error) {
      return { customId, type: 'errored', error: error instanceof Error ? error.message : String(error) };
    }
  }
  if (response) {
    const message = (response.body as { error?: { message?: string } } | undefined)?.error?.message ?? 'no message';
    return { customId, type: 'errored', status: response.status_code, error: `${wire.source} answered HTTP ${response.status_code} in the batch: ${message}` };
  }
  return { customId, type: 'errored', error: `${wire.source} failed the request in the batch: ${line.error?.message || code || 'no reason given'}` };
}
