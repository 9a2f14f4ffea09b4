import type Anthropic from '@anthropic-ai/sdk';
import type { MessageBatchIndividualResponse } from '@anthropic-ai/sdk/resources/messages/batches';
import { rethrowing } from '../../session/retry.js';
import type { BatchClient, BatchOutcome, BatchState } from '../../../core/provider.js';
import { anthropicError, messagesBody, readMessage, type MessagesWire } from './_wire.js';

/**
 * Anthropic Message Batches: `requests[{custom_id, params}]` posted to
 * `/v1/messages/batches`, `processing_status` polled until `ended`, then the results
 * JSONL read (`result.type` succeeded | errored | canceled | expired). Each request's
 * `params` is `messagesBody`, the live body.
 */
export function anthropicBatchClient(clientOf: () => Promise<Anthropic>, wire: MessagesWire): BatchClient {
  const call = <T>(fn: (client: Anthropic) => Promise<T>): Promise<T> => rethrowing(async () => fn(await clientOf()), (error) => anthropicError(wire, error));
  return {
    line: ({ customId, request }) => JSON.stringify({ custom_id: customId, params: messagesBody(wire, request) }),
    async submit(lines) {
      // The lines are the API's own request objects; parsed back to hand them to the SDK.
      const requests = lines.map((l) => JSON.parse(l) as Anthropic.Messages.Batches.BatchCreateParams.Request);
      const batch = await call((client) => client.messages.batches.create({ requests }));
      return batch.id;
    },
    async state(remoteId): Promise<BatchState> {
      const b = await call((client) => client.messages.batches.retrieve(remoteId));
      const c = b.request_counts;
      const total = c.processing + c.succeeded + c.errored + c.canceled + c.expired;
      return {
        status: b.processing_status === 'ended' ? 'ended' : 'in_progress',
        counts: { total, done: c.succeeded, failed: c.errored + c.canceled + c.expired },
      };
    },
    async results(remoteId) {
      const out: BatchOutcome[] = [];
      await call(async (client) => {
        for await (const line of await client.messages.batches.results(remoteId)) out.push(outcomeOf(wire, line));
      });
      return out;
    },
  };
}

function outcomeOf(wire: MessagesWire, line: MessageBatchIndividualResponse): BatchOutcome {
  const customId = line.custom_id;
  const result = line.result;
  switch (result.type) {
    case 'succeeded':
      try {
        return { customId, type: 'succeeded', completion: readMessage(wire, result.message) };
      } catch (error) {
        return { customId, type: 'errored', error: error instanceof Error ? error.message : String(error) };
      }
    case 'errored': {
      const inner = result.error.error;
      return { customId, type: 'errored', error: `${wire.source} failed the request in the batch: ${inner.type}: ${inner.message}` };
    }
    default:
      return { customId, type: result.type };
  }
}
