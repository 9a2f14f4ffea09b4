import { QuorumError, UsageError } from '../../core/errors.js';
import type { BatchClient, CompletionRequest, Provider } from '../../core/provider.js';
import type { RunRecord, Store } from '../../store/store.js';
import { batchPriceOf, costOf, type Price } from '../prices.js';
import { judgeIdOf } from '../run.js';
import type { DeferredRequest, JudgeSession } from '../session/session.js';
import { BatchLedger, type BatchRecord, type ItemState } from './ledger.js';

/**
 * `--batch`: a judging run whose requests go through the providers' batch APIs. The
 * strategy (score, compare, rank, a panel) runs several times with the same options:
 *
 * 1. a collecting pass: every session hands over each request it would send (built by
 *    the provider exactly as live, see `SessionOptions.defer`), and sends none;
 * 2. the requests not already waiting in a stored batch are submitted, one batch (or
 *    more, by size) per judge, and each batch is written to the store at once; the run
 *    waits for them (or not, `wait: false`), then records every answer through the
 *    session that deferred it, as a live answer (`recordAnswer`);
 * 3. `layered` strategies (a panel: layer 2 reads layer 1's reviews, the panel is called
 *    where the escalation judge is unsure or split a pair's two orders, the meta judge
 *    reads the last layer) repeat 1-2, one round per layer, until a collecting pass asks nothing new; in a collecting pass
 *    a question whose answer is still to come (`awaiting`) is not final, and nothing that
 *    depends on it is asked;
 * 4. a serving pass: the strategy reads its samples from the store (held: nothing is
 *    sent), so results, outputs and run status come out as after a live run.
 *
 * Requests that failed or expired inside a batch are recorded as a live failure is (or
 * not at all) and are not submitted again by the same command: the next layer goes on
 * without them, as a live panel goes on without a failed neuron; a rerun submits them.
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
  /** A round's requests (round 1, then one per layer of a `layered` run). */
  | { type: 'planned'; round: number; requests: number; waiting: number; batches: number }
  | { type: 'submitted'; remoteId: string; requests: number }
  | { type: 'progress'; done: number; failed: number; total: number; batches: number }
  | { type: 'collected'; remoteId: string; succeeded: number; errored: number; expired: number }
  | { type: 'failed'; remoteId: string; error: string };

/** What the batches of one run did. */
export interface BatchSummary {
  /** Requests this run needed that were not in the store (over every round). */
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
  /** Rounds that submitted or re-attached to batches (a panel: one per layer reached). */
  rounds: number;
}

/** The hooks one pass of the strategy runs with. */
export interface PassHooks {
  /** Collecting passes: where every session hands the requests it would send. */
  defer?: (item: DeferredRequest, session: JudgeSession) => void;
  /** Collecting passes: whether a sample's answer is still to come from a batch (nothing depending on it is asked yet). */
  awaiting?: (cacheKey: string) => boolean;
  hold?: string;
  /** A collecting pass: its results are not final and its events are not progress. */
  collecting: boolean;
  /** The command's first pass (the one that may start the run afresh). */
  first: boolean;
}

/** A judge a batched run may ask, with its list price (answers are charged at its batch price). */
export interface BatchJudge {
  provider: Provider;
  price: Price | undefined;
}

export interface BatchedInput<R extends { run: RunRecord }> {
  store: Store;
  /** Every judge the strategy may ask: one for score, compare and rank; a panel's neurons and helpers. */
  judges: readonly BatchJudge[];
  options: BatchOptions;
  /**
   * Whether questions depend on the answers to others (a panel): then rounds of collect,
   * submit, wait and record repeat until a collecting pass asks nothing new. @default false
   */
  layered?: boolean;
  /** Runs the strategy once with these hooks. */
  pass: (hooks: PassHooks) => Promise<R>;
}

/** A judge of the run, ready for its batches. */
interface Judge {
  provider: Provider;
  judgeId: string;
  client: BatchClient;
  price: Price | undefined;
  batchPrice: Price | undefined;
}

interface Planned {
  judge: Judge;
  /** The session that deferred the request: it records the answer. */
  session: JudgeSession;
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
  const { store, options } = input;
  const judges = new Map<string, Judge>();
  for (const { provider, price } of input.judges) {
    const client = provider.batch;
    if (!client) throw new UsageError(`--batch needs a provider with a batch API (openai, anthropic); ${provider.id} has none`);
    judges.set(judgeIdOf(provider), { provider, judgeId: judgeIdOf(provider), client, price, batchPrice: batchPriceOf(provider.id, price) });
  }
  const emit = options.onEvent ?? (() => {});
  const ledger = new BatchLedger(store);
  const priced = [...judges.values()];
  const summary: BatchSummary = {
    requests: 0,
    submitted: [],
    attached: [],
    succeeded: 0,
    errored: 0,
    expired: 0,
    pending: [],
    costUsd: priced.every((j) => j.batchPrice) ? 0 : null,
    liveCostUsd: priced.every((j) => j.price) ? 0 : null,
    reason: undefined,
    interrupted: false,
    rounds: 0,
  };
  /**
   * Requests this command has had an outcome for (answered, failed, expired, or in a batch
   * that failed): never planned again by it, so no round repeats one (an answer stored as
   * a failure that the cache asks again, a request that expired); a rerun asks them again.
   */
  const settled = new Set<string>();
  let unsubmitted = false;
  let watched = new Set<number>();
  for (;;) {
    // 1. Collect what the run would ask now.
    const planned = new Map<string, Planned>();
    const awaited = new Set<string>();
    const first = summary.rounds === 0;
    const pass = await input.pass({
      collecting: true,
      first,
      awaiting: (cacheKey) => awaited.has(cacheKey),
      defer: ({ group, slots, request }, session) => {
        // The first sample's cache key names the request: unique, 64 characters of hex (within
        // Anthropic's custom_id rule), and it maps straight back to the planned calls.
        const customId = (slots[0] as { cacheKey: string }).cacheKey;
        if (planned.has(customId) || settled.has(customId)) return;
        const judge = judges.get(session.judgeId);
        if (!judge) throw new QuorumError(`--batch: a request for judge ${session.judgeId} that the run did not declare`);
        const line = judge.client.line({ customId, request });
        planned.set(customId, { judge, session, item: { group: { ...group, request: { ...group.request, messages: [] } }, slots }, line });
        for (const s of slots) awaited.add(s.cacheKey);
      },
    });
    if (planned.size === 0) {
      if (first) return { result: pass, batch: summary };
      break;
    }
    summary.rounds++;
    summary.requests += planned.size;
    const round = await submitAndWait(planned, pass.run.id);
    watched = round.watched;
    if (round.unsubmitted) unsubmitted = true;
    // Batches still out (`--no-wait`, Ctrl-C) end the command: the rerun records them and goes on.
    if (!input.layered || watched.size > 0 || stopped()) break;
  }
  summary.interrupted = stopped();
  summary.pending = [...watched].map((id) => (ledger.get(id) as BatchRecord).remoteId);

  // 4. Serve the run from the store.
  const reasons: string[] = [];
  if (summary.pending.length) reasons.push(`waiting in batch ${summary.pending.join(', ')}: rerun this command or \`quorum batches --collect\``);
  if (summary.expired) reasons.push(`${summary.expired} request(s) expired or were canceled in the batch: a rerun submits them again`);
  if (summary.errored) reasons.push(`${summary.errored} request(s) failed in the batch: a rerun submits them again`);
  if (unsubmitted) reasons.push('interrupted before every request was submitted: a rerun submits the rest');
  summary.reason = reasons.length ? reasons.join('; ') : undefined;
  const result = await input.pass({ collecting: false, first: false, hold: summary.reason ?? 'not answered by the batch' });
  if (summary.pending.length || summary.expired || unsubmitted) store.setRunStatus(result.run.id, 'interrupted');
  return { result, batch: summary };

  /** 2-3: one round's requests re-attached or submitted, waited for and recorded; the batches still out. */
  async function submitAndWait(planned: Map<string, Planned>, runId: number): Promise<{ watched: Set<number>; unsubmitted: boolean }> {
    // 2. Re-attach to batches already holding some of them; submit the rest, per judge.
    const watching = new Set<number>();
    const fresh = new Map<string, string[]>();
    let total = 0;
    for (const [customId, p] of planned) {
      const batchId = ledger.waiting(p.judge.judgeId).get(customId);
      if (batchId !== undefined) watching.add(batchId);
      else {
        total++;
        fresh.set(p.judge.judgeId, [...(fresh.get(p.judge.judgeId) ?? []), customId]);
      }
    }
    for (const id of watching) summary.attached.push((ledger.get(id) as BatchRecord).remoteId);
    emit({ type: 'planned', round: summary.rounds, requests: planned.size, waiting: planned.size - total, batches: watching.size });
    const maxRequests = options.maxRequests ?? 10_000;
    const maxBytes = options.maxBytes ?? 150 * 1024 * 1024;
    let submitted = 0;
    for (const [judgeId, ids] of fresh) {
      const judge = judges.get(judgeId) as Judge;
      for (let start = 0; start < ids.length && !stopped(); ) {
        const chunk: string[] = [];
        let bytes = 0;
        while (start < ids.length && chunk.length < maxRequests) {
          const line = (planned.get(ids[start] as string) as Planned).line;
          if (chunk.length > 0 && bytes + line.length > maxBytes) break;
          bytes += line.length + 1;
          chunk.push(ids[start++] as string);
        }
        const remoteId = await judge.client.submit(chunk.map((id) => (planned.get(id) as Planned).line));
        // Written before anything else can fail: a process killed from here on re-attaches.
        const id = ledger.add({
          provider: judge.provider.id,
          judgeId,
          runId,
          remoteId,
          cwd: options.cwd ?? null,
          items: chunk.map((customId) => ({ customId, cacheKeys: (planned.get(customId) as Planned).item.slots.map((s) => s.cacheKey) })),
        });
        watching.add(id);
        submitted += chunk.length;
        summary.submitted.push(remoteId);
        emit({ type: 'submitted', remoteId, requests: chunk.length });
      }
    }
    for (const p of planned.values()) p.line = ''; // the bodies are in the provider's hands now

    // 3. Wait, collecting each batch as it ends.
    const collect = async (batch: BatchRecord) => {
      const judge = judges.get(batch.judgeId);
      if (!judge) return; // another judge's batch: its own command collects it
      const outcomes = await judge.client.results(batch.remoteId);
      const states = new Map<string, ItemState>();
      let cost: number | null = judge.batchPrice ? 0 : null;
      const startedAt = batch.submittedAt;
      for (const outcome of outcomes) {
        const p = planned.get(outcome.customId);
        if (!p) continue; // another command's request: it stays waiting for that command
        const meta = { batch: batch.remoteId };
        if (outcome.type !== 'expired' && outcome.type !== 'canceled' && store.cachedCall(p.item.slots[0]!.cacheKey, 'none')) {
          // Another process collected this batch first: its answer is stored already, once.
        } else if (outcome.type === 'succeeded') {
          const calls = await p.session.recordAnswer(p.item, outcome.completion, { price: judge.batchPrice, startedAt, meta });
          const { inputTokens, outputTokens } = outcome.completion.usage;
          const c = calls.reduce((s, call) => s + (call.costUsd ?? 0), 0);
          if (cost !== null) cost += c;
          if (summary.costUsd !== null) summary.costUsd += c;
          if (summary.liveCostUsd !== null) summary.liveCostUsd += costOf(judge.price, inputTokens, outputTokens) ?? 0;
          summary.succeeded++;
        } else if (outcome.type === 'errored') {
          p.session.recordError(p.item, new Error(outcome.error), startedAt);
          summary.errored++;
        } else summary.expired++;
        settled.add(outcome.customId);
        states.set(outcome.customId, outcome.type);
        planned.delete(outcome.customId);
      }
      // A request of ours the results do not mention was never run: asked again next time.
      for (const item of ledger.items(batch.id)) {
        if (item.state !== 'submitted' || states.has(item.customId) || !planned.has(item.customId)) continue;
        states.set(item.customId, 'expired');
        planned.delete(item.customId);
        settled.add(item.customId);
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
      for (const id of [...watching]) {
        const batch = ledger.get(id) as BatchRecord;
        const client = (judges.get(batch.judgeId) as Judge).client;
        const state = batch.status === 'in_progress' ? await client.state(batch.remoteId) : { status: 'ended' as const, counts: {} };
        if (state.status === 'failed') {
          // The provider rejected the whole batch: its requests are asked again next time.
          ledger.setStatus(id, 'failed', state.error ?? null);
          emit({ type: 'failed', remoteId: batch.remoteId, error: state.error ?? 'failed' });
          for (const item of ledger.items(id)) if (planned.delete(item.customId)) settled.add(item.customId);
          watching.delete(id);
        } else if (state.status === 'ended') {
          if (batch.status === 'in_progress') ledger.setStatus(id, 'ended');
          await collect(batch);
          watching.delete(id);
        } else {
          done += state.counts.done ?? 0;
          failed += state.counts.failed ?? 0;
          total += state.counts.total ?? batch.requests;
        }
      }
      if (watching.size === 0 || !wait || stopped()) break;
      emit({ type: 'progress', done, failed, total, batches: watching.size });
      await sleep(options.pollMs ?? 30_000);
    }
    return { watched: watching, unsubmitted: submitted < total };
  }
}
