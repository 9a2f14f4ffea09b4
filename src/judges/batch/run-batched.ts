import { UsageError } from '../../core/errors.js';
import type { CompletionRequest, Provider } from '../../core/provider.js';
import type { RunRecord, Store } from '../../store/store.js';
import { batchPriceOf, costOf, type Price } from '../prices.js';
import { judgeIdOf } from '../run.js';
import type { DeferredRequest, JudgeSession } from '../session/session.js';
import { BatchLedger, type BatchRecord, type ItemState } from './ledger.js';

/**
 * `--batch`: a judging run whose requests go through the provider's batch API. The
 * strategy (score, compare, rank) runs twice with the same options:
 *
 * 1. a collecting pass: the session hands over every request it would send (built by the
 *    provider exactly as live, see `SessionOptions.defer`), and sends none;
 * 2. the requests not already waiting in a stored batch are submitted, and each batch is
 *    written to the store at once; the run waits for them (or not, `wait: false`), then
 *    records every answer through the session as a live answer (`recordAnswer`);
 * 3. a serving pass: the strategy reads its samples from the store (held: nothing is
 *    sent), so results, outputs and run status come out as after a live run.
 *
 * Only strategies whose questions do not depend on earlier answers can run so.
 */

export interface BatchOptions {
  /** Wait for the batches to end (polling), or return once they are submitted. @default true */
  wait?: boolean;
  /** Between two polls, ms. @default 30000 */
  pollMs?: number;
  /** Requests per submitted batch (OpenAI takes 50,000, Anthropic 100,000). @default 10000 */
  maxRequests?: number;
  /** Bytes of request lines per submitted batch (OpenAI's file limit is 200 MB, Anthropic's 256 MB). @default 150 MB */
  maxBytes?: number;
  /** Working directory stored with each batch, so `quorum batches --collect` can rerun the command. */
  cwd?: string;
  onEvent?: (event: BatchEvent) => void;
}

export type BatchEvent =
  | { type: 'planned'; requests: number; waiting: number; batches: number }
  | { type: 'submitted'; remoteId: string; requests: number }
  | { type: 'progress'; done: number; failed: number; total: number; batches: number }
  | { type: 'collected'; remoteId: string; succeeded: number; errored: number; expired: number }
  | { type: 'failed'; remoteId: string; error: string };

/** What the batches of one run did. */
export interface BatchSummary {
  /** Requests this run needed that were not in the store. */
  requests: number;
  /** Batches submitted now, and batches from an earlier run this one re-attached to. */
  submitted: string[];
  attached: string[];
  /** Requests answered, failed inside the batch, and never run (expired, canceled). */
  succeeded: number;
  errored: number;
  expired: number;
  /** Batches still processing when the command returned. */
  pending: string[];
  /** USD at batch prices for the answers recorded now, and what the same tokens cost live; null without a price. */
  costUsd: number | null;
  liveCostUsd: number | null;
  /** Why samples are missing from the results, when some are. */
  reason: string | undefined;
  /** Stopped (Ctrl-C) while collecting, submitting or waiting. */
  interrupted: boolean;
}

/** The hooks one pass of the strategy runs with. */
export interface PassHooks {
  defer?: (item: DeferredRequest) => void;
  hold?: string;
  /** The collecting pass: its results are not final and its events are not progress. */
  collecting: boolean;
  onSession: (session: JudgeSession) => void;
}

export interface BatchedInput<R extends { run: RunRecord }> {
  store: Store;
  provider: Provider;
  /** The judge's list price; answers are charged at its batch price. */
  price: Price | undefined;
  options: BatchOptions;
  /** Runs the strategy once with these hooks. */
  pass: (hooks: PassHooks) => Promise<R>;
}

interface Planned {
  /** The request without its content (images dropped once the line is written). */
  item: Omit<DeferredRequest, 'request'> & { group: DeferredRequest['group'] & { request: CompletionRequest } };
  line: string;
}

/** The handle of a batched run: its result promise, and `stop()` to stop waiting (Ctrl-C). */
export function runBatched<R extends { run: RunRecord }>(input: BatchedInput<R>): { done: Promise<{ result: R; batch: BatchSummary }>; stop(): void } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  return { done: batched(input, () => stopped, sleep), stop };
}

async function batched<R extends { run: RunRecord }>(
  input: BatchedInput<R>,
  stopped: () => boolean,
  sleep: (ms: number) => Promise<void>,
): Promise<{ result: R; batch: BatchSummary }> {
  const { store, provider, options } = input;
  const client = provider.batch;
  if (!client) throw new UsageError(`--batch needs a provider with a batch API (openai, anthropic); ${provider.id} has none`);
  const emit = options.onEvent ?? (() => {});
  const ledger = new BatchLedger(store);
  const judgeId = judgeIdOf(provider);
  const batchPrice = batchPriceOf(provider.id, input.price);

  // 1. Collect what the run would ask.
  const planned = new Map<string, Planned>();
  let session: JudgeSession | undefined;
  const first = await input.pass({
    collecting: true,
    onSession: (s) => (session = s),
    defer: ({ group, slots, request }) => {
      // The first sample's cache key names the request: unique, 64 characters of hex (within
      // Anthropic's custom_id rule), and it maps straight back to the planned calls.
      const customId = (slots[0] as { cacheKey: string }).cacheKey;
      if (planned.has(customId)) return;
      const line = client.line({ customId, request });
      planned.set(customId, { item: { group: { ...group, request: { ...group.request, messages: [] } }, slots }, line });
    },
  });
  const summary: BatchSummary = {
    requests: planned.size,
    submitted: [],
    attached: [],
    succeeded: 0,
    errored: 0,
    expired: 0,
    pending: [],
    costUsd: batchPrice ? 0 : null,
    liveCostUsd: input.price ? 0 : null,
    reason: undefined,
    interrupted: false,
  };
  if (planned.size === 0) return { result: first, batch: summary };
  const runId = first.run.id;

  // 2. Re-attach to batches already holding some of them; submit the rest.
  const waiting = ledger.waiting(judgeId);
  const watched = new Set<number>();
  const fresh: string[] = [];
  for (const id of planned.keys()) {
    const batchId = waiting.get(id);
    if (batchId === undefined) fresh.push(id);
    else watched.add(batchId);
  }
  for (const id of watched) summary.attached.push((ledger.get(id) as BatchRecord).remoteId);
  emit({ type: 'planned', requests: planned.size, waiting: planned.size - fresh.length, batches: watched.size });
  const maxRequests = options.maxRequests ?? 10_000;
  const maxBytes = options.maxBytes ?? 150 * 1024 * 1024;
  let submittedAll = 0;
  for (let start = 0; start < fresh.length && !stopped(); ) {
    const ids: string[] = [];
    let bytes = 0;
    while (start < fresh.length && ids.length < maxRequests) {
      const line = (planned.get(fresh[start] as string) as Planned).line;
      if (ids.length > 0 && bytes + line.length > maxBytes) break;
      bytes += line.length + 1;
      ids.push(fresh[start++] as string);
    }
    const remoteId = await client.submit(ids.map((id) => (planned.get(id) as Planned).line));
    // Written before anything else can fail: a process killed from here on re-attaches.
    const id = ledger.add({
      provider: provider.id,
      judgeId,
      runId,
      remoteId,
      cwd: options.cwd ?? null,
      items: ids.map((customId) => ({ customId, cacheKeys: (planned.get(customId) as Planned).item.slots.map((s) => s.cacheKey) })),
    });
    watched.add(id);
    submittedAll += ids.length;
    summary.submitted.push(remoteId);
    emit({ type: 'submitted', remoteId, requests: ids.length });
  }
  for (const p of planned.values()) p.line = ''; // the bodies are in the provider's hands now

  // 3. Wait, collecting each batch as it ends.
  const collect = async (batch: BatchRecord) => {
    const outcomes = await client.results(batch.remoteId);
    const states = new Map<string, ItemState>();
    let cost: number | null = batchPrice ? 0 : null;
    const startedAt = batch.submittedAt;
    for (const outcome of outcomes) {
      const p = planned.get(outcome.customId);
      if (!p) continue; // another command's request: it stays waiting for that command
      const meta = { batch: batch.remoteId };
      if (outcome.type !== 'expired' && outcome.type !== 'canceled' && store.cachedCall(p.item.slots[0]!.cacheKey, 'none')) {
        // Another process collected this batch first: its answer is stored already, once.
      } else if (outcome.type === 'succeeded') {
        const calls = await (session as JudgeSession).recordAnswer(p.item, outcome.completion, { price: batchPrice, startedAt, meta });
        const { inputTokens, outputTokens } = outcome.completion.usage;
        const c = calls.reduce((s, call) => s + (call.costUsd ?? 0), 0);
        if (cost !== null) cost += c;
        if (summary.costUsd !== null) summary.costUsd += c;
        if (summary.liveCostUsd !== null) summary.liveCostUsd += costOf(input.price, inputTokens, outputTokens) ?? 0;
        summary.succeeded++;
      } else if (outcome.type === 'errored') {
        (session as JudgeSession).recordError(p.item, new Error(outcome.error), startedAt);
        summary.errored++;
      } else summary.expired++;
      states.set(outcome.customId, outcome.type);
      planned.delete(outcome.customId);
    }
    // A request of ours the results do not mention was never run: asked again next time.
    for (const item of ledger.items(batch.id)) {
      if (item.state !== 'submitted' || states.has(item.customId) || !planned.has(item.customId)) continue;
      states.set(item.customId, 'expired');
      planned.delete(item.customId);
      summary.expired++;
    }
    ledger.settle(batch.id, states, cost);
    const after = ledger.get(batch.id) as BatchRecord;
    emit({ type: 'collected', remoteId: batch.remoteId, succeeded: after.succeeded, errored: after.errored, expired: after.expired + after.canceled });
  };
  const wait = options.wait ?? true;
  for (;;) {
    let done = 0;
    let failed = 0;
    let total = 0;
    for (const id of [...watched]) {
      const batch = ledger.get(id) as BatchRecord;
      const state = batch.status === 'in_progress' ? await client.state(batch.remoteId) : { status: 'ended' as const, counts: {} };
      if (state.status === 'failed') {
        // The provider rejected the whole batch: its requests are asked again next time.
        ledger.setStatus(id, 'failed', state.error ?? null);
        emit({ type: 'failed', remoteId: batch.remoteId, error: state.error ?? 'failed' });
        watched.delete(id);
      } else if (state.status === 'ended') {
        if (batch.status === 'in_progress') ledger.setStatus(id, 'ended');
        await collect(batch);
        watched.delete(id);
      } else {
        done += state.counts.done ?? 0;
        failed += state.counts.failed ?? 0;
        total += state.counts.total ?? batch.requests;
      }
    }
    if (watched.size === 0 || !wait || stopped()) break;
    emit({ type: 'progress', done, failed, total, batches: watched.size });
    await sleep(options.pollMs ?? 30_000);
  }
  summary.interrupted = stopped();
  summary.pending = [...watched].map((id) => (ledger.get(id) as BatchRecord).remoteId);

  // 4. Serve the run from the store.
  const reasons: string[] = [];
  if (summary.pending.length) reasons.push(`waiting in batch ${summary.pending.join(', ')}: rerun this command or \`quorum batches --collect\``);
  if (summary.expired) reasons.push(`${summary.expired} request(s) expired or were canceled in the batch: a rerun submits them again`);
  if (summary.errored) reasons.push(`${summary.errored} request(s) failed in the batch: a rerun submits them again`);
  if (submittedAll < fresh.length) reasons.push('interrupted before every request was submitted: a rerun submits the rest');
  summary.reason = reasons.length ? reasons.join('; ') : undefined;
  const result = await input.pass({ collecting: false, onSession: () => {}, hold: summary.reason ?? 'not answered by the batch' });
  if (summary.pending.length || summary.expired || submittedAll < fresh.length) store.setRunStatus(result.run.id, 'interrupted');
  return { result, batch: summary };
}

